import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject, ObjectMeta } from '../../src/machinery/types.ts';
import { containerHash, planPod, podVolumeFiles } from '../../src/translate/pod.ts';
import { podVolumeName } from '../../src/translate/names.ts';
import type { DockerCreateBody, FileSpec, PlanEnv, PodPlan } from '../../src/translate/types.ts';

const UID = '6a1f8d2e-5b3c-4f7a-9e0d-1c2b3a4d5e6f';
const SANDBOX = `k8s_POD_web_shop_${UID}_0`;

function pod(spec: Record<string, unknown>, meta: Partial<ObjectMeta> = {}): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', uid: UID, ...meta }, spec };
}

const busybox = (extra: Record<string, unknown> = {}) => ({ name: 'main', image: 'busybox:1.36', ...extra });

const b64 = (s: string) => Buffer.from(s).toString('base64');

const objects = {
  configMaps: {
    settings: {
      metadata: { name: 'settings', namespace: 'shop' },
      data: { LOG_LEVEL: 'debug', 'app.conf': 'listen 8080\n', 'my-key': 'dash', 'with space': 'sp' },
      binaryData: { 'logo.bin': Buffer.from([0, 1, 2, 255]).toString('base64') },
    },
  } as Record<string, KObject>,
  secrets: {
    db: { metadata: { name: 'db', namespace: 'shop' }, type: 'Opaque', data: { password: b64('s3cr3t'), 'tls.key': Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64') } },
  } as Record<string, KObject>,
};

function env(over: Partial<PlanEnv> = {}): PlanEnv {
  return {
    instance: 'test',
    network: 'k2d',
    sandboxImage: 'k2d/pause:1',
    aliases: ['web.shop.svc.cluster.local'],
    configMaps: (ns, name) => (ns === 'shop' ? objects.configMaps[name] : undefined),
    secrets: (ns, name) => (ns === 'shop' ? objects.secrets[name] : undefined),
    volumeDir: (uid, vol) => podVolumeName(uid, vol),
    pvcVolume: (ns, claim) => (ns === 'shop' && claim === 'data' ? 'k2d-pvc-data' : undefined),
    nodeName: 'edge-1',
    hostIP: '192.168.1.20',
    podIP: '172.18.0.5',
    ...over,
  };
}

const identity = { 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': UID };

function main(plan: PodPlan): DockerCreateBody {
  return plan.containers[0].body;
}

function envOf(body: DockerCreateBody): Record<string, string> {
  return Object.fromEntries((body.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

test('a one-container busybox pod: the exact sandbox and container bodies', () => {
  const c = busybox({ command: ['sleep', '3600'] });
  const plan = planPod(pod({ containers: [c] }), env());
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(plan.warnings, []);
  assert.deepEqual(plan.sandbox, {
    name: SANDBOX,
    body: {
      Image: 'k2d/pause:1',
      Hostname: 'web',
      Labels: {
        ...identity, 'io.kubernetes.container.name': 'POD', 'io.kubernetes.docker.type': 'podsandbox',
        'k2d.io/instance': 'test', 'k2d.io/kind': 'sandbox',
      },
      HostConfig: {
        NetworkMode: 'k2d', IpcMode: 'shareable', CpuShares: 2, SecurityOpt: ['no-new-privileges'],
        RestartPolicy: { Name: 'no' },
        DnsSearch: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], DnsOptions: ['ndots:5'],
      },
      NetworkingConfig: { EndpointsConfig: { k2d: { Aliases: ['web.shop.svc.cluster.local'] } } },
    },
  });
  assert.deepEqual(plan.containers, [{
    name: `k8s_main_web_shop_${UID}_0`,
    body: {
      Image: 'busybox:1.36',
      Entrypoint: ['sleep', '3600'],
      Env: [],
      Labels: {
        ...identity, 'io.kubernetes.container.name': 'main', 'io.kubernetes.docker.type': 'container',
        'annotation.io.kubernetes.container.hash': containerHash(c),
        'annotation.io.kubernetes.container.restartCount': '0',
        'k2d.io/instance': 'test', 'k2d.io/kind': 'app', 'k2d.io/container-index': '0',
      },
      StopTimeout: 30,
      HostConfig: {
        NetworkMode: `container:${SANDBOX}`, IpcMode: `container:${SANDBOX}`, RestartPolicy: { Name: 'no' }, CpuShares: 2,
      },
    },
  }]);
  assert.deepEqual(plan.init, []);
  assert.deepEqual(plan.files, []);
  assert.deepEqual(plan.hostPathChecks, []);
});

test('command and args: $(VAR) expanded from the final env, $$ escaped, unknown kept', () => {
  const plan = planPod(pod({
    containers: [busybox({
      command: ['sh', '-c', 'echo $(GREETING) $$(GREETING) $(NOPE) $HOME'],
      args: ['$(POD_NAME)', '$(LOG_LEVEL)'],
      env: [
        { name: 'GREETING', value: 'hello' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ],
      envFrom: [{ configMapRef: { name: 'settings' } }],
    })],
  }), env());
  assert.deepEqual(main(plan).Entrypoint, ['sh', '-c', 'echo hello $(GREETING) $(NOPE) $HOME']);
  assert.deepEqual(main(plan).Cmd, ['web', 'debug']);
});

test('args alone keep the image entrypoint; empty command is no command', () => {
  const a = main(planPod(pod({ containers: [busybox({ args: ['-c', 'true'] })] }), env()));
  assert.equal(a.Entrypoint, undefined);
  assert.deepEqual(a.Cmd, ['-c', 'true']);
  const b = main(planPod(pod({ containers: [busybox({ command: [], args: [] })] }), env()));
  assert.equal(b.Entrypoint, undefined);
  assert.equal(b.Cmd, undefined);
});

test('env values expand against earlier variables only, as kubelet orders them', () => {
  const plan = planPod(pod({
    containers: [busybox({
      env: [
        { name: 'A', value: 'a' },
        { name: 'B', value: '$(A)-$(C)' },
        { name: 'C', value: 'c' },
        { name: 'D', value: '$(C)$(A)$$(A)' },
        { name: 'A', value: 'again' },
        { name: 'E' },
      ],
    })],
  }), env());
  assert.deepEqual(main(plan).Env, ['A=again', 'B=a-$(C)', 'C=c', 'D=ca$(A)', 'E=']);
});

test('env from ConfigMaps, Secrets, the downward API and resources', () => {
  const plan = planPod(pod({
    serviceAccountName: 'builder',
    containers: [busybox({
      resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } },
      env: [
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'LOG_LEVEL' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'UID', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.uid' } } },
        { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
        { name: 'MISSING_LABEL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['nope']" } } },
        { name: 'OWNER', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['example.com/owner']" } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'POD_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
        { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'HOST_IPS', valueFrom: { fieldRef: { fieldPath: 'status.hostIPs' } } },
        { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'CPU_LIMIT_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
        { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'MEM_LIMIT_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'MEM_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.memory' } } },
        { name: 'SIDE_MEM', valueFrom: { resourceFieldRef: { containerName: 'side', resource: 'limits.memory', divisor: '1Mi' } } },
      ],
    }), { name: 'side', image: 'busybox:1.36' }],
  }, { labels: { tier: 'front' }, annotations: { 'example.com/owner': 'ops' } }), env({
    hostIPs: ['192.168.1.20', 'fd00::20'], podIPs: ['172.18.0.5', 'fd00::5'],
    nodeAllocatable: { cpu: '4', memory: '2Gi' },
  }));
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(envOf(main(plan)), {
    LEVEL: 'debug', PASSWORD: 's3cr3t', NAME: 'web', NS: 'shop', UID, TIER: 'front', MISSING_LABEL: '',
    OWNER: 'ops', NODE: 'edge-1', SA: 'builder', POD_IP: '172.18.0.5', POD_IPS: '172.18.0.5,fd00::5',
    HOST_IP: '192.168.1.20', HOST_IPS: '192.168.1.20,fd00::20',
    CPU_LIMIT: '1', CPU_LIMIT_M: '500', CPU_REQ_M: '250', MEM_LIMIT_MI: '128',
    // no memory request: the apiserver defaults it to the limit
    MEM_REQ: '134217728',
    // no limit on `side`: node allocatable, as kubelet fills it in
    SIDE_MEM: '2048',
  });
});

test('optional references that are missing leave the variable out; required ones fail the container', () => {
  const optional = planPod(pod({
    containers: [busybox({
      env: [
        { name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'x', optional: true } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope', optional: true } } },
        { name: 'C', valueFrom: { secretKeyRef: { name: 'nope', key: 'x', optional: true } } },
        { name: 'D', valueFrom: { secretKeyRef: { name: 'db', key: 'nope', optional: true } } },
        { name: 'E', value: 'kept' },
      ],
      envFrom: [{ configMapRef: { name: 'nope', optional: true } }, { secretRef: { name: 'nope', optional: true } }],
    })],
  }), env());
  assert.deepEqual(optional.errors, []);
  assert.deepEqual(main(optional).Env, ['E=kept']);

  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'x' } } }] },
      'spec.containers[0].env[0].valueFrom.configMapKeyRef', 'configmap "nope" not found'],
    [{ env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'settings', key: 'x' } } }] },
      'spec.containers[0].env[0].valueFrom.configMapKeyRef', "couldn't find key x in ConfigMap shop/settings"],
    [{ env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'nope', key: 'x' } } }] },
      'spec.containers[0].env[0].valueFrom.secretKeyRef', 'secret "nope" not found'],
    [{ env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'db', key: 'x' } } }] },
      'spec.containers[0].env[0].valueFrom.secretKeyRef', "couldn't find key x in Secret shop/db"],
    [{ envFrom: [{ configMapRef: { name: 'nope' } }] }, 'spec.containers[0].envFrom[0].configMapRef', 'configmap "nope" not found'],
    [{ envFrom: [{ secretRef: { name: 'nope' } }] }, 'spec.containers[0].envFrom[0].secretRef', 'secret "nope" not found'],
  ];
  for (const [extra, field, message] of cases) {
    const plan = planPod(pod({ containers: [busybox(extra)] }), env());
    assert.deepEqual(plan.errors, [{ field, message, reason: 'CreateContainerConfigError', container: 'main' }], message);
  }
  // Only the first failure of a container is reported, as kubelet stops at it.
  const two = planPod(pod({ containers: [busybox({ env: [
    { name: 'A', valueFrom: { secretKeyRef: { name: 'nope', key: 'x' } } },
    { name: 'B', valueFrom: { configMapKeyRef: { name: 'nope', key: 'x' } } },
  ] })] }), env());
  assert.deepEqual(two.errors.map((e) => e.message), ['secret "nope" not found']);
});

