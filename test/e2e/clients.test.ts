// The newest clients on the wire: kubectl 1.35 protobuf bodies compared with their JSON twins,
// Helm 4 (server-side apply, protobuf release Secrets) and Helm 3, and the official JS client.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { helmOk, kubeClient, kubectl, kubectlOk, repoRoot, request, startServer, uniqueName, type Server } from './harness.ts';

let s: Server;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

const chart = join(repoRoot, 'test', 'fixtures', 'charts', 'settings');

/** The object minus what the server sets, for comparing a protobuf create with its JSON twin. */
function userPart(o: any): any {
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, namespace: _n, generation: _g, ...meta } = o.metadata;
  const { metadata: _md, ...rest } = o;
  // kubectl re-encodes what it prints through Go structs, where an unset status is `{}`.
  if (rest.status && Object.keys(rest.status).length === 0) delete rest.status;
  return { ...rest, metadata: meta };
}

test('kubectl 1.35 create (protobuf bodies) stores what the JSON twin stores', async (t) => {
  const nsA = uniqueName('pb');
  const nsB = uniqueName('js');
  // create namespace is itself a protobuf POST.
  await kubectlOk(s, ['create', 'namespace', nsA]);
  await kubectlOk(s, ['create', 'namespace', nsB]);
  const cases: Array<[string, string[]]> = [
    ['configmap', ['create', 'configmap', 'c', '--from-literal=a=b', '--from-literal=empty=']],
    ['secret', ['create', 'secret', 'generic', 's', '--from-literal=k=v']],
    ['registry secret', ['create', 'secret', 'docker-registry', 'r', '--docker-server=reg.example', '--docker-username=u', '--docker-password=p']],
    ['serviceaccount', ['create', 'serviceaccount', 'sa']],
    ['role', ['create', 'role', 'ro', '--verb=get,list', '--resource=configmaps']],
    ['deployment', ['create', 'deployment', 'dep', '--image=busybox:k2d-twin', '--replicas=0']],
    ['service', ['create', 'service', 'clusterip', 'svc', '--tcp=80:8080']],
    ['job', ['create', 'job', 'jb', '--image=busybox:latest', '--', 'true']],
    ['cronjob', ['create', 'cronjob', 'cj', '--image=busybox:latest', '--schedule=0 0 1 1 *', '--', 'true']],
  ];
  for (const [what, args] of cases) {
    await t.test(what, async () => {
      const pb = await kubectl(s, flagsFirst(args, ['-n', nsA, '-o', 'json', '-v=8']));
      assert.equal(pb.code, 0, pb.stderr);
      const sentProto = /Request Headers:[\s\S]*?Content-Type: application\/vnd\.kubernetes\.protobuf/.test(pb.stderr)
        || /Content-Type: application\/vnd\.kubernetes\.protobuf/.test(pb.stderr);
      const twin = await kubectlOk(s, flagsFirst(args, ['-n', nsB, '--dry-run=client', '-o', 'json']));
      const tw = JSON.parse(twin.stdout);
      const base = (ns: string) => `${tw.apiVersion === 'v1' ? '/api/v1' : '/apis/' + tw.apiVersion}/namespaces/${ns}/${plural(tw.kind)}`;
      const created = await request(s, 'POST', base(nsB), { body: twin.stdout });
      assert.equal(created.status, 201, created.text);
      // What is stored, read raw: kubectl's own output goes through Go structs, which would hide
      // a false or 0 stored only from the protobuf body.
      const storedA = await request(s, 'GET', `${base(nsA)}/${JSON.parse(pb.stdout).metadata.name}`);
      const storedB = await request(s, 'GET', `${base(nsB)}/${tw.metadata.name}`);
      assert.equal(storedA.status, 200, storedA.text);
      const a = userPart(storedA.body);
      const b = userPart(storedB.body);
      // Status is the controllers' (a Deployment's, a Job's), written at their own moments.
      delete a.status;
      delete b.status;
      // What the server makes from a uid or an allocator differs by design: a Job's selector
      // and labels carry its uid, a Service gets its own cluster IP.
      for (const o of [a, b]) sameServerChoices(o);
      assert.deepEqual(a, b);
      if (what !== 'role') assert.ok(sentProto, `kubectl 1.35 sent ${what} as protobuf`);
    });
  }
  await t.test('namespace', async () => {
    const name = uniqueName('pbns');
    const pb = await kubectl(s, ['create', 'namespace', name, '-o', 'json', '-v=8']);
    assert.equal(pb.code, 0, pb.stderr);
    assert.match(pb.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/);
    const twin = JSON.parse((await kubectlOk(s, ['create', 'namespace', `${name}-js`, '--dry-run=client', '-o', 'json'])).stdout);
    const created = await request(s, 'POST', '/api/v1/namespaces', { body: twin });
    assert.equal(created.status, 201, created.text);
    const a = userPart(JSON.parse(pb.stdout));
    const b = userPart(created.body);
    // The names differ by design; so do the name labels the server sets from them.
    for (const o of [a, b]) { delete o.metadata.name; delete o.metadata.labels['kubernetes.io/metadata.name']; }
    assert.deepEqual(a, b);
    await kubectlOk(s, ['delete', 'ns', name, `${name}-js`]);
  });
  const cm = JSON.parse((await kubectlOk(s, ['get', 'cm', 'c', '-n', nsA, '-o', 'json'])).stdout);
  assert.deepEqual(cm.data, { a: 'b', empty: '' });
  await kubectlOk(s, ['delete', 'ns', nsA, nsB]);
});

