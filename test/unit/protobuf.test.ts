// Protobuf request bodies: the descriptor codegen, and decoding every captured body into the JSON
// its sender would have written. test/fixtures/protobuf/README.md says where each body came from.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { generateProtoDescriptor } from '../../codegen/proto.ts';
import { ApiError } from '../../src/machinery/errors.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/protobuf');
const out = mkdtempSync(join(tmpdir(), 'k2d-proto-'));
// The decoder finds the descriptor through generated/; point it at this run's own copy.
process.env.K2D_GENERATED_DIR = out;
let codegenMs = 0;
let pb: typeof import('../../src/machinery/protobuf.ts');

before(async () => {
  const t0 = performance.now();
  await generateProtoDescriptor(out);
  codegenMs = performance.now() - t0;
  pb = await import('../../src/machinery/protobuf.ts');
});
after(() => rmSync(out, { recursive: true, force: true }));

const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const cases = readdirSync(FIXTURES).filter((f) => f.endsWith('.pb')).map((f) => f.slice(0, -3)).sort();
const twin = (name: string) => JSON.parse(fixture(`${name}.json`).toString('utf8'));
const decode = (name: string, expected?: { apiVersion: string; kind: string }) =>
  pb.decodeProtobufBody(fixture(`${name}.pb`), expected) as any;

// --- a hand-rolled protobuf writer, independent of protobufjs, for envelopes the tests forge ---
function varint(n: number): number[] {
  const b: number[] = [];
  while (n > 0x7f) { b.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  b.push(n);
  return b;
}
const lenField = (id: number, bytes: Uint8Array | string) => {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes);
  return Buffer.from([...varint((id << 3) | 2), ...varint(data.length), ...data]);
};
function envelope(apiVersion: string, kind: string, raw: Uint8Array, contentEncoding = ''): Buffer {
  const typeMeta = Buffer.concat([apiVersion ? lenField(1, apiVersion) : Buffer.alloc(0), kind ? lenField(2, kind) : Buffer.alloc(0)]);
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'), lenField(1, typeMeta), lenField(2, raw),
    contentEncoding ? lenField(3, contentEncoding) : Buffer.alloc(0),
  ]);
}
/** The object's own message inside a captured body (Unknown.raw, field 2). */
function rawOf(body: Buffer): Buffer {
  let i = 4;
  while (i < body.length) {
    const tag = body[i++];
    let len = 0; let shift = 0;
    for (;;) { const b = body[i++]; len += (b & 0x7f) * 2 ** shift; shift += 7; if (b < 0x80) break; }
    if (tag === 0x12) return body.subarray(i, i + len);
    i += len;
  }
  throw new Error('no raw field');
}

function expectBadRequest(fn: () => unknown, message: RegExp | string) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return;
  }
  assert.fail('expected a 400 BadRequest');
}

/**
 * Compares a decoded body with the JSON Go writes for the same object. Go's decoding drops
 * nulls, so the twin's nulls go. Two differences are the documented limits of decoding without
 * knowing which Go fields are pointers (see src/machinery/protobuf.ts) and are removed, each
 * recorded: a false/0 the decoder keeps where Go would omit it, and a "" Go writes for a field
 * the OpenAPI calls optional. Anything else must be equal.
 */
function compareWithGo(decoded: unknown, goJson: unknown, path = '', notes: string[] = []): string[] {
  if (goJson && typeof goJson === 'object' && !Array.isArray(goJson) && decoded && typeof decoded === 'object' && !Array.isArray(decoded)) {
    const d = decoded as Record<string, unknown>;
    const g = goJson as Record<string, unknown>;
    for (const k of Object.keys(g)) if (g[k] === null) delete g[k];
    for (const k of Object.keys(d)) {
      if (!(k in g) && (d[k] === false || d[k] === 0)) { notes.push(`+${path}.${k}=${d[k]}`); delete d[k]; }
    }
    for (const k of Object.keys(g)) {
      if (!(k in d) && g[k] === '') { notes.push(`-${path}.${k}=""`); delete g[k]; }
    }
    for (const k of Object.keys(g)) if (k in d) compareWithGo(d[k], g[k], `${path}.${k}`, notes);
  } else if (Array.isArray(goJson) && Array.isArray(decoded)) {
    goJson.forEach((v, i) => compareWithGo(decoded[i], v, `${path}[${i}]`, notes));
  }
  return notes;
}