test('envFrom: prefix, sorted keys, invalid names skipped with a warning, env overrides', () => {
  const plan = planPod(pod({
    containers: [busybox({
      envFrom: [
        { prefix: 'CFG_', configMapRef: { name: 'settings' } },
        { secretRef: { name: 'db' } },
        { prefix: 'BAD=', configMapRef: { name: 'settings' } },
      ],
      env: [{ name: 'CFG_LOG_LEVEL', value: 'info' }],
    })],
  }), env());
  assert.deepEqual(main(plan).Env, [
    'CFG_LOG_LEVEL=info', 'CFG_app.conf=listen 8080\n', 'CFG_my-key=dash', 'CFG_with space=sp',
    'password=s3cr3t', `tls.key=${Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('utf8')}`,
  ]);
  assert.deepEqual(plan.warnings, [
    'Keys [BAD=LOG_LEVEL, BAD=app.conf, BAD=my-key, BAD=with space] from the EnvFrom configMap shop/settings were skipped since they are considered invalid environment variable names.',
  ]);
  assert.deepEqual(plan.errors, []);
});

test('service links: the Docker-style variables of the namespace\'s Services, with DNS names for hosts (clusterIPs do not route)', () => {
  const svc = (name: string, ns: string, clusterIP: string, ports: unknown[]): KObject => ({ metadata: { name, namespace: ns }, spec: { clusterIP, ports } });
  const services: Record<string, KObject[]> = {
    default: [svc('kubernetes', 'default', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]), svc('other', 'default', '10.96.0.9', [{ port: 1 }])],
    shop: [
      svc('redis-primary', 'shop', '10.96.0.10', [{ port: 6379 }]),
      svc('web', 'shop', '10.96.0.11', [{ name: 'http', port: 80 }, { name: 'dns-udp', port: 53, protocol: 'UDP' }]),
      svc('headless', 'shop', 'None', [{ port: 80 }]),
      svc('1st', 'shop', 'fd00::7', [{ port: 8080 }]),
    ],
  };
  const plan = planPod(pod({ containers: [busybox({ env: [{ name: 'WEB_SERVICE_HOST', value: 'mine' }, { name: 'URL', value: 'http://$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)' }] })] }),
    env({ services: (ns) => services[ns] ?? [] }));
  const e = envOf(main(plan));
  assert.equal(e.WEB_SERVICE_HOST, 'mine');
  assert.equal(e.URL, 'http://redis-primary.shop.svc.cluster.local:6379');
  assert.deepEqual(Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith('WEB_') || k.startsWith('KUBERNETES_') || k.startsWith('_1ST'))), {
    WEB_SERVICE_HOST: 'mine', WEB_SERVICE_PORT: '80', WEB_SERVICE_PORT_HTTP: '80', WEB_SERVICE_PORT_DNS_UDP: '53',
    WEB_PORT: 'tcp://web.shop.svc.cluster.local:80',
    WEB_PORT_80_TCP: 'tcp://web.shop.svc.cluster.local:80', WEB_PORT_80_TCP_PROTO: 'tcp', WEB_PORT_80_TCP_PORT: '80', WEB_PORT_80_TCP_ADDR: 'web.shop.svc.cluster.local',
    WEB_PORT_53_UDP: 'udp://web.shop.svc.cluster.local:53', WEB_PORT_53_UDP_PROTO: 'udp', WEB_PORT_53_UDP_PORT: '53', WEB_PORT_53_UDP_ADDR: 'web.shop.svc.cluster.local',
    KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: 'tcp://10.96.0.1:443', KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443', KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443', KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
    _1ST_SERVICE_HOST: '1st.shop.svc.cluster.local', _1ST_SERVICE_PORT: '8080', _1ST_PORT: 'tcp://1st.shop.svc.cluster.local:8080',
    _1ST_PORT_8080_TCP: 'tcp://1st.shop.svc.cluster.local:8080', _1ST_PORT_8080_TCP_PROTO: 'tcp', _1ST_PORT_8080_TCP_PORT: '8080', _1ST_PORT_8080_TCP_ADDR: '1st.shop.svc.cluster.local',
  });
  assert.ok(!('HEADLESS_SERVICE_HOST' in e));
  assert.ok(!('OTHER_SERVICE_HOST' in e), 'other namespaces stay hidden');
  // enableServiceLinks: false keeps only the master service.
  const off = envOf(main(planPod(pod({ enableServiceLinks: false, containers: [busybox()] }), env({ services: (ns) => services[ns] ?? [] }))));
  assert.deepEqual(Object.keys(off).sort(), ['KUBERNETES_PORT', 'KUBERNETES_PORT_443_TCP', 'KUBERNETES_PORT_443_TCP_ADDR', 'KUBERNETES_PORT_443_TCP_PORT', 'KUBERNETES_PORT_443_TCP_PROTO', 'KUBERNETES_SERVICE_HOST', 'KUBERNETES_SERVICE_PORT', 'KUBERNETES_SERVICE_PORT_HTTPS']);
});