function plural(kind: string): string {
  return ({
    ConfigMap: 'configmaps', Secret: 'secrets', ServiceAccount: 'serviceaccounts', Role: 'roles', Deployment: 'deployments',
    Service: 'services', Job: 'jobs', CronJob: 'cronjobs',
  } as Record<string, string>)[kind];
}

/** The flags go before a `--`, after which everything is the container's command. */
function flagsFirst(args: string[], flags: string[]): string[] {
  const i = args.indexOf('--');
  return i < 0 ? [...args, ...flags] : [...args.slice(0, i), ...flags, ...args.slice(i)];
}

/** Blanks the values the server derives from a uid or allocates, which differ between twins. */
function sameServerChoices(o: any): void {
  const uidLabels = (labels: Record<string, string> | undefined) => {
    for (const k of ['batch.kubernetes.io/controller-uid', 'controller-uid']) if (labels?.[k]) labels[k] = '<uid>';
  };
  if (o.kind === 'Job') {
    uidLabels(o.metadata.labels);
    uidLabels(o.spec?.selector?.matchLabels);
    uidLabels(o.spec?.template?.metadata?.labels);
  }
  if (o.kind === 'Service') {
    if (o.spec?.clusterIP) o.spec.clusterIP = '<ip>';
    if (o.spec?.clusterIPs) o.spec.clusterIPs = ['<ip>'];
  }
}

test('kubectl 1.35 auth can-i (protobuf SelfSubjectAccessReview) says yes', async () => {
  const out = await kubectlOk(s, ['auth', 'can-i', 'get', 'pods']);
  assert.equal(out.stdout.trim(), 'yes');
});

for (const version of ['1.35', '1.31'] as const) {
  test(`kubectl ${version} auth whoami (SelfSubjectReview): the token holder, in system:masters`, async () => {
    const r = await kubectlOk(s, ['auth', 'whoami', '-o', 'json'], { version });
    const review = JSON.parse(r.stdout);
    assert.equal(review.kind, 'SelfSubjectReview');
    assert.equal(review.status.userInfo.username, 'k2d');
    assert.deepEqual(review.status.userInfo.groups, ['system:masters', 'system:authenticated']);
  });
}

test('a protobuf body that does not decode, or names another kind, is a 400', async () => {
  const garbage = Buffer.concat([Buffer.from('k8s\0'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01])]);
  const r = await request(s, 'POST', '/api/v1/namespaces/default/configmaps', { body: garbage, contentType: 'application/vnd.kubernetes.protobuf' });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.body.kind, 'Status');
  assert.equal((await request(s, 'GET', '/api/v1/namespaces/default')).status, 200);
});

