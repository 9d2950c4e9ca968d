import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ApiError } from '../../src/machinery/errors.ts';
import { buildTable, cellNames, DEFAULT_COLUMNS, humanDuration } from '../../src/machinery/table.ts';
import type { ColumnInfo, KindInfo, KObject } from '../../src/machinery/types.ts';

const tables = parse(readFileSync(new URL('../../openapi/tables.yaml', import.meta.url), 'utf8')) as Record<string, ColumnInfo[]>;
const NOW = new Date('2024-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace('.000Z', 'Z');

function kind(resource: string, k: string, namespaced = true): KindInfo {
  const dot = resource.indexOf('.');
  const plural = dot < 0 ? resource : resource.slice(0, dot);
  const group = dot < 0 ? '' : resource.slice(dot + 1);
  return {
    group, version: 'v1', kind: k, plural, singular: k.toLowerCase(), namespaced, verbs: [], shortNames: [], categories: [],
    subresources: [], definition: '', listKind: `${k}List`, columns: tables[resource] ?? [], selectableFields: [],
  };
}

/** cells of one object's row */
function cells(resource: string, k: string, obj: Record<string, unknown>): unknown[] {
  const o = { metadata: { name: 'x', creationTimestamp: ago(300) }, ...obj } as KObject;
  return buildTable(kind(resource, k), [o], { now: NOW }).rows![0].cells;
}

/** cells by column name */
function row(resource: string, k: string, obj: Record<string, unknown>): Record<string, unknown> {
  const c = cells(resource, k, obj);
  return Object.fromEntries(tables[resource].map((col, i) => [col.name, c[i]]));
}

test('tables.yaml covers every served and coming kind with well-formed columns', () => {
  const wanted = ['namespaces', 'configmaps', 'secrets', 'serviceaccounts', 'nodes', 'events', 'events.events.k8s.io',
    'resourcequotas', 'limitranges', 'roles.rbac.authorization.k8s.io', 'rolebindings.rbac.authorization.k8s.io',
    'clusterroles.rbac.authorization.k8s.io', 'clusterrolebindings.rbac.authorization.k8s.io', 'poddisruptionbudgets.policy',
    'networkpolicies.networking.k8s.io', 'ingresses.networking.k8s.io', 'ingressclasses.networking.k8s.io',
    'horizontalpodautoscalers.autoscaling', 'priorityclasses.scheduling.k8s.io', 'leases.coordination.k8s.io',
    'pods', 'services', 'endpoints', 'persistentvolumeclaims', 'persistentvolumes', 'storageclasses.storage.k8s.io',
    'deployments.apps', 'replicasets.apps', 'statefulsets.apps', 'daemonsets.apps', 'jobs.batch', 'cronjobs.batch',
    'endpointslices.discovery.k8s.io'];
  for (const r of wanted) assert.ok(Array.isArray(tables[r]) && tables[r].length >= 2, r);
  const known = new Set(cellNames());
  for (const [r, cols] of Object.entries(tables)) {
    for (const c of cols) {
      assert.equal(typeof c.name, 'string', r);
      assert.ok(['string', 'integer', 'boolean', 'date', 'number'].includes(c.type), `${r} ${c.name} ${c.type}`);
      assert.ok(c.description && c.description.length > 5, `${r} ${c.name} description`);
      assert.ok(c.priority === undefined || c.priority === 1, `${r} ${c.name}`);
      assert.ok(/^\.[A-Za-z]/.test(c.path) || known.has(c.path.slice(1)), `${r} ${c.name}: unknown path ${c.path}`);
    }
    assert.equal(cols.filter((c) => c.format === 'name').length, 1, `${r}: one name column`);
  }
});

test('column names are the ones kubectl shows', () => {
  const names = (r: string, wide = false) => tables[r].filter((c) => wide || !c.priority).map((c) => c.name.toUpperCase()).join(' ');
  assert.equal(names('pods'), 'NAME READY STATUS RESTARTS AGE');
  assert.equal(names('pods', true), 'NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES');
  assert.equal(names('deployments.apps'), 'NAME READY UP-TO-DATE AVAILABLE AGE');
  assert.equal(names('deployments.apps', true), 'NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR');
  assert.equal(names('services', true), 'NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR');
  assert.equal(names('events'), 'LAST SEEN TYPE REASON OBJECT MESSAGE');
  assert.equal(names('nodes'), 'NAME STATUS ROLES AGE VERSION');
  assert.equal(names('secrets'), 'NAME TYPE DATA AGE');
  assert.equal(names('configmaps'), 'NAME DATA AGE');
  assert.equal(names('jobs.batch'), 'NAME STATUS COMPLETIONS DURATION AGE');
  assert.equal(names('cronjobs.batch'), 'NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE');
  assert.equal(names('roles.rbac.authorization.k8s.io'), 'NAME CREATED AT');
  assert.equal(names('persistentvolumeclaims'), 'NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE');
});

test('humanDuration matches apimachinery', () => {
  const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h, y = 365 * d;
  const cases: Array<[number, string]> = [
    [0, '0s'], [-1500, '0s'], [-2000, '<invalid>'], [59 * s, '59s'], [119 * s, '119s'], [120 * s, '2m'],
    [3 * m + 2 * s, '3m2s'], [9 * m + 59 * s, '9m59s'], [10 * m + 30 * s, '10m'], [179 * m, '179m'], [3 * h, '3h'],
    [3 * h + 5 * m, '3h5m'], [7 * h + 59 * m, '7h59m'], [8 * h + 30 * m, '8h'], [47 * h, '47h'], [2 * d + 3 * h, '2d3h'],
    [2 * d, '2d'], [7 * d + 23 * h, '7d23h'], [8 * d, '8d'], [729 * d, '729d'], [2 * y, '2y'], [2 * y + 10 * d, '2y10d'],
    [8 * y, '8y'], [10 * y + 100 * d, '10y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('a list Table has the apiserver shape: definitions, cells, PartialObjectMetadata rows', () => {
  const cms: KObject[] = [
    { metadata: { name: 'a', namespace: 'ns', resourceVersion: '7', creationTimestamp: ago(300) }, data: { x: '1', y: '2' }, binaryData: { z: 'AA==' } },
    { metadata: { name: 'b', namespace: 'ns' } },
  ];
  const t = buildTable(kind('configmaps', 'ConfigMap'), cms, { now: NOW, listMeta: { resourceVersion: '42', continue: 'tok' } });
  assert.deepEqual(t, {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: '42', continue: 'tok' },
    columnDefinitions: [
      { name: 'Name', type: 'string', format: 'name', description: DEFAULT_COLUMNS[0].description, priority: 0 },
      { name: 'Data', type: 'string', format: '', description: tables.configmaps[1].description, priority: 0 },
      { name: 'Age', type: 'string', format: '', description: DEFAULT_COLUMNS[1].description, priority: 0 },
    ],
    rows: [
      { cells: ['a', 3, '5m'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cms[0].metadata } },
      { cells: ['b', 0, '<unknown>'], object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: cms[1].metadata } },
    ],
  });
  assert.ok(tables.configmaps[1].description!.startsWith('Data contains the configuration data.'));
  assert.deepEqual(JSON.parse(JSON.stringify(t)).rows[0].cells, ['a', 3, '5m']);
});

test('includeObject, single objects and the v1beta1 Table', () => {
  const k = kind('secrets', 'Secret');
  const s: KObject = { metadata: { name: 's', resourceVersion: '9', creationTimestamp: ago(10) }, type: 'Opaque', data: { a: 'YQ==' } };
  const none = buildTable(k, [s], { now: NOW, includeObject: 'None' });
  assert.equal(none.rows![0].object, null);
  assert.equal(JSON.stringify(none.rows![0]), '{"cells":["s","Opaque",1,"10s"],"object":null}');
  const full = buildTable(k, [s], { now: NOW, includeObject: 'Object' });
  assert.deepEqual(full.rows![0].object, { apiVersion: 'v1', kind: 'Secret', ...s });
  const typed = { apiVersion: 'v1', kind: 'Secret', ...s };
  assert.equal(buildTable(k, [typed], { includeObject: 'Object' }).rows![0].object, typed);
  const single = buildTable(k, s, { now: NOW });
  assert.deepEqual(single.metadata, { resourceVersion: '9' });
  assert.equal(single.rows!.length, 1);
  const beta = buildTable(k, [s], { apiVersion: 'meta.k8s.io/v1beta1' });
  assert.equal(beta.apiVersion, 'meta.k8s.io/v1beta1');
  assert.equal((beta.rows![0].object as KObject).apiVersion, 'meta.k8s.io/v1beta1');
  const bookmark: KObject = { metadata: { resourceVersion: '10', annotations: { 'k8s.io/initial-events-end': 'true' } } };
  assert.equal((buildTable(k, [bookmark], { includeObject: 'None' }).rows![0].object as KObject).kind, 'PartialObjectMetadata');
  try {
    buildTable(k, [s], { includeObject: 'All' });
    assert.fail('expected 400');
  } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(e.code, 400);
    assert.equal(e.message, 'unrecognized includeObject value: "All"');
  }
});