test('codegen writes a small descriptor of the served packages', (t) => {
  const file = join(out, 'k8s-proto.json');
  const size = statSync(file).size;
  assert.ok(size < 250_000, `descriptor is ${size} bytes`);
  t.diagnostic(`proto codegen took ${codegenMs.toFixed(0)} ms`);
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const kinds = json.options.k2d_kinds as Record<string, string>;
  assert.equal(kinds['v1/ConfigMap'], 'k8s.io.api.core.v1.ConfigMap');
  assert.equal(kinds['apps/v1/Deployment'], 'k8s.io.api.apps.v1.Deployment');
  assert.equal(kinds['rbac.authorization.k8s.io/v1/Role'], 'k8s.io.api.rbac.v1.Role');
  assert.equal(kinds['autoscaling/v2/HorizontalPodAutoscaler'], 'k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler');
  assert.equal(kinds['policy/v1/DeleteOptions'], 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions');
  assert.equal(kinds['apps/v1beta1/Deployment'], undefined, 'only the packages the server may serve');
  const packages = Object.keys(json.nested.k8s.nested.io.nested.api.nested).sort();
  assert.deepEqual(packages, ['apps', 'authentication', 'authorization', 'autoscaling', 'batch', 'coordination',
    'core', 'discovery', 'events', 'networking', 'policy', 'rbac', 'scheduling', 'storage']);
  const core = json.nested.k8s.nested.io.nested.api.nested.core.nested.v1.nested;
  assert.deepEqual(core.Volume.fields.volumeSource.options, { k2d_inline: true });
  assert.deepEqual(core.Container.fields.name.options, { k2d_required: true });
  assert.equal(core.Container.fields.stdin.options, undefined);
  assert.equal(core.ServiceAccount.fields.automountServiceAccountToken.options, undefined);
});

test('isProtobufBody looks at the magic only', () => {
  assert.equal(pb.isProtobufBody(fixture('configmap.pb')), true);
  assert.equal(pb.isProtobufBody(Buffer.from('{"kind":"ConfigMap"}')), false);
  assert.equal(pb.isProtobufBody(Buffer.from('k8s')), false);
  assert.equal(pb.isProtobufBody(new Uint8Array([0x6b, 0x38, 0x73, 0])), true);
});

test('there are fixtures for every case the brief names', () => {
  for (const c of ['configmap', 'secret-generic', 'secret-docker-registry', 'namespace', 'serviceaccount',
    'deployment-replicas0', 'job', 'ssar', 'token', 'helm-release-install', 'helm-release-deployed']) {
    assert.ok(cases.includes(c), `missing fixture ${c}`);
  }
});

for (const name of cases) {
  test(`decodes ${name}.pb into the JSON its sender writes`, () => {
    const goJson = twin(name);
    const expected = { apiVersion: goJson.apiVersion, kind: goJson.kind };
    const decoded = decode(name, expected);
    assert.deepEqual(decode(name), decoded, 'the URL kind only checks, it never changes the result');
    assert.equal(decoded.apiVersion, goJson.apiVersion);
    assert.equal(decoded.kind, goJson.kind);
    const notes = compareWithGo(decoded, goJson);
    assert.deepEqual(decoded, goJson);
    for (const n of notes) assert.match(n, /^(\+.*=(false|0)|-.*="")$/);
  });
}

test('values that must survive: empty strings in maps, replicas 0, false, bytes, int-or-string, quantities', () => {
  assert.equal(decode('configmap').data.empty, '');
  assert.equal(decode('secret-generic').data.k, Buffer.from('v').toString('base64'));
  assert.equal(decode('secret-generic').data.empty, '');
  const docker = decode('secret-docker-registry');
  assert.equal(docker.type, 'kubernetes.io/dockerconfigjson');
  const auths = JSON.parse(Buffer.from(docker.data['.dockerconfigjson'], 'base64').toString());
  assert.equal(auths.auths['registry.example'].username, 'u');

  const deploy = decode('deployment-replicas0');
  assert.equal(deploy.spec.replicas, 0);
  assert.deepEqual(deploy.spec.strategy, {});
  assert.deepEqual(deploy.spec.template.spec.containers[0].resources, {});
  assert.equal(deploy.metadata.namespace, undefined, 'empty strings of optional fields are dropped');
  assert.equal(deploy.metadata.creationTimestamp, undefined, 'a zero Time is null in JSON');

  const svc = decode('service').spec.ports;
  assert.equal(svc[0].targetPort, 8080);
  assert.equal(svc[1].targetPort, 'https');
  assert.equal(decode('pdb').spec.minAvailable, '50%');
  assert.deepEqual(decode('quota').spec.hard, { cpu: '1500m', memory: '1Gi', pods: '2', 'requests.storage': '10Gi' });
  assert.equal(decode('priorityclass').value, 1000);
  assert.equal(decode('ssar').status.allowed, false, 'a required bool keeps its false');
  assert.equal(decode('ingress').spec.rules[1].http.paths[0].backend.service.port.name, 'http');

  const token = decode('token-bound').spec;
  assert.equal(token.expirationSeconds, 600, 'int64 becomes a number');
  assert.equal(token.boundObjectRef.uid, '0f7ec4c4-1111-2222-3333-444455556666', 'proto uID is JSON uid');
});

test('Time, MicroTime, FieldsV1, RawExtension, inline structs, list wrappers, int64 (synthetic bodies)', () => {
  const pod = decode('synthetic-pod');
  assert.equal(pod.metadata.creationTimestamp, '2026-01-02T03:04:05Z', 'Time keeps whole seconds');
  assert.equal(pod.status.startTime, '1970-01-01T00:00:00Z', 'a set epoch is not a zero Time');
  assert.equal(pod.status.conditions[0].lastProbeTime, undefined);
  assert.deepEqual(pod.metadata.managedFields[0].fieldsV1, { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } });
  assert.deepEqual(pod.spec.volumes[0].configMap, { name: 'cm', defaultMode: 420, optional: false });
  assert.deepEqual(pod.spec.containers[0].env[1].valueFrom, { configMapKeyRef: { name: 'cm', key: 'k' } });
  assert.deepEqual(pod.spec.containers[0].livenessProbe.httpGet, { path: '/healthz', port: 8080, scheme: 'HTTP' });
  assert.deepEqual(pod.spec.containers[0].readinessProbe.tcpSocket, { port: 'http' });
  assert.equal(pod.spec.containers[0].resources.limits.cpu, '500m');
  assert.equal(pod.spec.containers[0].securityContext.allowPrivilegeEscalation, false);
  assert.equal(pod.spec.containers[0].securityContext.runAsUser, 0);
  assert.equal(pod.spec.terminationGracePeriodSeconds, 0);
  assert.equal(pod.spec.automountServiceAccountToken, false);
  assert.equal(pod.spec.activeDeadlineSeconds, Number.MAX_SAFE_INTEGER);
  assert.deepEqual(pod.spec.containers[0].args, [''], 'list items are kept even when empty');

  const lease = decode('synthetic-lease').spec;
  assert.equal(lease.acquireTime, '2026-01-02T03:04:05.123456Z', 'MicroTime has six fractional digits');
  assert.equal(lease.renewTime, '2026-01-02T03:04:20.000000Z');
  assert.equal(lease.leaseTransitions, 0);
  assert.equal(decode('synthetic-event').eventTime, '2026-01-02T03:04:05.000005Z');
  const rev = decode('synthetic-controllerrevision');
  assert.equal(rev.revision, 4294967298);
  assert.deepEqual(rev.data.spec.template.metadata, { labels: { app: 'web' } });
  assert.deepEqual(decode('synthetic-subjectaccessreview').spec.extra, { scopes: ['a', 'b'], none: [] });
});