test('resources become memory, reservation, CPU shares and CFS quota', () => {
  const cases: Array<[string, unknown, Record<string, unknown>]> = [
    ['best effort', undefined, { CpuShares: 2 }],
    ['limits only (requests default to them)', { limits: { cpu: '500m', memory: '128Mi' } },
      { Memory: 134217728, MemorySwap: 134217728, MemoryReservation: 134217728, CpuShares: 512, CpuPeriod: 100000, CpuQuota: 50000 }],
    ['requests below limits', { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '250m', memory: '256Mi' } },
      { Memory: 1073741824, MemorySwap: 1073741824, MemoryReservation: 268435456, CpuShares: 256, CpuPeriod: 100000, CpuQuota: 200000 }],
    ['requests only', { requests: { cpu: 1, memory: '64M' } }, { MemoryReservation: 64000000, CpuShares: 1024 }],
    ['tiny cpu: shares and quota have floors', { limits: { cpu: '1m' } }, { CpuShares: 2, CpuPeriod: 100000, CpuQuota: 1000 }],
    ['fractional cpu as a number', { limits: { cpu: 1.5 } }, { CpuShares: 1536, CpuPeriod: 100000, CpuQuota: 150000 }],
    ['ephemeral storage is accepted and not enforced', { limits: { 'ephemeral-storage': '1Gi' } }, { CpuShares: 2 }],
    ['an 8Mi limit', { limits: { memory: '8Mi' } }, { Memory: 8388608, MemorySwap: 8388608, MemoryReservation: 8388608, CpuShares: 2 }],
  ];
  for (const [name, resources, want] of cases) {
    const plan = planPod(pod({ containers: [busybox({ resources })] }), env());
    assert.deepEqual(plan.errors, [], name);
    const hc = main(plan).HostConfig as unknown as Record<string, unknown>;
    const got = Object.fromEntries(Object.entries(hc).filter(([k]) => /^(Memory|MemorySwap|MemoryReservation|Cpu\w+)$/.test(k)));
    assert.deepEqual(got, want, name);
  }
});

test('resources the node cannot provide are refused, naming the field', () => {
  const plan = planPod(pod({ containers: [busybox({ resources: { limits: { memory: '4Mi', 'nvidia.com/gpu': '1', 'hugepages-2Mi': '2Mi' }, requests: { 'example.com/dongle': '1' } } })] }), env());
  assert.deepEqual(plan.errors, [
    { field: 'spec.containers[0].resources.limits[nvidia.com/gpu]', message: 'Forbidden: "nvidia.com/gpu" cannot be provided on this node', reason: 'Invalid', container: 'main' },
    { field: 'spec.containers[0].resources.limits[hugepages-2Mi]', message: 'Forbidden: "hugepages-2Mi" cannot be provided on this node', reason: 'Invalid', container: 'main' },
    { field: 'spec.containers[0].resources.requests[example.com/dongle]', message: 'Forbidden: "example.com/dongle" cannot be provided on this node', reason: 'Invalid', container: 'main' },
    { field: 'spec.containers[0].resources.limits.memory', message: 'Forbidden: the engine\'s smallest memory limit is 6Mi, got "4Mi"', reason: 'Invalid', container: 'main' },
  ]);
});

test('security context: pod and container levels merge into User, groups, caps and options', () => {
  const plan = planPod(pod({
    securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000, 2000], seccompProfile: { type: 'Unconfined' } },
    containers: [busybox({
      securityContext: {
        runAsUser: 1001, privileged: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
        capabilities: { add: ['NET_ADMIN', 'CAP_SYS_TIME', 'net_raw'], drop: ['ALL'] },
        appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-nginx' },
        seLinuxOptions: { level: 's0:c123,c456', type: 'spc_t' },
        procMount: 'Unmasked',
      },
    }), { name: 'plain', image: 'busybox:1.36' }],
  }), env());
  assert.deepEqual(plan.errors, []);
  const a = main(plan);
  assert.equal(a.User, '1001:3000');
  assert.deepEqual(a.HostConfig.GroupAdd, ['2000', '4000']);
  assert.equal(a.HostConfig.Privileged, true);
  assert.equal(a.HostConfig.ReadonlyRootfs, true);
  assert.deepEqual(a.HostConfig.CapAdd, ['NET_ADMIN', 'SYS_TIME', 'NET_RAW']);
  assert.deepEqual(a.HostConfig.CapDrop, ['ALL']);
  assert.deepEqual(a.HostConfig.SecurityOpt, ['no-new-privileges', 'seccomp=unconfined', 'apparmor=k8s-nginx', 'label=type:spc_t', 'label=level:s0:c123,c456']);
  assert.deepEqual(a.HostConfig.MaskedPaths, []);
  assert.deepEqual(a.HostConfig.ReadonlyPaths, []);
  const b = plan.containers[1].body;
  assert.equal(b.User, '1000:3000');
  assert.deepEqual(b.HostConfig.SecurityOpt, ['seccomp=unconfined']);
  assert.equal(b.HostConfig.Privileged, undefined);
  assert.equal(b.HostConfig.CapAdd, undefined);
});

test('runAsGroup without runAsUser keeps the image user', () => {
  const spec = { containers: [busybox({ securityContext: { runAsGroup: 50 } })] };
  assert.equal(main(planPod(pod(spec), env({ imageUser: () => 'nginx:nginx' }))).User, 'nginx:50');
  assert.equal(main(planPod(pod(spec), env({ imageUser: () => '' }))).User, '0:50');
  const unknown = planPod(pod(spec), env());
  assert.equal(main(unknown).User, undefined);
  assert.deepEqual(unknown.errors.map((e) => [e.field, e.reason]), [['spec.containers[0].securityContext.runAsGroup', 'CreateContainerConfigError']]);
});

test('runAsNonRoot is checked against runAsUser or the image user, with kubelet\'s messages', () => {
  const who = `(pod: "web_shop(${UID})", container: main)`;
  const cases: Array<[unknown, string | undefined, string | undefined]> = [
    [{ runAsNonRoot: true, runAsUser: 0 }, '1000', `container's runAsUser breaks non-root policy ${who}`],
    [{ runAsNonRoot: true, runAsUser: 1000 }, '', undefined],
    [{ runAsNonRoot: true }, '', `container has runAsNonRoot and image will run as root ${who}`],
    [{ runAsNonRoot: true }, '0:0', `container has runAsNonRoot and image will run as root ${who}`],
    [{ runAsNonRoot: true }, 'nginx', `container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root ${who}`],
    [{ runAsNonRoot: true }, '101:101', undefined],
    [{ runAsNonRoot: true }, undefined, `container has runAsNonRoot and the image's user is not known yet, cannot verify user is non-root ${who}`],
    [{ runAsNonRoot: false }, '', undefined],
  ];
  for (const [sc, user, want] of cases) {
    const plan = planPod(pod({ containers: [busybox({ securityContext: sc })] }), env({ imageUser: () => user }));
    assert.deepEqual(plan.errors.map((e) => e.message), want ? [want] : [], JSON.stringify([sc, user]));
    if (want) assert.equal(plan.errors[0].reason, 'CreateContainerConfigError');
  }
  // The pod-level setting applies to every container.
  const podLevel = planPod(pod({ securityContext: { runAsNonRoot: true }, containers: [busybox()] }), env({ imageUser: () => 'root' }));
  assert.match(podLevel.errors[0].message, /non-numeric user \(root\)/);
});