test('kinds without a printer use the default convertor: Created At, and null rows when empty', () => {
  const k = kind('roles.rbac.authorization.k8s.io', 'Role');
  const t = buildTable(k, [{ metadata: { name: 'r', creationTimestamp: '2024-06-01T11:00:00.123Z' } }, { metadata: { name: 'q' } }], { now: NOW });
  assert.deepEqual(t.rows!.map((r) => r.cells), [['r', '2024-06-01T11:00:00Z'], ['q', '0001-01-01T00:00:00Z']]);
  assert.equal(t.columnDefinitions[1].type, 'date');
  assert.equal(buildTable(k, [], {}).rows, null);
  assert.deepEqual(buildTable(kind('configmaps', 'ConfigMap'), [], {}).rows, []);
  const bare = { ...k, columns: [] };
  assert.deepEqual(buildTable(bare, [{ metadata: { name: 'z', creationTimestamp: '2020-01-02T03:04:05Z' } }], {}).rows![0].cells, ['z', '2020-01-02T03:04:05Z']);
});

test('pod READY, STATUS and RESTARTS as printPod computes them', () => {
  const running = row('pods', 'Pod', {
    spec: { nodeName: 'node-a', containers: [{ name: 'a' }, { name: 'b' }] },
    status: {
      phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }],
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        { name: 'a', ready: true, restartCount: 0, state: { running: {} } },
        { name: 'b', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: ago(3600) } } },
      ],
    },
  });
  assert.deepEqual(running, { Name: 'x', Ready: '2/2', Status: 'Running', Restarts: '2 (60m ago)', Age: '5m', IP: '10.0.0.5', Node: 'node-a', 'Nominated Node': '<none>', 'Readiness Gates': '<none>' });

  const st = (status: Record<string, unknown>, spec: Record<string, unknown> = { containers: [{ name: 'c' }] }, meta: Record<string, unknown> = {}) =>
    row('pods', 'Pod', { metadata: { name: 'x', creationTimestamp: ago(300), ...meta }, spec, status });
  const crash = st({ phase: 'Running', containerStatuses: [{ name: 'c', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(30) } } }] });
  assert.deepEqual([crash.Ready, crash.Status, crash.Restarts], ['0/1', 'CrashLoopBackOff', '5 (30s ago)']);
  assert.equal(st({ phase: 'Pending' }).Status, 'Pending');
  assert.equal(st({ phase: 'Pending' }).IP, '<none>');
  assert.equal(st({ phase: 'Pending', reason: 'Evicted' }).Status, 'Evicted');
  const init = { containers: [{ name: 'c' }], initContainers: [{ name: 'i1' }, { name: 'i2' }] };
  assert.equal(st({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { running: {} } }] }, init).Status, 'Init:0/2');
  assert.equal(st({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 0 } } }, { name: 'i2', state: { waiting: { reason: 'PodInitializing' } } }] }, init).Status, 'Init:1/2');
  assert.equal(st({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 1, reason: 'Error' } } }] }, init).Status, 'Init:Error');
  assert.equal(st({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 3 } } }] }, init).Status, 'Init:ExitCode:3');
  assert.equal(st({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 137, signal: 9 } } }] }, init).Status, 'Init:Signal:9');
  assert.equal(st({ phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { waiting: { reason: 'ImagePullBackOff' } } }] }, init).Status, 'Init:ImagePullBackOff');
  assert.equal(st({ phase: 'Running', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 2 } } }] }).Status, 'ExitCode:2');
  assert.equal(st({ phase: 'Running', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 143, signal: 15 } } }] }).Status, 'Signal:15');
  assert.equal(st({ phase: 'Running' }, { containers: [{ name: 'c' }] }, { deletionTimestamp: ago(1) }).Status, 'Terminating');
  assert.equal(st({ phase: 'Succeeded' }, { containers: [{ name: 'c' }] }, { deletionTimestamp: ago(1) }).Status, 'Succeeded');
  assert.equal(st({ phase: 'Running', reason: 'NodeLost' }, { containers: [{ name: 'c' }] }, { deletionTimestamp: ago(1) }).Status, 'Unknown');
  assert.equal(st({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }).Status, 'SchedulingGated');
  const two = { containers: [{ name: 'a' }, { name: 'b' }] };
  assert.equal(st({ phase: 'Running', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }, { name: 'b', ready: true, state: { running: {} } }] }, two).Status, 'NotReady');
  assert.equal(st({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } }, { name: 'b', ready: true, state: { running: {} } }] }, two).Status, 'Running');
  // A restartable init container (sidecar) counts in READY and RESTARTS.
  const sidecar = st({
    phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }],
    initContainerStatuses: [{ name: 'sc', started: true, ready: true, restartCount: 1, state: { running: {} } }],
    containerStatuses: [{ name: 'c', ready: true, restartCount: 0, state: { running: {} } }],
  }, { initContainers: [{ name: 'sc', restartPolicy: 'Always' }], containers: [{ name: 'c' }] });
  assert.deepEqual([sidecar.Ready, sidecar.Status, sidecar.Restarts], ['2/2', 'Running', '1']);
  const gates = st({ phase: 'Running', conditions: [{ type: 'x', status: 'True' }, { type: 'y', status: 'False' }] }, { containers: [{ name: 'c' }], readinessGates: [{ conditionType: 'x' }, { conditionType: 'y' }] });
  assert.equal(gates['Readiness Gates'], '1/2');
});