test("Helm 4's release Secrets keep their payload byte for byte", () => {
  for (const [name, status] of [['helm-release-install', 'pending-install'], ['helm-release-deployed', 'deployed']]) {
    const s = decode(name);
    assert.equal(s.type, 'helm.sh/release.v1');
    assert.equal(s.metadata.name, 'sh.helm.release.v1.demo.v1');
    assert.equal(s.metadata.labels.owner, 'helm');
    assert.equal(s.metadata.labels.status, status);
    // data.release = base64(bytes) of Helm's base64(gzip(release JSON))
    const gz = Buffer.from(Buffer.from(s.data.release, 'base64').toString('latin1'), 'base64');
    const release = JSON.parse(gunzipSync(gz).toString());
    assert.equal(release.name, 'demo');
    assert.equal(release.chart.metadata.name, 'tiny');
    assert.match(release.manifest, /kind: ConfigMap/);
  }
});

test('a bare envelope takes apiVersion and kind from the URL', () => {
  const raw = rawOf(fixture('configmap.pb'));
  const cm = pb.decodeProtobufBody(envelope('', '', raw), { apiVersion: 'v1', kind: 'ConfigMap' });
  assert.equal(cm.kind, 'ConfigMap');
  assert.equal(cm.apiVersion, 'v1');
  assert.deepEqual(cm.data, { a: 'b', empty: '' });
  expectBadRequest(() => pb.decodeProtobufBody(envelope('v1', '', raw)), /Object 'Kind' is missing/);
});