test('sysctls go to the sandbox, which owns the network and IPC namespaces', () => {
  const plan = planPod(pod({
    securityContext: { sysctls: [
      { name: 'net.ipv4.ip_unprivileged_port_start', value: '0' },
      { name: 'kernel.shm_rmid_forced', value: '1' },
      { name: 'net/ipv4/conf/eth0.100/forwarding', value: '1' },
      { name: 'fs.mqueue.msg_max', value: '20' },
      { name: 'vm.swappiness', value: '10' },
    ] },
    containers: [busybox()],
  }), env());
  assert.deepEqual(plan.sandbox.body.HostConfig.Sysctls, {
    'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1',
    'net.ipv4.conf.eth0/100.forwarding': '1', 'fs.mqueue.msg_max': '20',
  });
  assert.equal(main(plan).HostConfig.Sysctls, undefined);
  assert.deepEqual(plan.errors, [{ field: 'spec.securityContext.sysctls[4].name', message: 'Forbidden: sysctl "vm.swappiness" is not namespaced and cannot be set for one pod', reason: 'Invalid' }]);

  const host = planPod(pod({ hostNetwork: true, hostIPC: true, securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }, { name: 'kernel.sem', value: '1 2 3 4' }] }, containers: [busybox()] }), env());
  assert.deepEqual(host.errors.map((e) => e.message), [
    'Forbidden: sysctl "net.core.somaxconn" not allowed with host net enabled',
    'Forbidden: sysctl "kernel.sem" not allowed with host ipc enabled',
  ]);
});

test('host namespaces and a shared process namespace', () => {
  const plan = planPod(pod({ hostNetwork: true, hostPID: true, hostIPC: true, containers: [busybox({ ports: [{ containerPort: 80, hostPort: 80 }] })] }), env());
  const sb = plan.sandbox.body;
  assert.equal(sb.HostConfig.NetworkMode, 'host');
  assert.equal(sb.HostConfig.IpcMode, 'host');
  assert.equal(sb.HostConfig.PidMode, 'host');
  assert.equal(sb.Hostname, undefined, 'a host-network pod has the node\'s hostname');
  assert.equal(sb.NetworkingConfig, undefined);
  assert.equal(sb.HostConfig.PortBindings, undefined, 'the port is the host\'s already');
  assert.equal(sb.HostConfig.DnsSearch, undefined, 'ClusterFirst falls back to Default on the host network');
  const c = main(plan);
  assert.equal(c.HostConfig.NetworkMode, `container:${SANDBOX}`);
  assert.equal(c.HostConfig.IpcMode, 'host');
  assert.equal(c.HostConfig.PidMode, 'host');

  const shared = planPod(pod({ shareProcessNamespace: true, containers: [busybox()] }), env({ sandboxId: 'abc123' }));
  assert.equal(main(shared).HostConfig.PidMode, 'container:abc123');
  assert.equal(main(shared).HostConfig.NetworkMode, 'container:abc123');
  assert.equal(main(shared).Labels['io.kubernetes.sandbox.id'], 'abc123');
  assert.equal(shared.sandbox.body.HostConfig.PidMode, undefined);
});

test('hostname, subdomain, FQDN and long names', () => {
  const cases: Array<[Record<string, unknown>, Partial<ObjectMeta>, string | undefined, string | undefined]> = [
    [{}, {}, 'web', undefined],
    [{ hostname: 'db-0' }, {}, 'db-0', undefined],
    [{ hostname: 'db-0', subdomain: 'db' }, {}, 'db-0', 'db.shop.svc.cluster.local'],
    [{ subdomain: 'db' }, {}, 'web', 'db.shop.svc.cluster.local'],
    [{ hostname: 'db-0', subdomain: 'db', setHostnameAsFQDN: true }, {}, 'db-0.db.shop.svc.cluster.local', undefined],
    [{}, { name: 'a'.repeat(62) + '-bcd' }, 'a'.repeat(62), undefined],
    [{}, { name: 'x'.repeat(70) }, 'x'.repeat(63), undefined],
  ];
  for (const [spec, meta, hostname, domain] of cases) {
    const plan = planPod(pod({ ...spec, containers: [busybox()] }, meta), env());
    assert.equal(plan.sandbox.body.Hostname, hostname, JSON.stringify(spec));
    assert.equal(plan.sandbox.body.Domainname, domain, JSON.stringify(spec));
    assert.equal(main(plan).Hostname, undefined, 'Docker refuses a hostname on a joining container');
  }
  const long = planPod(pod({ hostname: 'h'.repeat(40), subdomain: 's'.repeat(20), setHostnameAsFQDN: true, containers: [busybox()] }), env());
  assert.deepEqual(long.errors.map((e) => e.field), ['spec.setHostnameAsFQDN']);
  assert.match(long.errors[0].message, /is too long \(64 characters is the max, 84 characters requested\)/);
  assert.equal(planPod(pod({ subdomain: 'db', containers: [busybox()] }), env({ clusterDomain: 'edge.local' })).sandbox.body.Domainname, 'db.shop.svc.edge.local');
});

test('hostAliases become extra /etc/hosts entries of the sandbox', () => {
  const plan = planPod(pod({ hostAliases: [{ ip: '10.0.0.1', hostnames: ['foo.local', 'bar.local'] }, { ip: 'fd00::1', hostnames: ['v6.local'] }], containers: [busybox()] }), env());
  assert.deepEqual(plan.sandbox.body.HostConfig.ExtraHosts, ['foo.local:10.0.0.1', 'bar.local:10.0.0.1', 'v6.local:fd00::1']);
  assert.equal(main(plan).HostConfig.ExtraHosts, undefined);
});

test('dnsPolicy and dnsConfig', () => {
  const cluster = ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];
  const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
    [{}, { DnsSearch: cluster, DnsOptions: ['ndots:5'] }],
    [{ dnsPolicy: 'ClusterFirst' }, { DnsSearch: cluster, DnsOptions: ['ndots:5'] }],
    [{ dnsPolicy: 'ClusterFirstWithHostNet' }, { DnsSearch: cluster, DnsOptions: ['ndots:5'] }],
    [{ dnsPolicy: 'Default' }, {}],
    [{ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1', '1.1.1.1', '9.9.9.9'], searches: ['corp.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] } },
      { Dns: ['1.1.1.1', '9.9.9.9'], DnsSearch: ['corp.example'], DnsOptions: ['ndots:2', 'edns0'] }],
    [{ dnsConfig: { nameservers: ['10.0.0.53'], searches: ['corp.example', 'svc.cluster.local'], options: [{ name: 'ndots', value: '1' }, { name: 'timeout', value: '2' }] } },
      { Dns: ['10.0.0.53'], DnsSearch: [...cluster, 'corp.example'], DnsOptions: ['ndots:1', 'timeout:2'] }],
    [{ dnsPolicy: 'Default', dnsConfig: { searches: ['corp.example'] } }, { DnsSearch: ['corp.example'] }],
  ];
  for (const [spec, want] of cases) {
    const hc = planPod(pod({ ...spec, containers: [busybox()] }), env()).sandbox.body.HostConfig as unknown as Record<string, unknown>;
    const got = Object.fromEntries(Object.entries(hc).filter(([k]) => k.startsWith('Dns')));
    assert.deepEqual(got, want, JSON.stringify(spec));
  }
  const hostNet = planPod(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', containers: [busybox()] }), env());
  assert.equal(hostNet.sandbox.body.HostConfig.DnsSearch, undefined);
  assert.equal(hostNet.warnings.length, 1);
  const bad = planPod(pod({ dnsPolicy: 'Cluster', containers: [busybox()] }), env());
  assert.deepEqual(bad.errors, [{ field: 'spec.dnsPolicy', message: 'Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"', reason: 'Invalid' }]);
});