test('finished pods carry the Completed row condition', () => {
  const k = kind('pods', 'Pod');
  const ok = buildTable(k, [{ metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Succeeded', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } }], { now: NOW });
  assert.deepEqual(ok.rows![0].conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  assert.equal(ok.rows![0].cells[2], 'Completed');
  assert.deepEqual(Object.keys(ok.rows![0]), ['cells', 'conditions', 'object']);
  const failed = buildTable(k, [{ metadata: { name: 'p' }, status: { phase: 'Failed' } }], { now: NOW });
  assert.deepEqual(failed.rows![0].conditions, [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
  assert.equal(buildTable(k, [{ metadata: { name: 'p' }, status: { phase: 'Running' } }], {}).rows![0].conditions, undefined);
});

test('services: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), SELECTOR', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => cells('services', 'Service', { metadata: { name: 's', creationTimestamp: ago(60) }, spec, status });
  assert.deepEqual(svc({ type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }], selector: { 'k8s-app': 'kube-dns' } }),
    ['s', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP', '60s', 'k8s-app=kube-dns']);
  assert.deepEqual(svc({ type: 'NodePort', clusterIPs: ['10.96.1.1'], externalIPs: ['1.2.3.4'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] }).slice(1, 5),
    ['NodePort', '10.96.1.1', '1.2.3.4', '80:30080/TCP']);
  assert.equal(svc({ type: 'LoadBalancer', ports: [{ port: 80 }] })[3], '<pending>');
  assert.equal(svc({ type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ hostname: 'lb.example' }, { ip: '5.6.7.8' }] } })[3], '5.6.7.8,lb.example');
  assert.equal(svc({ type: 'LoadBalancer', externalIPs: ['9.9.9.9'] }, { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } })[3], '5.6.7.8,9.9.9.9');
  assert.deepEqual(svc({ type: 'ExternalName', externalName: 'db.example.com' }).slice(1, 5), ['ExternalName', '<none>', 'db.example.com', '<none>']);
  assert.equal(svc({ type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] })[2], 'None');
  assert.equal(svc({ type: 'ClusterIP' })[6], '<none>');
});