test('errors are 400 BadRequest naming the problem', () => {
  const cmExpected = { apiVersion: 'v1', kind: 'ConfigMap' };
  const body = fixture('configmap.pb');
  expectBadRequest(() => pb.decodeProtobufBody(Buffer.from('{"kind":"ConfigMap"}'), cmExpected),
    'the object provided is unrecognized (must be of type ConfigMap): provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (7b226b696e64223a22436f6e6669674d6170227d)');
  expectBadRequest(() => pb.decodeProtobufBody(Buffer.alloc(0), cmExpected), /empty data/);
  expectBadRequest(() => pb.decodeProtobufBody(Buffer.from('k8s\0', 'latin1'), cmExpected), /: empty body \(6b387300\)$/);
  // cut inside the envelope, and inside the object's own message
  expectBadRequest(() => pb.decodeProtobufBody(body.subarray(0, 10), cmExpected),
    /^the object provided is unrecognized \(must be of type ConfigMap\): unexpected EOF/);
  const raw = rawOf(body);
  expectBadRequest(() => pb.decodeProtobufBody(envelope('v1', 'ConfigMap', raw.subarray(0, raw.length - 3)), cmExpected),
    'ConfigMap in version "v1" cannot be handled as a ConfigMap: unexpected EOF');
  expectBadRequest(() => pb.decodeProtobufBody(envelope('v1', 'Frobnicator', raw), cmExpected),
    'Frobnicator in version "v1" cannot be handled as a ConfigMap: no kind "Frobnicator" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"');
  expectBadRequest(() => pb.decodeProtobufBody(envelope('apps/v1beta1', 'Deployment', raw)),
    /no kind "Deployment" is registered for version "apps\/v1beta1"/);
  expectBadRequest(() => pb.decodeProtobufBody(fixture('secret-generic.pb'), cmExpected),
    'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion');
  expectBadRequest(() => pb.decodeProtobufBody(fixture('deployment-replicas0.pb'), { apiVersion: 'batch/v1', kind: 'Job' }),
    'Deployment in version "v1" cannot be handled as a Job: converting (v1.Deployment) to (batch.Job): unknown conversion');
  expectBadRequest(() => pb.decodeProtobufBody(envelope('autoscaling/v1', 'HorizontalPodAutoscaler', Buffer.alloc(0)),
    { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' }),
  'the API version in the data (autoscaling/v1) does not match the expected API version (autoscaling/v2)');
  expectBadRequest(() => pb.decodeProtobufBody(envelope('v1', 'ConfigMap', raw, 'gzip'), cmExpected),
    /^ConfigMap in version "v1" cannot be handled as a ConfigMap: unsupported content encoding "gzip"/);
  // the object's bytes decode, but a RawExtension inside holds no JSON
  const badRev = Buffer.concat([lenField(1, lenField(1, 'r')), lenField(2, lenField(1, 'not json'))]);
  expectBadRequest(() => pb.decodeProtobufBody(envelope('apps/v1', 'ControllerRevision', badRev)),
    /^ControllerRevision in version "v1" cannot be handled as a ControllerRevision: RawExtension: /);
});

/** Only what JSON.parse can produce: no Buffer, Map, NaN or undefined slips through. */
function assertPlainJson(v: unknown, path = '$'): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') { assert.ok(Number.isFinite(v), `${path} is ${v}`); return; }
  if (Array.isArray(v)) { v.forEach((x, i) => assertPlainJson(x, `${path}[${i}]`)); return; }
  assert.equal(typeof v, 'object', `${path} is ${typeof v}`);
  assert.equal(Object.getPrototypeOf(v), Object.prototype, `${path} is not a plain object`);
  for (const [k, x] of Object.entries(v as object)) assertPlainJson(x, `${path}.${k}`);
}

// mulberry32: a fixed seed keeps every run's mutations the same
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: truncations, bit flips and random bytes give an object or a 400, nothing else', { timeout: 60_000 }, () => {
  const rand = rng(0x6b387300);
  const int = (n: number) => Math.floor(rand() * n);
  let objects = 0; let errors = 0;
  const attempt = (buf: Buffer, expected?: { apiVersion: string; kind: string }) => {
    let obj: unknown;
    try {
      obj = pb.decodeProtobufBody(buf, expected);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 400) {
        assert.fail(`non-400 failure for ${buf.toString('hex')}: ${(e as Error)?.stack ?? e}`);
      }
      errors++;
      return;
    }
    assert.equal(typeof (obj as any).kind, 'string');
    assertPlainJson(obj);
    objects++;
  };
  for (const name of cases) {
    const body = fixture(`${name}.pb`);
    const expected = { apiVersion: twin(name).apiVersion, kind: twin(name).kind };
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(body);
      let mutated: Buffer;
      switch (i % 4) {
        case 0: mutated = b.subarray(0, int(b.length)); break;
        case 1: for (let k = 1 + int(3); k > 0; k--) { const at = 4 + int(b.length - 4); b[at] ^= 1 << int(8); } mutated = b; break;
        case 2: for (let k = 1 + int(4); k > 0; k--) b[4 + int(b.length - 4)] = int(256); mutated = b; break;
        default: { const at = 4 + int(b.length - 4); const junk = Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256)));
          mutated = Buffer.concat([b.subarray(0, at), junk, b.subarray(at + int(4))]); }
      }
      attempt(mutated, i % 2 ? expected : undefined);
    }
  }
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.from(Array.from({ length: int(200) }, () => int(256)));
    attempt(i % 2 ? Buffer.concat([Buffer.from('k8s\0', 'latin1'), junk]) : junk);
  }
  assert.ok(objects > 1000 && errors > 1000, `fuzz reached both outcomes (${objects} objects, ${errors} errors)`);
});