test('grace period, tty/stdin, working dir and stop signal', () => {
  const plan = planPod(pod({
    terminationGracePeriodSeconds: 5,
    containers: [busybox({ tty: true, stdin: true, stdinOnce: true, workingDir: '/work', lifecycle: { stopSignal: 'SIGUSR1' } })],
  }), env());
  const c = main(plan);
  assert.equal(c.StopTimeout, 5);
  assert.equal(c.Labels['annotation.io.kubernetes.pod.terminationGracePeriod'], '5');
  assert.equal(c.Tty, true);
  assert.equal(c.OpenStdin, true);
  assert.equal(c.StdinOnce, true);
  assert.equal(c.WorkingDir, '/work');
  assert.equal(c.StopSignal, 'SIGUSR1');
  assert.equal(planPod(pod({ terminationGracePeriodSeconds: 0, containers: [busybox()] }), env()).containers[0].body.StopTimeout, 0);
});

test('ports are exposed by the sandbox, and a hostPort is published there', () => {
  const plan = planPod(pod({
    initContainers: [
      { name: 'proxy', image: 'busybox:1.36', restartPolicy: 'Always', ports: [{ containerPort: 15001, hostPort: 15001 }] },
      { name: 'setup', image: 'busybox:1.36', ports: [{ containerPort: 9999, hostPort: 9999 }] },
    ],
    containers: [
      busybox({ ports: [{ name: 'http', containerPort: 8080, hostPort: 80 }, { containerPort: 8080, hostPort: 8080, hostIP: '127.0.0.1' }, { containerPort: 53, hostPort: 5353, protocol: 'UDP' }, { containerPort: 9090 }] }),
      { name: 'metrics', image: 'busybox:1.36', ports: [{ containerPort: 8080, hostPort: 80 }, { containerPort: 36412, protocol: 'SCTP' }] },
    ],
  }), env());
  const sb = plan.sandbox.body;
  assert.deepEqual(sb.ExposedPorts, { '15001/tcp': {}, '8080/tcp': {}, '53/udp': {}, '9090/tcp': {}, '36412/sctp': {} });
  assert.deepEqual(sb.HostConfig.PortBindings, {
    '15001/tcp': [{ HostIp: '', HostPort: '15001' }],
    '8080/tcp': [{ HostIp: '', HostPort: '80' }, { HostIp: '127.0.0.1', HostPort: '8080' }],
    '53/udp': [{ HostIp: '', HostPort: '5353' }],
  });
  for (const c of [...plan.init, ...plan.containers]) {
    assert.equal(c.body.ExposedPorts, undefined, 'Docker refuses ports on a joining container');
    assert.equal(c.body.HostConfig.PortBindings, undefined);
  }
});

test('init containers and a sidecar: order, kinds, indexes and attempts', () => {
  const plan = planPod(pod({
    initContainers: [
      { name: 'migrate', image: 'busybox:1.36', command: ['sh', '-c', 'echo migrate'] },
      { name: 'logship', image: 'busybox:1.36', restartPolicy: 'Always', command: ['sh', '-c', 'tail -f /dev/null'] },
    ],
    containers: [busybox(), { name: 'side', image: 'busybox:1.36' }],
  }), env({ restartCounts: { migrate: 2, side: 7 }, sandboxAttempt: 1 }));
  assert.deepEqual(plan.init.map((c) => c.name), [`k8s_migrate_web_shop_${UID}_2`, `k8s_logship_web_shop_${UID}_0`]);
  assert.deepEqual(plan.containers.map((c) => c.name), [`k8s_main_web_shop_${UID}_0`, `k8s_side_web_shop_${UID}_7`]);
  assert.equal(plan.sandbox.name, `k8s_POD_web_shop_${UID}_1`);
  assert.deepEqual(plan.init.map((c) => [c.body.Labels['k2d.io/kind'], c.body.Labels['k2d.io/container-index'], c.body.Labels['annotation.io.kubernetes.container.restartCount']]), [['init', '0', '2'], ['init', '1', '0']]);
  assert.deepEqual(plan.containers.map((c) => [c.body.Labels['k2d.io/kind'], c.body.Labels['k2d.io/container-index'], c.body.Labels['annotation.io.kubernetes.container.restartCount']]), [['app', '0', '0'], ['app', '1', '7']]);
  for (const c of [...plan.init, ...plan.containers]) {
    assert.equal(c.body.HostConfig.NetworkMode, `container:k8s_POD_web_shop_${UID}_1`);
    assert.deepEqual(c.body.HostConfig.RestartPolicy, { Name: 'no' }, 'restarts and back-off are the controller\'s');
  }
});

test('the container hash ignores key order and follows spec changes', () => {
  const a = { name: 'main', image: 'busybox', env: [{ name: 'A', value: '1' }], resources: { limits: { cpu: '1', memory: '1Gi' } } };
  const b = { resources: { limits: { memory: '1Gi', cpu: '1' } }, env: [{ value: '1', name: 'A' }], image: 'busybox', name: 'main' };
  assert.equal(containerHash(a), containerHash(b));
  assert.notEqual(containerHash(a), containerHash({ ...a, image: 'busybox:1.37' }));
  assert.match(containerHash(a), /^[0-9a-f]{16}$/);
});