test('nodes: STATUS, ROLES, VERSION and the wide columns', () => {
  const n = row('nodes', 'Node', {
    metadata: { name: 'edge-1', creationTimestamp: ago(86400 * 3), labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/': '' } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
      addresses: [{ type: 'Hostname', address: 'edge-1' }, { type: 'InternalIP', address: '192.168.1.10' }],
      nodeInfo: { kubeletVersion: 'v1.36.0', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'docker://27.0.1' },
    },
  });
  assert.deepEqual(n, {
    Name: 'edge-1', Status: 'Ready,SchedulingDisabled', Roles: 'control-plane,worker', Age: '3d', Version: 'v1.36.0',
    'Internal-IP': '192.168.1.10', 'External-IP': '<none>', 'OS-Image': 'Debian GNU/Linux 12', 'Kernel-Version': '6.1.0', 'Container-Runtime': 'docker://27.0.1',
  });
  const bare = row('nodes', 'Node', { status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } });
  assert.deepEqual([bare.Status, bare.Roles, bare.Version, bare['OS-Image']], ['NotReady', '<none>', '', '<unknown>']);
  assert.equal(row('nodes', 'Node', {}).Status, 'Unknown');
});

test('events in both APIs print LAST SEEN, OBJECT, SOURCE and COUNT the same way', () => {
  const core = row('events', 'Event', {
    metadata: { name: 'web-1.17a', creationTimestamp: ago(600) },
    firstTimestamp: ago(600), lastTimestamp: ago(120), count: 3, type: 'Warning', reason: 'BackOff', message: ' Back-off restarting \n',
    involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{web}' }, source: { component: 'kubelet', host: 'node-a' },
  });
  assert.deepEqual(core, {
    'Last Seen': '2m', Type: 'Warning', Reason: 'BackOff', Object: 'pod/web-1', Subobject: 'spec.containers{web}',
    Source: 'kubelet, node-a', Message: 'Back-off restarting', 'First Seen': '10m', Count: 3, Name: 'web-1.17a',
  });
  const v1 = row('events.events.k8s.io', 'Event', {
    apiVersion: 'events.k8s.io/v1', metadata: { name: 'd.1' }, eventTime: '2024-06-01T11:59:00.000000Z', type: 'Normal', reason: 'ScalingReplicaSet',
    regarding: { kind: 'Deployment', name: 'web' }, note: 'Scaled up', reportingController: 'deployment-controller', reportingInstance: '',
  });
  assert.deepEqual(v1, {
    'Last Seen': '60s', Type: 'Normal', Reason: 'ScalingReplicaSet', Object: 'deployment/web', Subobject: '',
    Source: 'deployment-controller', Message: 'Scaled up', 'First Seen': '60s', Count: 1, Name: 'd.1',
  });
  const series = row('events', 'Event', { eventTime: ago(300), series: { count: 4, lastObservedTime: ago(10) }, involvedObject: { kind: 'Node' }, reportingComponent: 'k2d', reportingInstance: 'host1' });
  assert.deepEqual([series['Last Seen'], series['First Seen'], series.Count, series.Object, series.Source], ['10s', '5m', 4, 'node', 'k2d, host1']);
  assert.equal(row('events', 'Event', {})['Last Seen'], '<unknown>');
});

