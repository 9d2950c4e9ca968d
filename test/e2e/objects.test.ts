// Stored kinds through real kubectl: create/get/list/apply/patch/delete, Tables, selectors,
// client-side and server-side apply, dry run, conflicts, finalizers, namespace deletion.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectl, kubectlOk, request, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const yaml = (lines: string[]) => lines.join('\n') + '\n';

test('system namespaces and the default ServiceAccount exist', async () => {
  const out = await kubectlOk(s, ['get', 'ns']);
  assert.match(out.stdout, /^NAME\s+STATUS\s+AGE$/m);
  for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(out.stdout, new RegExp(`^${n}\\s+Active\\s+`, 'm'));
  const sa = await kubectlOk(s, ['get', 'sa', '-n', 'kube-system', 'default', '-o', 'jsonpath={.metadata.name}']);
  assert.equal(sa.stdout, 'default');
});

test('the node is the Docker host', async () => {
  const out = await kubectlOk(s, ['get', 'nodes', '-o', 'json']);
  const node = JSON.parse(out.stdout).items[0];
  assert.match(node.status.nodeInfo.containerRuntimeVersion, /^docker:\/\//);
  assert.ok(Number(node.status.capacity.cpu) >= 1);
  assert.match(node.status.allocatable.memory, /^\d+Ki$/);
  assert.equal(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');
  const table = await kubectlOk(s, ['get', 'nodes']);
  assert.match(table.stdout, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/m);
  assert.match(table.stdout, /\sReady\s+control-plane\s/);
});

test('configmap: create, get with columns, label selectors, patch, replace conflict, delete', async () => {
  const ns = uniqueName('cm');
  await kubectlOk(s, ['create', 'namespace', ns]);
  await kubectlOk(s, ['create', 'configmap', 'one', '-n', ns, '--from-literal=a=1', '--from-literal=b=2']);
  await kubectlOk(s, ['create', 'configmap', 'two', '-n', ns, '--from-literal=a=1']);
  await kubectlOk(s, ['label', 'configmap', 'one', '-n', ns, 'tier=web', 'env=prod']);
  await kubectlOk(s, ['label', 'configmap', 'two', '-n', ns, 'tier=db']);
  const table = await kubectlOk(s, ['get', 'cm', '-n', ns]);
  assert.match(table.stdout, /^NAME\s+DATA\s+AGE$/m);
  assert.match(table.stdout, /^one\s+2\s+\d+s$/m);
  const sel = async (q: string) => (await kubectlOk(s, ['get', 'cm', '-n', ns, '-l', q, '-o', 'name'])).stdout.trim().split('\n').filter(Boolean).sort();
  assert.deepEqual(await sel('tier=web'), ['configmap/one']);
  assert.deepEqual(await sel('tier in (web,db)'), ['configmap/one', 'configmap/two']);
  // notin also selects what lacks the label, such as every namespace's kube-root-ca.crt.
  assert.deepEqual(await sel('tier notin (web)'), ['configmap/kube-root-ca.crt', 'configmap/two']);
  assert.deepEqual(await sel('env'), ['configmap/one']);
  assert.deepEqual(await sel('!env,tier'), ['configmap/two']);
  const fs = await kubectlOk(s, ['get', 'cm', '-n', ns, '--field-selector', 'metadata.name=two', '-o', 'name']);
  assert.equal(fs.stdout.trim(), 'configmap/two');
  await kubectlOk(s, ['patch', 'cm', 'one', '-n', ns, '--type=merge', '-p', '{"data":{"c":"3"}}']);
  await kubectlOk(s, ['patch', 'cm', 'one', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/data/a"}]']);
  await kubectlOk(s, ['patch', 'cm', 'one', '-n', ns, '-p', '{"data":{"d":"4"}}']);
  const got = JSON.parse((await kubectlOk(s, ['get', 'cm', 'one', '-n', ns, '-o', 'json', '--show-managed-fields'])).stdout);
  assert.deepEqual(got.data, { b: '2', c: '3', d: '4' });
  assert.ok(got.metadata.uid);
  assert.ok(got.metadata.managedFields.some((m: { manager: string }) => m.manager === 'kubectl-patch'));
  // A PUT carrying an old resourceVersion is a 409 Conflict.
  const stale = { ...got, metadata: { ...got.metadata, resourceVersion: '1' } };
  const r = await request(s, 'PUT', `/api/v1/namespaces/${ns}/configmaps/one`, { body: stale });
  assert.equal(r.status, 409);
  assert.equal(r.body.reason, 'Conflict');
  assert.match(r.body.message, /the object has been modified; please apply your changes to the latest version and try again/);
  const dup = await kubectl(s, ['create', 'configmap', 'one', '-n', ns]);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /configmaps "one" already exists/);
  await kubectlOk(s, ['delete', 'cm', 'one', '-n', ns]);
  const gone = await kubectl(s, ['get', 'cm', 'one', '-n', ns]);
  assert.match(gone.stderr, /configmaps "one" not found/);
  await kubectlOk(s, ['delete', 'ns', ns, '--wait=true']);
});

test('list with limit and continue pages through everything', async () => {
  const ns = uniqueName('page');
  await kubectlOk(s, ['create', 'namespace', ns]);
  for (let i = 0; i < 7; i++) await kubectlOk(s, ['create', 'configmap', `c${i}`, '-n', ns]);
  const names: string[] = [];
  let cont = '';
  let pages = 0;
  do {
    const r = await request(s, 'GET', `/api/v1/namespaces/${ns}/configmaps?limit=3${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    assert.equal(r.status, 200);
    names.push(...r.body.items.map((i: { metadata: { name: string } }) => i.metadata.name));
    cont = r.body.metadata.continue ?? '';
    pages++;
  } while (cont && pages < 10);
  assert.equal(pages, 3);
  // Every namespace has the root CA ConfigMap, as on a real cluster.
  assert.deepEqual(names, ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'kube-root-ca.crt']);
  const chunked = await kubectlOk(s, ['get', 'cm', '-n', ns, '--chunk-size=2', '-o', 'name']);
  assert.equal(chunked.stdout.trim().split('\n').length, 8);
  await kubectlOk(s, ['delete', 'cm', '--all', '-n', ns]);
  // ... and it comes back, as the root-ca-cert-publisher brings it back.
  await waitFor(async () => ((await kubectlOk(s, ['get', 'cm', '-n', ns, '-o', 'name'])).stdout.trim() === 'configmap/kube-root-ca.crt' ? true : undefined),
    { what: 'only kube-root-ca.crt left, recreated' });
});

test('secret: stringData folded into data, types, encrypted listing works, columns', async () => {
  const ns = uniqueName('sec');
  await kubectlOk(s, ['create', 'namespace', ns]);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml(['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: s1', 'stringData:', '  password: hunter2', 'data:', '  user: YWRtaW4=']) });
  const got = JSON.parse((await kubectlOk(s, ['get', 'secret', 's1', '-n', ns, '-o', 'json'])).stdout);
  assert.equal(got.type, 'Opaque');
  assert.equal(Buffer.from(got.data.password, 'base64').toString(), 'hunter2');
  assert.equal(got.stringData, undefined);
  await kubectlOk(s, ['create', 'secret', 'docker-registry', 'reg', '-n', ns, '--docker-server=r.example', '--docker-username=u', '--docker-password=p']);
  await kubectlOk(s, ['create', 'secret', 'generic', 'g', '-n', ns, '--from-literal=k=v']);
  const table = await kubectlOk(s, ['get', 'secrets', '-n', ns]);
  assert.match(table.stdout, /^NAME\s+TYPE\s+DATA\s+AGE$/m);
  assert.match(table.stdout, /^reg\s+kubernetes\.io\/dockerconfigjson\s+1\s+/m);
  const bad = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: yaml(['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: tls', 'type: kubernetes.io/tls', 'data:', '  tls.crt: YQ==']) });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /tls\.key/);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('client-side apply removes a field dropped from the manifest', async () => {
  const ns = uniqueName('csa');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const v1 = yaml(['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: app', '  labels:', '    a: "1"', '    b: "2"', 'data:', '  keep: "1"', '  drop: "2"']);
  const v2 = yaml(['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: app', '  labels:', '    a: "1"', 'data:', '  keep: "1"']);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: v1 });
  const out = await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: v2 });
  assert.match(out.stdout, /configmap\/app configured/);
  const got = JSON.parse((await kubectlOk(s, ['get', 'cm', 'app', '-n', ns, '-o', 'json'])).stdout);
  assert.deepEqual(got.data, { keep: '1' });
  assert.deepEqual(got.metadata.labels, { a: '1' });
  const again = await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: v2 });
  assert.match(again.stdout, /configmap\/app unchanged/);
  // A Role: rules are an atomic list, replaced as a whole.
  const role = (verbs: string) => yaml(['apiVersion: rbac.authorization.k8s.io/v1', 'kind: Role', 'metadata:', '  name: r', 'rules:', '- apiGroups: [""]', '  resources: [pods]', `  verbs: [${verbs}]`]);
  const w1 = await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: role('get, list') });
  assert.match(w1.stderr, /Warning: Role is stored and served, but has no effect/);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: role('get') });
  const r = JSON.parse((await kubectlOk(s, ['get', 'role', 'r', '-n', ns, '-o', 'json'])).stdout);
  assert.deepEqual(r.rules[0].verbs, ['get']);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('server-side apply: conflict names the field and manager; --force-conflicts takes it', async () => {
  const ns = uniqueName('ssa');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const m = (v: string) => yaml(['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: shared', 'data:', `  key: "${v}"`]);
  await kubectlOk(s, ['apply', '--server-side', '--field-manager=alice', '-n', ns, '-f', '-'], { input: m('a') });
  const c = await kubectl(s, ['apply', '--server-side', '--field-manager=bob', '-n', ns, '-f', '-'], { input: m('b') });
  assert.notEqual(c.code, 0);
  assert.match(c.stderr, /conflict/i);
  assert.match(c.stderr, /alice/);
  assert.match(c.stderr, /\.data\.key/);
  await kubectlOk(s, ['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-n', ns, '-f', '-'], { input: m('b') });
  const got = JSON.parse((await kubectlOk(s, ['get', 'cm', 'shared', '-n', ns, '-o', 'json', '--show-managed-fields'])).stdout);
  assert.equal(got.data.key, 'b');
  const bob = got.metadata.managedFields.find((f: { manager: string }) => f.manager === 'bob');
  assert.equal(bob.operation, 'Apply');
  assert.ok(bob.fieldsV1['f:data']['f:key']);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('--dry-run=server leaves nothing behind', async () => {
  const ns = uniqueName('dry');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const out = await kubectlOk(s, ['create', 'configmap', 'ghost', '-n', ns, '--from-literal=a=b', '--dry-run=server', '-o', 'json']);
  assert.equal(JSON.parse(out.stdout).metadata.name, 'ghost');
  const applied = await kubectlOk(s, ['apply', '--dry-run=server', '-n', ns, '-f', '-'], { input: yaml(['apiVersion: v1', 'kind: ServiceAccount', 'metadata:', '  name: ghost-sa']) });
  assert.match(applied.stdout, /serverside-applied|created \(server dry run\)/);
  assert.equal((await kubectl(s, ['get', 'cm', 'ghost', '-n', ns])).code, 1);
  assert.equal((await kubectl(s, ['get', 'sa', 'ghost-sa', '-n', ns])).code, 1);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('inert kinds are stored with every verb and a warning', async () => {
  const ns = uniqueName('inert');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const docs = [
    ['apiVersion: rbac.authorization.k8s.io/v1', 'kind: RoleBinding', 'metadata:', '  name: rb', 'roleRef:', '  apiGroup: rbac.authorization.k8s.io', '  kind: Role', '  name: r', 'subjects:', '- kind: ServiceAccount', '  name: default', `  namespace: ${ns}`],
    ['apiVersion: policy/v1', 'kind: PodDisruptionBudget', 'metadata:', '  name: pdb', 'spec:', '  minAvailable: 1', '  selector:', '    matchLabels:', '      app: x'],
    ['apiVersion: networking.k8s.io/v1', 'kind: NetworkPolicy', 'metadata:', '  name: np', 'spec:', '  podSelector: {}', '  policyTypes: [Ingress]'],
    ['apiVersion: autoscaling/v2', 'kind: HorizontalPodAutoscaler', 'metadata:', '  name: hpa', 'spec:', '  scaleTargetRef:', '    apiVersion: apps/v1', '    kind: Deployment', '    name: web', '  minReplicas: 1', '  maxReplicas: 3'],
    ['apiVersion: networking.k8s.io/v1', 'kind: Ingress', 'metadata:', '  name: ing', 'spec:', '  rules:', '  - host: a.example', '    http:', '      paths:', '      - path: /', '        pathType: Prefix', '        backend:', '          service:', '            name: web', '            port:', '              number: 80'],
    ['apiVersion: v1', 'kind: ResourceQuota', 'metadata:', '  name: rq', 'spec:', '  hard:', '    pods: "10"'],
    ['apiVersion: v1', 'kind: LimitRange', 'metadata:', '  name: lr', 'spec:', '  limits:', '  - type: Container', '    default:', '      memory: 128Mi'],
    ['apiVersion: coordination.k8s.io/v1', 'kind: Lease', 'metadata:', '  name: lease', 'spec:', '  holderIdentity: me', '  leaseDurationSeconds: 15'],
  ];
  const out = await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: docs.map((d) => d.join('\n')).join('\n---\n') + '\n' });
  assert.equal((out.stdout.match(/created/g) ?? []).length, docs.length);
  assert.match(out.stderr, /has no effect/);
  const cluster = [
    ['apiVersion: rbac.authorization.k8s.io/v1', 'kind: ClusterRole', 'metadata:', `  name: ${ns}-cr`, 'rules:', '- apiGroups: ["*"]', '  resources: ["*"]', '  verbs: ["*"]'],
    ['apiVersion: scheduling.k8s.io/v1', 'kind: PriorityClass', 'metadata:', `  name: ${ns}-pc`, 'value: 1000'],
    ['apiVersion: networking.k8s.io/v1', 'kind: IngressClass', 'metadata:', `  name: ${ns}-ic`, 'spec:', '  controller: example.com/ingress'],
  ];
  await kubectlOk(s, ['apply', '-f', '-'], { input: cluster.map((d) => d.join('\n')).join('\n---\n') + '\n' });
  const pdb = await kubectlOk(s, ['get', 'pdb', '-n', ns]);
  assert.match(pdb.stdout, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE$/m);
  const hpa = await kubectlOk(s, ['get', 'hpa', '-n', ns]);
  assert.match(hpa.stdout, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE$/m);
  assert.match(hpa.stdout, /Deployment\/web/);
  await kubectlOk(s, ['patch', 'lease', 'lease', '-n', ns, '--type=merge', '-p', '{"spec":{"holderIdentity":"you"}}']);
  assert.equal((await kubectlOk(s, ['get', 'lease', 'lease', '-n', ns, '-o', 'jsonpath={.spec.holderIdentity}'])).stdout, 'you');
  await kubectlOk(s, ['delete', 'clusterrole', `${ns}-cr`]);
  await kubectlOk(s, ['delete', 'priorityclass', `${ns}-pc`]);
  await kubectlOk(s, ['delete', 'ingressclass', `${ns}-ic`]);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('finalizers hold an object until they are removed', async () => {
  const ns = uniqueName('fin');
  await kubectlOk(s, ['create', 'namespace', ns]);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml(['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  name: held', '  finalizers: [example.com/hold]']) });
  await kubectlOk(s, ['delete', 'cm', 'held', '-n', ns, '--wait=false']);
  const got = JSON.parse((await kubectlOk(s, ['get', 'cm', 'held', '-n', ns, '-o', 'json'])).stdout);
  assert.ok(got.metadata.deletionTimestamp);
  await kubectlOk(s, ['patch', 'cm', 'held', '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
  assert.equal((await kubectl(s, ['get', 'cm', 'held', '-n', ns])).code, 1);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('ownerReferences: background deletion removes dependents, orphan keeps them', async () => {
  const ns = uniqueName('gc');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const mk = async (name: string) => JSON.parse((await kubectlOk(s, ['create', 'configmap', name, '-n', ns, '-o', 'json'])).stdout).metadata.uid as string;
  const owner = await mk('owner');
  const dep = (name: string, uid: string, o: string) => yaml(['apiVersion: v1', 'kind: ConfigMap', 'metadata:', `  name: ${name}`, '  ownerReferences:', '  - apiVersion: v1', '    kind: ConfigMap', `    name: ${o}`, `    uid: ${uid}`]);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: dep('child', owner, 'owner') });
  await kubectlOk(s, ['delete', 'cm', 'owner', '-n', ns]);
  await waitFor(async () => (await kubectl(s, ['get', 'cm', 'child', '-n', ns])).code === 1, { what: 'child collected' });
  const owner2 = await mk('owner2');
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: dep('child2', owner2, 'owner2') });
  await kubectlOk(s, ['delete', 'cm', 'owner2', '-n', ns, '--cascade=orphan']);
  await waitFor(async () => (await kubectl(s, ['get', 'cm', 'owner2', '-n', ns])).code === 1, { what: 'owner2 gone' });
  const child2 = JSON.parse((await kubectlOk(s, ['get', 'cm', 'child2', '-n', ns, '-o', 'json'])).stdout);
  assert.equal(child2.metadata.ownerReferences, undefined);
  const owner3 = await mk('owner3');
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: dep('child3', owner3, 'owner3') });
  await kubectlOk(s, ['delete', 'cm', 'owner3', '-n', ns, '--cascade=foreground']);
  await waitFor(async () => (await kubectl(s, ['get', 'cm', 'owner3', '-n', ns])).code === 1, { what: 'owner3 gone' });
  assert.equal((await kubectl(s, ['get', 'cm', 'child3', '-n', ns])).code, 1);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('deleting a namespace passes through Terminating and removes its content', async () => {
  const ns = uniqueName('term');
  await kubectlOk(s, ['create', 'namespace', ns]);
  await kubectlOk(s, ['create', 'configmap', 'x', '-n', ns]);
  await kubectlOk(s, ['create', 'secret', 'generic', 'y', '-n', ns, '--from-literal=a=b']);
  const r = await request(s, 'DELETE', `/api/v1/namespaces/${ns}`);
  assert.ok(r.status === 200 || r.status === 202);
  assert.equal(r.body.status.phase, 'Terminating');
  await waitFor(async () => (await request(s, 'GET', `/api/v1/namespaces/${ns}`)).status === 404, { what: 'namespace gone' });
  const cms = await request(s, 'GET', `/api/v1/namespaces/${ns}/configmaps`);
  assert.equal(cms.status, 200);
  assert.equal(cms.body.items.length, 0);
  const protectedNs = await kubectl(s, ['delete', 'ns', 'default']);
  assert.notEqual(protectedNs.code, 0);
  assert.match(protectedNs.stderr, /may not be deleted/);
});

test('kubectl auth can-i says yes; SelfSubjectRulesReview lists everything', async () => {
  const out = await kubectlOk(s, ['auth', 'can-i', 'get', 'pods']);
  assert.equal(out.stdout.trim(), 'yes');
  const list = await kubectlOk(s, ['auth', 'can-i', '--list']);
  assert.match(list.stdout, /\*\.\*/);
});

test('events: core/v1 and events.k8s.io/v1 are two views of the same events', async () => {
  const ns = uniqueName('ev');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const ev = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: ns }, involvedObject: { kind: 'ConfigMap', name: 'x', namespace: ns }, reason: 'Tested', message: 'hello', type: 'Normal', source: { component: 'test' } };
  const c = await request(s, 'POST', `/api/v1/namespaces/${ns}/events`, { body: ev });
  assert.equal(c.status, 201, c.text);
  const v1 = await request(s, 'GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events/e1`);
  assert.equal(v1.status, 200);
  assert.equal(v1.body.note, 'hello');
  assert.equal(v1.body.regarding.name, 'x');
  const out = await kubectlOk(s, ['get', 'events', '-n', ns]);
  assert.match(out.stdout, /Tested/);
  const byReason = await request(s, 'GET', `/api/v1/namespaces/${ns}/events?fieldSelector=reason%3DTested`);
  assert.equal(byReason.body.items.length, 1);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('status subresource: PUT/PATCH on /status change only status; the main resource keeps it', async () => {
  const ns = uniqueName('st');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const base = `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`;
  const created = await request(s, 'POST', base, { body: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' }, spec: { minAvailable: 1, selector: { matchLabels: { a: 'b' } } }, status: { currentHealthy: 99 } } });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.metadata.generation, 1);
  assert.equal(created.body.status?.currentHealthy, undefined, 'status on create is the server\'s');
  const st = await request(s, 'PATCH', `${base}/p/status`, { body: { status: { currentHealthy: 2, desiredHealthy: 1, disruptionsAllowed: 1, expectedPods: 2 }, spec: { minAvailable: 7 } }, contentType: 'application/merge-patch+json' });
  assert.equal(st.status, 200, st.text);
  assert.equal(st.body.status.currentHealthy, 2);
  assert.equal(st.body.spec.minAvailable, 1, 'spec does not change through /status');
  assert.equal(st.body.metadata.generation, 1);
  const main = await request(s, 'PATCH', `${base}/p`, { body: { spec: { minAvailable: 2 }, status: { currentHealthy: 0 } }, contentType: 'application/merge-patch+json' });
  assert.equal(main.body.spec.minAvailable, 2);
  assert.equal(main.body.status.currentHealthy, 2, 'status does not change through the main resource');
  assert.equal(main.body.metadata.generation, 2, 'a spec change bumps generation');
  const got = await request(s, 'GET', `${base}/p/status`);
  assert.equal(got.body.status.currentHealthy, 2);
  const put = await request(s, 'PUT', `${base}/p/status`, { body: { ...got.body, status: { ...got.body.status, currentHealthy: 3 } } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.status.currentHealthy, 3);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('the /watch/ paths and deletecollection with a label selector', async () => {
  const ns = uniqueName('wp');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const base = `/api/v1/namespaces/${ns}/configmaps`;
  for (const [n, l] of [['a', 'x'], ['b', 'x'], ['c', 'y']]) {
    assert.equal((await request(s, 'POST', base, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, labels: { l } } } })).status, 201);
  }
  const one = await request(s, 'GET', `/api/v1/watch/namespaces/${ns}/configmaps/b?timeoutSeconds=1`, { timeoutMs: 10_000 });
  assert.equal(one.status, 200);
  const events = one.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED b']);
  const all = await request(s, 'GET', `/api/v1/watch/namespaces/${ns}/configmaps?timeoutSeconds=1`, { timeoutMs: 10_000 });
  assert.equal(all.text.trim().split('\n').length, 4, 'a, b, c and the namespace\'s kube-root-ca.crt');
  const del = await request(s, 'DELETE', `${base}?labelSelector=l%3Dx`);
  assert.equal(del.status, 200, del.text);
  assert.equal(del.body.kind, 'ConfigMapList');
  const left = await request(s, 'GET', base);
  assert.deepEqual(left.body.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['c', 'kube-root-ca.crt']);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('webhook configurations are stored (inert) so that charts shipping them install: apply, patch caBundle, delete', async () => {
  const ns = uniqueName('wh');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const name = `${ns}-admission`;
  const manifest = [
    'apiVersion: admissionregistration.k8s.io/v1', 'kind: ValidatingWebhookConfiguration', `metadata: {name: ${name}}`, 'webhooks:',
    '- name: validate.nginx.ingress.kubernetes.io', '  admissionReviewVersions: [v1]', '  sideEffects: None', '  failurePolicy: Fail',
    '  matchPolicy: Equivalent', `  clientConfig: {service: {namespace: ${ns}, name: admission, path: /networking/v1/ingresses}}`,
    '  rules: [{apiGroups: [networking.k8s.io], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [ingresses]}]',
  ].join('\n') + '\n';
  for (const version of ['1.35', '1.31'] as const) {
    await kubectlOk(s, ['apply', '-f', '-'], { input: manifest, version });
  }
  await kubectlOk(s, ['patch', 'validatingwebhookconfiguration', name, '--type=json', '-p', '[{"op":"add","path":"/webhooks/0/clientConfig/caBundle","value":"Y2E="}]']);
  const got = JSON.parse((await kubectlOk(s, ['get', 'validatingwebhookconfiguration', name, '-o', 'json'])).stdout);
  assert.equal(got.webhooks[0].clientConfig.caBundle, 'Y2E=');
  assert.equal(got.webhooks[0].timeoutSeconds, 10, 'defaulted as upstream');
  // Inert: an Ingress the webhook would have to admit is created without calling it.
  await kubectlOk(s, ['create', 'ingress', 'web', '-n', ns, '--rule=example.test/=web:80']);
  await kubectlOk(s, ['delete', 'validatingwebhookconfiguration', name]);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('managedFields set to one empty entry strips them, as documented upstream', async () => {
  const ns = uniqueName('mf');
  await kubectlOk(s, ['create', 'namespace', ns]);
  await kubectlOk(s, ['create', 'configmap', 'cm1', '-n', ns, '--from-literal=a=1']);
  const before = JSON.parse((await kubectlOk(s, ['get', 'cm', 'cm1', '-n', ns, '-o', 'json', '--show-managed-fields'])).stdout);
  assert.ok(before.metadata.managedFields?.length);
  await kubectlOk(s, ['patch', 'cm', 'cm1', '-n', ns, '--type=json', '-p', '[{"op":"replace","path":"/metadata/managedFields","value":[{}]}]']);
  const after = JSON.parse((await kubectlOk(s, ['get', 'cm', 'cm1', '-n', ns, '-o', 'json', '--show-managed-fields'])).stdout);
  assert.equal(after.metadata.managedFields, undefined);
  assert.deepEqual(after.data, { a: '1' });
  await kubectlOk(s, ['delete', 'ns', ns]);
});