test('fields that cannot be honoured on this node are refused with their path', () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ os: { name: 'windows' } }, 'spec.os.name', 'Unsupported value: "windows": supported values: "linux"'],
    [{ hostUsers: false }, 'spec.hostUsers', 'Forbidden: user namespaces are not supported on this node'],
    [{ runtimeClassName: 'gvisor' }, 'spec.runtimeClassName', 'Forbidden: runtime classes are not supported on this node'],
    [{ nodeName: 'other-node' }, 'spec.nodeName', 'Forbidden: this node is "edge-1"'],
    [{ resources: { limits: { cpu: '1' } } }, 'spec.resources', 'Forbidden: pod-level resources are not supported on this node'],
    [{ resourceClaims: [{ name: 'gpu' }] }, 'spec.resourceClaims', 'Forbidden: dynamic resource allocation is not supported on this node'],
    [{ securityContext: { supplementalGroupsPolicy: 'Strict' } }, 'spec.securityContext.supplementalGroupsPolicy', 'Forbidden: Strict cannot be honoured: the engine always adds the groups the image declares'],
    [{ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } } }, 'spec.securityContext.seccompProfile.type', 'Forbidden: Localhost seccomp profiles are not supported on this node'],
    [{ volumes: [{ name: 'n', nfs: { server: 'x', path: '/' } }] }, 'spec.volumes[0].nfs', 'Forbidden: nfs volumes are not supported on this node; supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected, persistentVolumeClaim'],
    [{ volumes: [{ name: 'e', emptyDir: { medium: 'HugePages' } }] }, 'spec.volumes[0].emptyDir.medium', 'Unsupported value: "HugePages": supported values: "", "Memory"'],
  ];
  for (const [spec, field, message] of cases) {
    const plan = planPod(pod({ containers: [busybox()], ...spec }), env());
    assert.deepEqual(plan.errors.map((e) => [e.field, e.message, e.reason]), [[field, message, 'Invalid']], field);
  }
  const c = planPod(pod({ containers: [busybox({ volumeDevices: [{ name: 'b', devicePath: '/dev/xvda' }] })] }), env());
  assert.deepEqual(c.errors.map((e) => e.field), ['spec.containers[0].volumeDevices']);
  const none = planPod(pod({ containers: [] }), env());
  assert.deepEqual(none.errors, [{ field: 'spec.containers', message: 'Required value', reason: 'Invalid' }]);
  // Scheduling fields mean nothing on one node and are accepted.
  const sched = planPod(pod({ containers: [busybox()], nodeName: 'edge-1', nodeSelector: { a: 'b' }, tolerations: [{ operator: 'Exists' }], affinity: {}, priorityClassName: 'high', topologySpreadConstraints: [] }), env());
  assert.deepEqual(sched.errors, []);
});

function file(plan: Pick<PodPlan, 'files'>, volume: string, path: string): FileSpec | undefined {
  return plan.files.find((f) => f.volume === volume && f.path === path);
}