test('workloads: deployments, replicasets, statefulsets, daemonsets', () => {
  const template = { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'side', image: 'busybox' }] } };
  assert.deepEqual(cells('deployments.apps', 'Deployment', {
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template }, status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
  }), ['x', '2/3', 3, 2, '5m', 'web,side', 'nginx:1.27,busybox', 'app=web']);
  assert.deepEqual(cells('deployments.apps', 'Deployment', { spec: {} }), ['x', '0/1', 0, 0, '5m', '', '', '']);
  assert.equal(cells('deployments.apps', 'Deployment', { spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Nope' }] } } })[7], '<invalid>');
  assert.deepEqual(cells('replicasets.apps', 'ReplicaSet', {
    spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': 'abc' } }, template }, status: { replicas: 3, readyReplicas: 2 },
  }), ['x', 3, 3, 2, '5m', 'web,side', 'nginx:1.27,busybox', 'app=web,pod-template-hash=abc']);
  assert.deepEqual(cells('replicasets.apps', 'ReplicaSet', { spec: { replicas: 0 } }), ['x', 0, 0, 0, '5m', '', '', '<none>']);
  assert.deepEqual(cells('statefulsets.apps', 'StatefulSet', { spec: { replicas: 2, template }, status: { readyReplicas: 1 } }),
    ['x', '1/2', '5m', 'web,side', 'nginx:1.27,busybox']);
  assert.deepEqual(cells('daemonsets.apps', 'DaemonSet', {
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'agent', image: 'agent:1' }] } } },
    status: { desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 0 },
  }), ['x', 1, 1, 1, 1, 0, 'kubernetes.io/os=linux', '5m', 'agent', 'agent:1', 'app=agent']);
  assert.equal(cells('daemonsets.apps', 'DaemonSet', { spec: {} })[6], '<none>');
});