for (const version of [4, 3] as const) {
  test(`Helm ${version}: install, upgrade, list, history, rollback, uninstall a chart of ConfigMaps and Secrets`, async () => {
    const ns = uniqueName(`helm${version}`);
    const rel = `rel${version}`;
    await kubectlOk(s, ['create', 'namespace', ns]);
    await helmOk(s, ['install', rel, chart, '-n', ns], { version });
    const cm = JSON.parse((await kubectlOk(s, ['get', 'cm', `${rel}-config`, '-n', ns, '-o', 'json'])).stdout);
    assert.equal(cm.data.greeting, 'hello');
    const sec = JSON.parse((await kubectlOk(s, ['get', 'secret', `${rel}-secret`, '-n', ns, '-o', 'json'])).stdout);
    assert.equal(Buffer.from(sec.data.password, 'base64').toString(), 's3cret');
    await helmOk(s, ['upgrade', rel, chart, '-n', ns, '--set', 'greeting=bye'], { version });
    const cm2 = JSON.parse((await kubectlOk(s, ['get', 'cm', `${rel}-config`, '-n', ns, '-o', 'json'])).stdout);
    assert.equal(cm2.data.greeting, 'bye');
    const list = await helmOk(s, ['list', '-A', '-o', 'json'], { version });
    const entry = JSON.parse(list.stdout).find((r: { name: string }) => r.name === rel);
    assert.equal(entry.status, 'deployed');
    assert.equal(entry.revision, '2');
    const hist = await helmOk(s, ['history', rel, '-n', ns, '-o', 'json'], { version });
    assert.equal(JSON.parse(hist.stdout).length, 2);
    await helmOk(s, ['rollback', rel, '1', '-n', ns], { version });
    const cm3 = JSON.parse((await kubectlOk(s, ['get', 'cm', `${rel}-config`, '-n', ns, '-o', 'json'])).stdout);
    assert.equal(cm3.data.greeting, 'hello');
    const st = await helmOk(s, ['status', rel, '-n', ns], { version });
    assert.match(st.stdout, /STATUS: deployed/);
    await helmOk(s, ['uninstall', rel, '-n', ns], { version });
    assert.equal((await kubectl(s, ['get', 'cm', `${rel}-config`, '-n', ns])).code, 1);
    const left = await kubectlOk(s, ['get', 'secrets', '-n', ns, '-l', 'owner=helm', '-o', 'name']);
    assert.equal(left.stdout.trim(), '');
    await kubectlOk(s, ['delete', 'ns', ns]);
  });
}

test('helm template | kubectl apply works with validation on', async () => {
  const ns = uniqueName('tpl');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const tpl = await helmOk(s, ['template', 'tpl', chart], { version: 4 });
  const out = await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: tpl.stdout });
  assert.match(out.stdout, /configmap\/tpl-config created/);
  assert.match(out.stdout, /secret\/tpl-secret created/);
  await kubectlOk(s, ['delete', 'ns', ns]);
});

test('@kubernetes/client-node: create, read, list with selector, watch, delete', async () => {
  const kc = kubeClient(s);
  const core = kc.makeApiClient(CoreV1Api);
  const ns = uniqueName('js');
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const events: string[] = [];
  const watch = new Watch(kc);
  // Selected by label: the namespace also has its kube-root-ca.crt.
  const req = await watch.watch(`/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'k=v' }, (type, obj) => { events.push(`${type} ${obj.metadata.name}`); }, () => {});
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'js1', labels: { k: 'v' } }, data: { a: '1' } } });
  const got = await core.readNamespacedConfigMap({ name: 'js1', namespace: ns });
  assert.equal(got.data?.a, '1');
  const list = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'k=v' });
  assert.equal(list.items.length, 1);
  await core.deleteNamespacedConfigMap({ name: 'js1', namespace: ns });
  const deadline = Date.now() + 10_000;
  while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  req.abort();
  assert.deepEqual(events, ['ADDED js1', 'DELETED js1']);
  await assert.rejects(core.readNamespacedConfigMap({ name: 'js1', namespace: ns }), (e: any) => e.code === 404);
  await core.deleteNamespace({ name: ns });
});


