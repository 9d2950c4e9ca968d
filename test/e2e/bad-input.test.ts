// Bad input: the right 4xx Status naming the problem, nothing stored, the server keeps serving.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectl, request, startServer, uniqueName, type Server } from './harness.ts';

let s: Server;
let ns: string;
before(async () => {
  s = await startServer();
  ns = uniqueName('bad');
  const r = await request(s, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } } });
  assert.equal(r.status, 201);
});
after(async () => { await s?.stop(); });

const base = () => `/api/v1/namespaces/${ns}/configmaps`;

async function assertNothingStored(name: string): Promise<void> {
  const r = await request(s, 'GET', `${base()}/${name}`);
  assert.equal(r.status, 404, `${name} must not exist`);
}

async function assertStatus(r: { status: number; body: any }, code: number, reason: string, message: RegExp): Promise<void> {
  assert.equal(r.status, code, JSON.stringify(r.body));
  assert.equal(r.body.kind, 'Status');
  assert.equal(r.body.status, 'Failure');
  assert.equal(r.body.code, code);
  assert.equal(r.body.reason, reason);
  assert.match(r.body.message, message);
  // Still serving.
  assert.equal((await request(s, 'GET', '/api/v1/namespaces/default')).status, 200);
}

test('malformed JSON is a 400 naming the parse error', async () => {
  const r = await request(s, 'POST', base(), { body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m1"', contentType: 'application/json' });
  await assertStatus(r, 400, 'BadRequest', /json/i);
  await assertNothingStored('m1');
});

test('malformed YAML is a 400', async () => {
  const r = await request(s, 'POST', base(), { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m2\n data: [\n', contentType: 'application/yaml' });
  await assertStatus(r, 400, 'BadRequest', /yaml/i);
  await assertNothingStored('m2');
});

test('YAML bodies are accepted', async () => {
  const r = await request(s, 'POST', base(), { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y1\ndata:\n  a: b\n', contentType: 'application/yaml' });
  assert.equal(r.status, 201);
  const y = await request(s, 'GET', `${base()}/y1`, { headers: { accept: 'application/yaml' } });
  assert.equal(y.headers['content-type'], 'application/yaml');
  assert.match(y.text, /^kind: ConfigMap$/m);
});

test('a body over 3 MiB is a 413', async () => {
  const big = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(3 * 1024 * 1024 + 10) } };
  const r = await request(s, 'POST', base(), { body: big });
  await assertStatus(r, 413, 'RequestEntityTooLarge', /too large/i);
  await assertNothingStored('big');
});

test('kind or apiVersion that do not match the URL are a 400', async () => {
  const r = await request(s, 'POST', base(), { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k1' } } });
  await assertStatus(r, 400, 'BadRequest', /kind/);
  const v = await request(s, 'POST', base(), { body: { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'k2' } } });
  await assertStatus(v, 400, 'BadRequest', /apps\/v1/);
  await assertNothingStored('k1');
  await assertNothingStored('k2');
});

test('a name that is not a DNS-1123 name is a 422 naming the field', async () => {
  const r = await request(s, 'POST', base(), { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } } });
  await assertStatus(r, 422, 'Invalid', /metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  assert.equal(r.body.details.causes[0].field, 'metadata.name');
  const ns2 = await request(s, 'POST', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'has.dot' } } });
  await assertStatus(ns2, 422, 'Invalid', /metadata\.name: Invalid value: "has\.dot": (must not contain dots|a lowercase RFC 1123 label)/);
  const label = await request(s, 'POST', base(), { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lab', labels: { 'bad key!': 'v' } } } });
  await assertStatus(label, 422, 'Invalid', /metadata\.labels/);
  await assertNothingStored('lab');
});

test('a namespace in the body that differs from the URL is a 400', async () => {
  const r = await request(s, 'POST', base(), { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n1', namespace: 'default' } } });
  await assertStatus(r, 400, 'BadRequest', /namespace of the provided object does not match the namespace sent on the request/);
  await assertNothingStored('n1');
});

test('a namespace that does not exist is a 404', async () => {
  const r = await request(s, 'POST', '/api/v1/namespaces/nowhere-x/configmaps', { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n2' } } });
  await assertStatus(r, 404, 'NotFound', /namespaces "nowhere-x" not found/);
});

test('unknown and duplicate fields: Strict rejects, Warn warns, Ignore ignores', async () => {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'u1' }, dataa: { a: 'b' } };
  const strict = await request(s, 'POST', `${base()}?fieldValidation=Strict`, { body });
  await assertStatus(strict, 400, 'BadRequest', /ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "dataa"/);
  await assertNothingStored('u1');
  const warn = await request(s, 'POST', `${base()}?fieldValidation=Warn`, { body });
  assert.equal(warn.status, 201);
  // The Warning header quotes its text, escaping inner quotes, as the apiserver does.
  assert.equal(warn.headers.warning, '299 - "unknown field \\"dataa\\""');
  const ignore = await request(s, 'POST', `${base()}?fieldValidation=Ignore`, { body: { ...body, metadata: { name: 'u2' } } });
  assert.equal(ignore.status, 201);
  assert.equal(ignore.headers.warning, undefined);
  const dupText = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d1"},"data":{"a":"1","a":"2"}}';
  const dup = await request(s, 'POST', `${base()}?fieldValidation=Strict`, { body: dupText });
  await assertStatus(dup, 400, 'BadRequest', /duplicate field "data\.a"/);
  await assertNothingStored('d1');
  const wrongType = await request(s, 'POST', `${base()}?fieldValidation=Strict`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1' }, data: { a: 5 } } });
  assert.ok(wrongType.status === 400 || wrongType.status === 422, wrongType.text);
  assert.match(wrongType.body.message, /data/);
  await assertNothingStored('w1');
});

test('kubectl with default validation rejects an unknown field', async () => {
  const res = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kv\ndatta:\n  a: b\n' });
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /unknown field "datta"/);
  await assertNothingStored('kv');
});

test('invalid label and field selectors are a 400', async () => {
  const l = await request(s, 'GET', `${base()}?labelSelector=${encodeURIComponent('a in (b')}`);
  await assertStatus(l, 400, 'BadRequest', /unable to parse requirement|found|expected/);
  const f = await request(s, 'GET', `${base()}?fieldSelector=${encodeURIComponent('spec.nothing=x')}`);
  await assertStatus(f, 400, 'BadRequest', /field label not supported|not a known field selector|spec\.nothing/);
});

test('an unsupported media type is a 415', async () => {
  const r = await request(s, 'POST', base(), { body: 'name=x', contentType: 'application/x-www-form-urlencoded' });
  await assertStatus(r, 415, 'UnsupportedMediaType', /unknown format/);
  const cbor = await request(s, 'PATCH', `${base()}/y1?fieldManager=x`, { body: Buffer.from([0xa0]), contentType: 'application/apply-patch+cbor' });
  await assertStatus(cbor, 415, 'UnsupportedMediaType', /unknown format/);
});

test('a patch that does not apply is a 4xx and changes nothing', async () => {
  const before = await request(s, 'GET', `${base()}/y1`);
  const jp = await request(s, 'PATCH', `${base()}/y1`, { body: [{ op: 'test', path: '/data/a', value: 'zzz' }, { op: 'replace', path: '/data/a', value: 'q' }], contentType: 'application/json-patch+json' });
  assert.ok(jp.status === 422 || jp.status === 400, jp.text);
  assert.equal(jp.body.kind, 'Status');
  const bad = await request(s, 'PATCH', `${base()}/y1`, { body: '{not json', contentType: 'application/merge-patch+json' });
  await assertStatus(bad, 400, 'BadRequest', /json/i);
  const notFound = await request(s, 'PATCH', `${base()}/nothere`, { body: {}, contentType: 'application/merge-patch+json' });
  await assertStatus(notFound, 404, 'NotFound', /configmaps "nothere" not found/);
  const after = await request(s, 'GET', `${base()}/y1`);
  assert.equal(after.body.metadata.resourceVersion, before.body.metadata.resourceVersion);
});

test('a client that accepts only protobuf gets 406', async () => {
  const r = await request(s, 'GET', `${base()}/y1`, { headers: { accept: 'application/vnd.kubernetes.protobuf' } });
  await assertStatus(r, 406, 'NotAcceptable', /media type/);
});