test('jobs and cronjobs: STATUS, COMPLETIONS, DURATION, SUSPEND, LAST SCHEDULE', () => {
  const template = { spec: { containers: [{ name: 'job', image: 'busybox' }] } };
  const done = row('jobs.batch', 'Job', {
    spec: { completions: 1, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } }, template },
    status: { succeeded: 1, startTime: ago(120), completionTime: ago(78), conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }] },
  });
  assert.deepEqual(done, { Name: 'x', Status: 'Complete', Completions: '1/1', Duration: '42s', Age: '5m', Containers: 'job', Images: 'busybox', Selector: 'batch.kubernetes.io/controller-uid=u1' });
  const running = row('jobs.batch', 'Job', { spec: { parallelism: 3, template }, status: { startTime: ago(180) } });
  assert.deepEqual([running.Status, running.Completions, running.Duration], ['Running', '0/1 of 3', '3m']);
  assert.deepEqual([row('jobs.batch', 'Job', { spec: {} }).Completions, row('jobs.batch', 'Job', { spec: {} }).Duration], ['0/1', '']);
  assert.equal(row('jobs.batch', 'Job', { status: { conditions: [{ type: 'Failed', status: 'True' }] } }).Status, 'Failed');
  assert.equal(row('jobs.batch', 'Job', { status: { conditions: [{ type: 'Suspended', status: 'True' }] } }).Status, 'Suspended');
  assert.equal(row('jobs.batch', 'Job', { status: { conditions: [{ type: 'FailureTarget', status: 'True' }] } }).Status, 'FailureTarget');
  assert.equal(row('jobs.batch', 'Job', { metadata: { name: 'x', deletionTimestamp: ago(1) } }).Status, 'Terminating');

  const cj = row('cronjobs.batch', 'CronJob', {
    spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template } } },
    status: { active: [{ name: 'x-1' }], lastScheduleTime: ago(300) },
  });
  assert.deepEqual(cj, { Name: 'x', Schedule: '*/5 * * * *', Timezone: '<none>', Suspend: 'False', Active: 1, 'Last Schedule': '5m', Age: '5m', Containers: 'job', Images: 'busybox', Selector: '<none>' });
  const cj2 = row('cronjobs.batch', 'CronJob', { spec: { schedule: '0 0 * * *', timeZone: 'Europe/Paris', suspend: true } });
  assert.deepEqual([cj2.Timezone, cj2.Suspend, cj2.Active, cj2['Last Schedule']], ['Europe/Paris', 'True', 0, '<none>']);
  assert.equal(row('cronjobs.batch', 'CronJob', { spec: {} }).Suspend, '<unset>');
});

test('config and identity kinds: secrets, serviceaccounts, namespaces, leases, priorityclasses', () => {
  assert.deepEqual(cells('secrets', 'Secret', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'a', 'tls.key': 'b' } }), ['x', 'kubernetes.io/tls', 2, '5m']);
  assert.deepEqual(cells('secrets', 'Secret', {}), ['x', '', 0, '5m']);
  assert.deepEqual(cells('serviceaccounts', 'ServiceAccount', { secrets: [{ name: 't' }] }), ['x', 1, '5m']);
  assert.deepEqual(cells('serviceaccounts', 'ServiceAccount', {}), ['x', 0, '5m']);
  assert.deepEqual(cells('namespaces', 'Namespace', { status: { phase: 'Terminating' } }), ['x', 'Terminating', '5m']);
  assert.deepEqual(cells('leases.coordination.k8s.io', 'Lease', { spec: { holderIdentity: 'node-a' } }), ['x', 'node-a', '5m']);
  assert.deepEqual(cells('leases.coordination.k8s.io', 'Lease', { spec: {} }), ['x', '', '5m']);
  assert.deepEqual(cells('priorityclasses.scheduling.k8s.io', 'PriorityClass', { value: 1000, globalDefault: true, preemptionPolicy: 'Never' }), ['x', 1000, true, '5m', 'Never']);
  assert.deepEqual(cells('priorityclasses.scheduling.k8s.io', 'PriorityClass', { value: 5 }), ['x', 5, false, '5m', '']);
});