test('emptyDir: a Docker volume (tmpfs for Memory) kept mounted by the sandbox', () => {
  const plan = planPod(pod({
    volumes: [
      { name: 'cache', emptyDir: {} },
      { name: 'shm', emptyDir: { medium: 'Memory' } },
      { name: 'small', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      { name: 'sized', emptyDir: { sizeLimit: '1Gi' } },
    ],
    containers: [busybox({
      resources: { limits: { memory: '64Mi' } },
      volumeMounts: [{ name: 'cache', mountPath: '/cache' }, { name: 'shm', mountPath: '/dev/shm' }, { name: 'small', mountPath: '/small', readOnly: true }],
    })],
  }), env({ nodeAllocatable: { memory: '1Gi' } }));
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(plan.warnings, ['volume "sized": emptyDir sizeLimit is not enforced for disk-backed volumes on this node']);
  const labels = (v: string) => ({ ...identity, 'k2d.io/instance': 'test', 'k2d.io/volume': v });
  assert.deepEqual(plan.sandbox.body.HostConfig.Mounts, [
    { Type: 'volume', Source: `k2d_${UID}_cache`, Target: '/k2d/volumes/cache', VolumeOptions: { NoCopy: true, Labels: labels('cache') } },
    // no sizeLimit: the pod's memory limit, as kubelet sizes memory-backed volumes
    { Type: 'volume', Source: `k2d_${UID}_shm`, Target: '/k2d/volumes/shm', VolumeOptions: { NoCopy: true, Labels: labels('shm'), DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=67108864' } } } },
    { Type: 'volume', Source: `k2d_${UID}_small`, Target: '/k2d/volumes/small', VolumeOptions: { NoCopy: true, Labels: labels('small'), DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=16777216' } } } },
    { Type: 'volume', Source: `k2d_${UID}_sized`, Target: '/k2d/volumes/sized', VolumeOptions: { NoCopy: true, Labels: labels('sized') } },
  ]);
  assert.deepEqual(main(plan).HostConfig.Mounts, [
    { Type: 'volume', Source: `k2d_${UID}_cache`, Target: '/cache', VolumeOptions: { NoCopy: true } },
    { Type: 'volume', Source: `k2d_${UID}_shm`, Target: '/dev/shm', VolumeOptions: { NoCopy: true } },
    { Type: 'volume', Source: `k2d_${UID}_small`, Target: '/small', ReadOnly: true, VolumeOptions: { NoCopy: true } },
  ]);
  // Kubernetes makes an emptyDir world-writable; a fresh Docker volume is 0755.
  assert.deepEqual(file(plan, 'cache', ''), { volume: 'cache', path: '', content: Buffer.alloc(0), mode: 0o777, dir: true });
  // Without any memory limit, node allocatable bounds the tmpfs; with neither, the kernel default.
  const unbounded = planPod(pod({ volumes: [{ name: 'shm', emptyDir: { medium: 'Memory' } }], containers: [busybox()] }), env({ nodeAllocatable: { memory: '2Gi' } }));
  assert.equal(unbounded.sandbox.body.HostConfig.Mounts![0].VolumeOptions!.DriverConfig!.Options!.o, 'size=2147483648');
  const none = planPod(pod({ volumes: [{ name: 'shm', emptyDir: { medium: 'Memory' } }], containers: [busybox()] }), env());
  assert.deepEqual(none.sandbox.body.HostConfig.Mounts![0].VolumeOptions!.DriverConfig!.Options, { type: 'tmpfs', device: 'tmpfs' });
});

test('hostPath: binds, read-only, propagation, and the checks its type needs', () => {
  const plan = planPod(pod({
    volumes: [
      { name: 'logs', hostPath: { path: '/var/log' } },
      { name: 'sock', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } },
      { name: 'data', hostPath: { path: '/srv/data/', type: 'DirectoryOrCreate' } },
      { name: 'cfg', hostPath: { path: '/etc/app.conf', type: 'FileOrCreate' } },
    ],
    containers: [busybox({ volumeMounts: [
      { name: 'logs', mountPath: '/host/log', readOnly: true, mountPropagation: 'HostToContainer' },
      { name: 'sock', mountPath: '/var/run/docker.sock' },
      { name: 'data', mountPath: '/data', subPath: 'app', mountPropagation: 'Bidirectional' },
      { name: 'cfg', mountPath: '/etc/app.conf', readOnly: true },
    ] })],
  }), env());
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(main(plan).HostConfig.Binds, [
    '/var/log:/host/log:ro,rslave',
    '/var/run/docker.sock:/var/run/docker.sock:rw',
    '/srv/data/app:/data:rw,rshared',
    '/etc/app.conf:/etc/app.conf:ro',
  ]);
  assert.equal(main(plan).HostConfig.Mounts, undefined);
  assert.equal(plan.sandbox.body.HostConfig.Mounts, undefined, 'host paths are not the sandbox\'s business');
  assert.deepEqual(plan.hostPathChecks, [
    { field: 'spec.volumes[1].hostPath', path: '/var/run/docker.sock', type: 'Socket' },
    { field: 'spec.volumes[2].hostPath', path: '/srv/data/', type: 'DirectoryOrCreate' },
    { field: 'spec.volumes[3].hostPath', path: '/etc/app.conf', type: 'FileOrCreate' },
  ]);
  const bad = planPod(pod({ volumes: [{ name: 'x', hostPath: { path: '/a:b', type: 'Pipe' } }], containers: [busybox()] }), env());
  assert.deepEqual(bad.errors.map((e) => e.field), ['spec.volumes[0].hostPath.type', 'spec.volumes[0].hostPath.path']);
});

test('configMap volumes: all keys, items, modes, binary data, optional and missing', () => {
  const plan = planPod(pod({
    volumes: [
      { name: 'all', configMap: { name: 'settings' } },
      { name: 'some', configMap: { name: 'settings', defaultMode: 0o440, items: [{ key: 'app.conf', path: 'conf/app.conf' }, { key: 'LOG_LEVEL', path: 'level', mode: 0o600 }] } },
      { name: 'opt', configMap: { name: 'absent', optional: true } },
    ],
    containers: [busybox({ volumeMounts: [{ name: 'all', mountPath: '/etc/all' }, { name: 'some', mountPath: '/etc/some', readOnly: false }] })],
  }), env());
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(plan.files.filter((f) => f.volume !== 'opt').map((f) => [f.volume, f.path, f.content.toString('base64'), f.mode.toString(8)]), [
    ['all', 'LOG_LEVEL', b64('debug'), '644'],
    ['all', 'app.conf', b64('listen 8080\n'), '644'],
    ['all', 'logo.bin', Buffer.from([0, 1, 2, 255]).toString('base64'), '644'],
    ['all', 'my-key', b64('dash'), '644'],
    ['all', 'with space', b64('sp'), '644'],
    ['some', 'conf/app.conf', b64('listen 8080\n'), '440'],
    ['some', 'level', b64('debug'), '600'],
  ]);
  assert.equal(plan.files.filter((f) => f.volume === 'opt').length, 0);
  // configMap volumes are read-only whatever the mount says, as on Kubernetes.
  assert.deepEqual(main(plan).HostConfig.Mounts!.map((m) => m.ReadOnly), [true, true]);
  const mounts = plan.sandbox.body.HostConfig.Mounts!;
  assert.equal(mounts.find((m) => m.Target === '/k2d/volumes/all')!.VolumeOptions!.DriverConfig, undefined, 'configMaps live on disk');

  const missing = planPod(pod({
    volumes: [{ name: 'a', configMap: { name: 'absent' } }, { name: 'b', configMap: { name: 'settings', items: [{ key: 'nope', path: 'x' }, { key: 'LOG_LEVEL', path: 'y' }] } }, { name: 'c', configMap: { name: 'settings', optional: true, items: [{ key: 'nope', path: 'x' }] } }],
    containers: [busybox()],
  }), env());
  assert.deepEqual(missing.errors, [
    { field: 'spec.volumes[0].configMap', message: 'configmap "absent" not found', reason: 'FailedMount' },
    { field: 'spec.volumes[1].configMap', message: 'configmap references non-existent config key: nope', reason: 'FailedMount' },
  ]);
  assert.deepEqual(missing.files.map((f) => `${f.volume}/${f.path}`), ['b/y']);
});

test('secret volumes: tmpfs, bytes decoded exactly, fsGroup ownership', () => {
  const plan = planPod(pod({
    securityContext: { fsGroup: 2000 },
    volumes: [{ name: 'creds', secret: { secretName: 'db', defaultMode: 0o400 } }, { name: 'one', secret: { secretName: 'db', items: [{ key: 'password', path: 'pw' }] } }, { name: 'gone', secret: { secretName: 'absent' } }],
    containers: [busybox({ volumeMounts: [{ name: 'creds', mountPath: '/creds' }] })],
  }), env());
  assert.deepEqual(plan.files.map((f) => [f.volume, f.path, f.content.toString('hex'), f.mode.toString(8), f.gid]), [
    ['creds', 'password', Buffer.from('s3cr3t').toString('hex'), '440', 2000],
    ['creds', 'tls.key', 'deadbeef', '440', 2000],
    ['one', 'pw', Buffer.from('s3cr3t').toString('hex'), '644', 2000],
  ]);
  assert.deepEqual(plan.errors, [{ field: 'spec.volumes[2].secret', message: 'secret "absent" not found', reason: 'FailedMount' }]);
  const sbMount = plan.sandbox.body.HostConfig.Mounts!.find((m) => m.Target === '/k2d/volumes/creds')!;
  assert.deepEqual(sbMount.VolumeOptions!.DriverConfig, { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } });
  assert.deepEqual(main(plan).HostConfig.Mounts, [{ Type: 'volume', Source: `k2d_${UID}_creds`, Target: '/creds', ReadOnly: true, VolumeOptions: { NoCopy: true } }]);
  assert.deepEqual(main(plan).HostConfig.GroupAdd, ['2000']);
});

test('downwardAPI volumes format labels and annotations as kubelet does', () => {
  const plan = planPod(pod({
    volumes: [{ name: 'info', downwardAPI: { items: [
      { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
      { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
      { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
      { path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" }, mode: 0o600 },
      { path: 'mem', resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' } },
    ] } }],
    containers: [busybox({ resources: { limits: { memory: '32Mi' } } })],
  }, { labels: { tier: 'front', app: 'web' }, annotations: { note: 'say "hi"\nbye' } }), env());
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(plan.files.map((f) => [f.path, f.content.toString(), f.mode.toString(8)]), [
    ['labels', 'app="web"\ntier="front"', '644'],
    ['annotations', 'note="say \\"hi\\"\\nbye"', '644'],
    ['name', 'web', '644'],
    ['tier', 'front', '600'],
    ['mem', '32', '644'],
  ]);
  // Pod metadata changes reach the files through podVolumeFiles.
  const relabelled = podVolumeFiles(pod({ volumes: [{ name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }], containers: [busybox()] }, { labels: { v: '2' } }), env());
  assert.equal(relabelled.files[0].content.toString(), 'v="2"');
  const bad = planPod(pod({ volumes: [{ name: 'i', downwardAPI: { items: [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }] } }], containers: [busybox()] }), env());
  assert.deepEqual(bad.errors.map((e) => [e.field, e.message]), [['spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath', 'Unsupported value: "status.podIP"']]);
});

test('projected volumes: configMap, secret, downwardAPI and service account token sources', () => {
  const spec = {
    volumes: [{ name: 'kube-api-access', projected: { defaultMode: 0o420, sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
      { configMap: { name: 'settings', items: [{ key: 'app.conf', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      { secret: { name: 'db', items: [{ key: 'password', path: 'pw', mode: 0o400 }] } },
      { clusterTrustBundle: { signerName: 'x', path: 'b' } },
    ] } }],
    containers: [busybox({ volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }] })],
  };
  const calls: unknown[] = [];
  const plan = planPod(pod(spec), env({ serviceAccountToken: (...args) => { calls.push(args); return 'eyJtoken'; } }));
  assert.deepEqual(calls, [['shop', 'default', '', 3607]]);
  assert.deepEqual(plan.files.map((f) => [f.path, f.content.toString(), f.mode.toString(8)]), [
    ['token', 'eyJtoken', '420'], ['ca.crt', 'listen 8080\n', '420'], ['namespace', 'shop', '420'], ['pw', 's3cr3t', '400'],
  ]);
  assert.deepEqual(plan.warnings, ['volume "kube-api-access": projected clusterTrustBundle sources are not supported on this node and are left out']);
  assert.deepEqual(plan.sandbox.body.HostConfig.Mounts![0].VolumeOptions!.DriverConfig!.Options, { type: 'tmpfs', device: 'tmpfs' });
  // No token issuer: the pod still runs, without the token, and says so.
  const noToken = planPod(pod(spec), env());
  assert.deepEqual(noToken.files.map((f) => f.path), ['ca.crt', 'namespace', 'pw']);
  assert.equal(noToken.warnings[0], 'volume "kube-api-access": no service account token can be issued on this node; token is left out');
  assert.deepEqual(noToken.errors, []);
});

test('persistentVolumeClaim: the bound Docker volume, read-only when the claim says so', () => {
  const plan = planPod(pod({
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }, { name: 'ro', persistentVolumeClaim: { claimName: 'data', readOnly: true } }],
    containers: [busybox({ volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'ro', mountPath: '/ro' }] })],
  }), env());
  assert.deepEqual(plan.errors, []);
  assert.deepEqual(main(plan).HostConfig.Mounts, [
    { Type: 'volume', Source: 'k2d-pvc-data', Target: '/data', VolumeOptions: { NoCopy: true } },
    { Type: 'volume', Source: 'k2d-pvc-data', Target: '/ro', ReadOnly: true, VolumeOptions: { NoCopy: true } },
  ]);
  // The sandbox mounts the claim without owning it: no labels, never removed with the pod.
  assert.deepEqual(plan.sandbox.body.HostConfig.Mounts![0], { Type: 'volume', Source: 'k2d-pvc-data', Target: '/k2d/volumes/data', VolumeOptions: { NoCopy: true } });
  const unbound = planPod(pod({ volumes: [{ name: 'x', persistentVolumeClaim: { claimName: 'pending' } }], containers: [busybox({ volumeMounts: [{ name: 'x', mountPath: '/x' }] })] }), env());
  assert.deepEqual(unbound.errors, [{ field: 'spec.volumes[0].persistentVolumeClaim.claimName', message: 'persistentvolumeclaim "pending" not found', reason: 'FailedMount' }]);
  assert.equal(main(unbound).HostConfig.Mounts, undefined);
});

test('subPath: VolumeOptions.Subpath from API 1.45, a bind of the volume directory before', () => {
  const spec = {
    volumes: [{ name: 'cfg', configMap: { name: 'settings' } }, { name: 'data', persistentVolumeClaim: { claimName: 'data' } }, { name: 'scratch', emptyDir: {} }],
    containers: [busybox({ volumeMounts: [
      { name: 'cfg', mountPath: '/etc/app.conf', subPath: 'app.conf' },
      { name: 'data', mountPath: '/var/lib/mysql', subPath: 'mysql/' },
      { name: 'scratch', mountPath: '/tmp/a', subPath: 'a/b' },
    ] })],
  };
  const modern = planPod(pod(spec), env({ apiVersion: '1.47' }));
  assert.deepEqual(main(modern).HostConfig.Mounts, [
    { Type: 'volume', Source: `k2d_${UID}_cfg`, Target: '/etc/app.conf', ReadOnly: true, VolumeOptions: { NoCopy: true, Subpath: 'app.conf' } },
    { Type: 'volume', Source: 'k2d-pvc-data', Target: '/var/lib/mysql', VolumeOptions: { NoCopy: true, Subpath: 'mysql' } },
    { Type: 'volume', Source: `k2d_${UID}_scratch`, Target: '/tmp/a', VolumeOptions: { NoCopy: true, Subpath: 'a/b' } },
  ]);
  // Kubernetes creates a missing subPath directory; the config key is a file that exists already.
  assert.deepEqual(modern.files.filter((f) => f.ifMissing), [
    { volume: 'data', path: 'mysql', content: Buffer.alloc(0), mode: 0o755, dir: true, ifMissing: true },
    { volume: 'scratch', path: 'a/b', content: Buffer.alloc(0), mode: 0o777, dir: true, ifMissing: true },
  ]);
  const old = planPod(pod(spec), env({ apiVersion: '1.41', volumeRoot: '/var/lib/docker/volumes/' }));
  assert.deepEqual(main(old).HostConfig.Mounts, [
    { Type: 'bind', Source: `/var/lib/docker/volumes/k2d_${UID}_cfg/_data/app.conf`, Target: '/etc/app.conf', ReadOnly: true },
    { Type: 'bind', Source: '/var/lib/docker/volumes/k2d-pvc-data/_data/mysql', Target: '/var/lib/mysql' },
    { Type: 'bind', Source: `/var/lib/docker/volumes/k2d_${UID}_scratch/_data/a/b`, Target: '/tmp/a' },
  ]);
  const stuck = planPod(pod(spec), env({ apiVersion: '1.41' }));
  assert.deepEqual(stuck.errors.map((e) => [e.field, e.reason]), [
    ['spec.containers[0].volumeMounts[0].subPath', 'Invalid'], ['spec.containers[0].volumeMounts[1].subPath', 'Invalid'], ['spec.containers[0].volumeMounts[2].subPath', 'Invalid'],
  ]);
});

test('subPathExpr expands the container env; a missing value or an escaping path fails the container', () => {
  const vols = [{ name: 'logs', emptyDir: {} }];
  const ok = planPod(pod({ volumes: vols, containers: [busybox({
    env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
    volumeMounts: [{ name: 'logs', mountPath: '/logs', subPathExpr: '$(POD_NAME)/app' }],
  })] }), env());
  assert.deepEqual(ok.errors, []);
  assert.equal(main(ok).HostConfig.Mounts![0].VolumeOptions!.Subpath, 'web/app');
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ subPathExpr: '$(NOPE)/x' }, 'spec.containers[0].volumeMounts[0].subPathExpr', 'missing value for NOPE'],
    [{ subPath: '../etc' }, 'spec.containers[0].volumeMounts[0].subPath', "unable to provision SubPath `../etc`: must not contain '..'"],
    [{ subPath: '/etc' }, 'spec.containers[0].volumeMounts[0].subPath', 'error SubPath `/etc` must not be an absolute path'],
  ];
  for (const [vm, field, message] of cases) {
    const plan = planPod(pod({ volumes: vols, containers: [busybox({ volumeMounts: [{ name: 'logs', mountPath: '/logs', ...vm }] })] }), env());
    assert.deepEqual(plan.errors, [{ field, message, reason: 'CreateContainerConfigError', container: 'main' }]);
  }
  const undeclared = planPod(pod({ containers: [busybox({ volumeMounts: [{ name: 'ghost', mountPath: '/g' }] })] }), env());
  assert.deepEqual(undeclared.errors.map((e) => [e.field, e.message]), [['spec.containers[0].volumeMounts[0].name', 'Not found: "ghost"']]);
});

test('emptyDir with fsGroup: setgid directory owned by the group', () => {
  const plan = planPod(pod({ securityContext: { fsGroup: 1500 }, volumes: [{ name: 'work', emptyDir: {} }], containers: [busybox({ volumeMounts: [{ name: 'work', mountPath: '/work', subPath: 'x' }] })] }), env());
  assert.deepEqual(plan.files, [
    { volume: 'work', path: '', content: Buffer.alloc(0), mode: 0o2777, dir: true, gid: 1500 },
    { volume: 'work', path: 'x', content: Buffer.alloc(0), mode: 0o777, dir: true, ifMissing: true, gid: 1500 },
  ]);
});

test('a ConfigMap change shows in podVolumeFiles, the live-update path', () => {
  const spec = { volumes: [{ name: 'cfg', configMap: { name: 'live' } }], containers: [busybox({ volumeMounts: [{ name: 'cfg', mountPath: '/cfg' }] })] };
  let live: KObject = { metadata: { name: 'live' }, data: { a: '1', b: '2' } };
  const e = env({ configMaps: (_ns, n) => (n === 'live' ? live : undefined) });
  assert.deepEqual(podVolumeFiles(pod(spec), e).files.map((f) => `${f.path}=${f.content}`), ['a=1', 'b=2']);
  live = { metadata: { name: 'live' }, data: { a: '3' } };
  const after = podVolumeFiles(pod(spec), e);
  assert.deepEqual(after.files.map((f) => `${f.path}=${f.content}`), ['a=3']);
  assert.deepEqual(after.errors, []);
});