test('differential: the wire reader agrees with protobufjs on every body protobufjs accepts', { timeout: 60_000 }, () => {
  const json = JSON.parse(readFileSync(join(out, 'k8s-proto.json'), 'utf8'));
  const root = protobuf.Root.fromJSON(json);
  const kinds = json.options.k2d_kinds as Record<string, string>;
  const plain = (v: unknown): unknown => {
    if (v instanceof Map) return plain(Object.fromEntries(v));
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (Array.isArray(v)) return v.map(plain);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, plain((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  const rand = rng(42);
  let same = 0; let stricter = 0;
  for (const name of cases) {
    const t = twin(name);
    const message = kinds[`${t.apiVersion}/${t.kind}`];
    const type = root.lookupType(message);
    const raw0 = rawOf(fixture(`${name}.pb`));
    for (let i = 0; i < 500; i++) {
      const raw = Buffer.from(raw0);
      if (i) raw[Math.floor(rand() * raw.length)] ^= 1 << Math.floor(rand() * 8);
      let theirs: unknown;
      try {
        theirs = type.toObject(type.decode(raw), { longs: Number, bytes: String, defaults: false });
      } catch {
        continue; // malformed for protobufjs too
      }
      let ours: unknown;
      try {
        ours = pb.readMessage(message, raw);
      } catch (e) {
        // Go's generated Unmarshal refuses a known field with the wrong wire type; protobufjs reads on
        assert.match((e as Error).message, /^proto: wrong wireType = \d for field \w+$/);
        stricter++;
        continue;
      }
      assert.deepEqual(plain(ours), plain(theirs), `${name}: ${raw.toString('hex')}`);
      same++;
    }
  }
  assert.ok(same > cases.length * 250, `${same} bodies compared`);
  assert.ok(stricter < same / 5);
});