test('quota, rbac bindings, PDBs, network policies', () => {
  assert.deepEqual(cells('resourcequotas', 'ResourceQuota', {
    status: { hard: { pods: '10', 'requests.cpu': '1', 'limits.memory': '2Gi', 'requests.memory': '1Gi', 'limits.cpu': 2 }, used: { pods: '3', 'requests.cpu': '500m', 'limits.cpu': 1 } },
  }), ['x', 'pods: 3/10, requests.cpu: 500m/1, requests.memory: 0/1Gi', 'limits.cpu: 1/2, limits.memory: 0/2Gi', '5m']);
  assert.deepEqual(cells('resourcequotas', 'ResourceQuota', {}), ['x', '', '', '5m']);
  const rb = { roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'alice' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', namespace: 'default', name: 'ci' }, { kind: 'User', name: 'bob' }] };
  assert.deepEqual(cells('rolebindings.rbac.authorization.k8s.io', 'RoleBinding', rb), ['x', 'ClusterRole/view', '5m', 'alice, bob', 'devs', 'default/ci']);
  assert.deepEqual(cells('clusterrolebindings.rbac.authorization.k8s.io', 'ClusterRoleBinding', { roleRef: { kind: 'ClusterRole', name: 'admin' } }), ['x', 'ClusterRole/admin', '5m', '', '', '']);
  assert.deepEqual(cells('poddisruptionbudgets.policy', 'PodDisruptionBudget', { spec: { minAvailable: 1 }, status: { disruptionsAllowed: 0 } }), ['x', '1', 'N/A', 0, '5m']);
  assert.deepEqual(cells('poddisruptionbudgets.policy', 'PodDisruptionBudget', { spec: { maxUnavailable: '25%' }, status: { disruptionsAllowed: 2 } }), ['x', 'N/A', '25%', 2, '5m']);
  assert.deepEqual(cells('networkpolicies.networking.k8s.io', 'NetworkPolicy', { spec: { podSelector: {} } }), ['x', '<none>', '5m']);
  assert.deepEqual(cells('networkpolicies.networking.k8s.io', 'NetworkPolicy', { spec: { podSelector: { matchLabels: { role: 'db' } } } }), ['x', 'role=db', '5m']);
});

test('ingresses, ingress classes and HPAs', () => {
  assert.deepEqual(cells('ingresses.networking.k8s.io', 'Ingress', {
    spec: { ingressClassName: 'nginx', rules: [{ host: 'a.example' }, {}, { host: 'b.example' }], tls: [{ hosts: ['a.example'] }] },
    status: { loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } },
  }), ['x', 'nginx', 'a.example,b.example', '1.1.1.1', '80, 443', '5m']);
  assert.deepEqual(cells('ingresses.networking.k8s.io', 'Ingress', { spec: {} }), ['x', '<none>', '*', '', '80', '5m']);
  const many = { spec: { rules: ['a', 'b', 'c', 'd', 'e'].map((h) => ({ host: h })) } };
  assert.equal(cells('ingresses.networking.k8s.io', 'Ingress', many)[2], 'a,b,c + 2 more...');
  assert.deepEqual(cells('ingressclasses.networking.k8s.io', 'IngressClass', { spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } }),
    ['x', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/external-lb', '5m']);
  assert.deepEqual(cells('ingressclasses.networking.k8s.io', 'IngressClass', { spec: { controller: 'c', parameters: { kind: 'P', name: 'n' } } })[2], 'P/n');
  assert.equal(cells('ingressclasses.networking.k8s.io', 'IngressClass', { spec: {} })[2], '<none>');

  assert.deepEqual(cells('horizontalpodautoscalers.autoscaling', 'HorizontalPodAutoscaler', {
    apiVersion: 'autoscaling/v2',
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
        { type: 'Pods', pods: { metric: { name: 'packets' }, target: { type: 'AverageValue', averageValue: '1k' } } },
      ],
    },
    status: { currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 30 } } }, { type: 'Resource', resource: { name: 'memory', current: { averageValue: '80Mi' } } }] },
  }), ['x', 'Deployment/web', 'cpu: 30%/50%, memory: 80Mi/100Mi + 1 more...', '1', 10, 2, '5m']);
  const hpa = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => cells('horizontalpodautoscalers.autoscaling', 'HorizontalPodAutoscaler', { spec, status })[2];
  assert.equal(hpa({ targetCPUUtilizationPercentage: 80 }, { currentCPUUtilizationPercentage: 12 }), 'cpu: 12%/80%');
  assert.equal(hpa({ targetCPUUtilizationPercentage: 80 }), 'cpu: <unknown>/80%');
  assert.equal(hpa({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] }), 'cpu: <unknown>/<auto>');
  assert.equal(hpa({ metrics: [{ type: 'External', external: { target: { type: 'Value', value: '5' } } }] }, { currentMetrics: [{ type: 'External', external: { current: { value: '3' } } }] }), '3/5');
  assert.equal(hpa({ metrics: [{ type: 'Object', object: { target: { type: 'AverageValue', averageValue: '2' } } }] }), '<unknown>/2 (avg)');
  assert.equal(hpa({ metrics: [{ type: 'Mystery' }] }), '<unknown type>');
  assert.equal(hpa({}), '<none>');
  const minless = cells('horizontalpodautoscalers.autoscaling', 'HorizontalPodAutoscaler', { spec: { maxReplicas: 3 } });
  assert.deepEqual([minless[3], minless[4], minless[5]], ['<unset>', 3, 0]);
});

test('storage: PVs, PVCs and storage classes', () => {
  assert.deepEqual(cells('persistentvolumes', 'PersistentVolume', {
    spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadOnlyMany', 'ReadWriteOnce', 'ReadWriteOnce', 'ReadWriteOncePod'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'local', volumeMode: 'Filesystem' },
    status: { phase: 'Bound' },
  }), ['x', '10Gi', 'RWO,ROX,RWOP', 'Retain', 'Bound', 'default/data', 'local', '<unset>', '', '5m', 'Filesystem']);
  assert.deepEqual(cells('persistentvolumes', 'PersistentVolume', { metadata: { name: 'x', annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' }, deletionTimestamp: ago(1) }, spec: { storageClassName: 'new' }, status: { phase: 'Released', reason: 'r' } }),
    ['x', '0', '', '', 'Terminating', '', 'old', '<unset>', 'r', '<unknown>', '<unset>']);
  assert.deepEqual(cells('persistentvolumeclaims', 'PersistentVolumeClaim', {
    spec: { volumeName: 'pv-1', storageClassName: 'local', volumeAttributesClassName: 'gold', resources: { requests: { storage: '5Gi' } }, volumeMode: 'Filesystem' },
    status: { phase: 'Bound', capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'] },
  }), ['x', 'Bound', 'pv-1', '10Gi', 'RWO', 'local', 'gold', '5m', 'Filesystem']);
  assert.deepEqual(cells('persistentvolumeclaims', 'PersistentVolumeClaim', { spec: { resources: { requests: { storage: '5Gi' } } }, status: { phase: 'Pending' } }),
    ['x', 'Pending', '', '', '', '', '<unset>', '5m', '<unset>']);
  assert.deepEqual(cells('storageclasses.storage.k8s.io', 'StorageClass', {
    metadata: { name: 'local-path', creationTimestamp: ago(300), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer',
  }), ['local-path (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', false, '5m']);
  assert.deepEqual(cells('storageclasses.storage.k8s.io', 'StorageClass', { provisioner: 'p', reclaimPolicy: 'Retain', allowVolumeExpansion: true }), ['x', 'p', 'Retain', 'Immediate', true, '5m']);
});

test('endpoints and endpoint slices list at most three addresses', () => {
  assert.deepEqual(cells('endpoints', 'Endpoints', { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }, { port: 443 }] }] }),
    ['x', '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...', '5m']);
  assert.equal(cells('endpoints', 'Endpoints', { subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }] })[1], '[fd00::1]:80');
  assert.equal(cells('endpoints', 'Endpoints', { subsets: [{ addresses: [{ ip: '10.0.0.9' }] }] })[1], '10.0.0.9');
  assert.equal(cells('endpoints', 'Endpoints', {})[1], '<none>');
  assert.deepEqual(cells('endpointslices.discovery.k8s.io', 'EndpointSlice', {
    addressType: 'IPv4', ports: [{ port: 80 }, { name: 'metrics' }, {}, { port: 9 }],
    endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2', '10.0.0.3'] }],
  }), ['x', 'IPv4', '80,metrics,* + 1 more...', '10.0.0.1,10.0.0.2,10.0.0.3', '5m']);
  assert.deepEqual(cells('endpointslices.discovery.k8s.io', 'EndpointSlice', { addressType: 'IPv6' }), ['x', 'IPv6', '<unset>', '<unset>', '5m']);
});
