import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  mkdtempSync, rmSync, statSync, writeFileSync, readFileSync, readdirSync, existsSync, mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ObjectStore } from '../../src/store/store.ts';
import type { KObject } from '../../src/machinery/types.ts';

const roots: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'k2d-store-'));
  roots.push(d);
  return join(d, 'data'); // not yet existing: open() must create it
}
after(() => { for (const d of roots) rmSync(d, { recursive: true, force: true }); });

function cm(ns: string, name: string, rv: number, data: Record<string, string> = {}): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, resourceVersion: String(rv) }, data };
}

function byKey(objects: Array<{ key: string; obj: KObject }>): Map<string, KObject> {
  return new Map(objects.map((o) => [o.key, o.obj]));
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test('round trip, including awkward names and cluster-scoped keys', () => {
  const dir = dataDir();
  const s = new ObjectStore(dir);
  assert.deepEqual(s.open(), { objects: [], resourceVersion: 0 });
  const long = 'a'.repeat(120) + '.' + 'b'.repeat(132); // 253 chars, the longest DNS subdomain
  const items: Array<[string, KObject]> = [
    ['configmaps/default/app.config', cm('default', 'app.config', 3, { k: 'v' })],
    ['configmaps/kube-system/app.config', cm('kube-system', 'app.config', 4)],
    ['clusterroles.rbac.authorization.k8s.io//system:controller:job',
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'system:controller:job', resourceVersion: '5' } }],
    ['namespaces//default', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', resourceVersion: '2' } }],
    [`configmaps/default/${long}`, cm('default', long, 6)],
    ['configmaps/default/Ünïcode:Name', cm('default', 'Ünïcode:Name', 7)],
    ['configmaps/default/ünïcode:name', cm('default', 'ünïcode:name', 8)],
  ];
  for (const [k, o] of items) s.put(k, o);
  s.close();

  const s2 = new ObjectStore(dir);
  const { objects, resourceVersion } = s2.open();
  assert.equal(resourceVersion, 8);
  assert.deepEqual(byKey(objects), new Map(items));
  // Case-insensitive file systems and NAME_MAX must not bite: every object has its own short file.
  const files = allFiles(join(dir, 'objects'));
  assert.equal(new Set(files.map((f) => f.toLowerCase())).size, items.length);
  for (const f of files) assert.ok(Buffer.byteLength(f.split('/').pop()!) <= 255);
  assert.ok(s2.pathOf('clusterroles.rbac.authorization.k8s.io//system:controller:job').includes('/_/'));

  // Updates replace, deletes remove.
  s2.put('configmaps/default/app.config', cm('default', 'app.config', 9, { k: 'v2' }));
  s2.delete('configmaps/kube-system/app.config', 10);
  s2.close();
  const m = byKey(new ObjectStore(dir).open().objects);
  assert.deepEqual(m.get('configmaps/default/app.config')?.data, { k: 'v2' });
  assert.equal(m.has('configmaps/kube-system/app.config'), false);
  assert.equal(m.size, items.length - 1);
});

test('file and directory modes are private', () => {
  const dir = dataDir();
  const s = new ObjectStore(dir, { encryptedResources: ['secrets'] });
  s.open();
  s.put('configmaps/default/a', cm('default', 'a', 1));
  s.delete('configmaps/default/gone', 2);
  for (const f of allFiles(dir)) assert.equal(statSync(f).mode & 0o777, 0o600, f);
  for (const d of [dir, join(dir, 'objects'), join(dir, 'objects/configmaps'), join(dir, 'objects/configmaps/default')]) {
    assert.equal(statSync(d).mode & 0o777, 0o700, d);
  }
  assert.ok(existsSync(join(dir, 'encryption.key')));
});

test('resourceVersion counter survives deleting the newest object', () => {
  const dir = dataDir();
  const s = new ObjectStore(dir);
  s.open();
  s.put('configmaps/default/a', cm('default', 'a', 1));
  s.put('configmaps/default/b', cm('default', 'b', 2));
  s.delete('configmaps/default/b', 3);
  s.close();
  const s2 = new ObjectStore(dir);
  const r = s2.open();
  assert.equal(r.resourceVersion, 3);
  assert.deepEqual(r.objects.map((o) => o.key), ['configmaps/default/a']);
  // Deleting everything still keeps the counter.
  s2.delete('configmaps/default/a', 4);
  s2.close();
  assert.deepEqual(new ObjectStore(dir).open(), { objects: [], resourceVersion: 4 });
  // The emptied namespace directory is tidied away.
  assert.equal(existsSync(join(dir, 'objects/configmaps/default')), false);
});

test('a put with identical content does not touch the disk, even after reopening', () => {
  const dir = dataDir();
  const s = new ObjectStore(dir, { encryptedResources: ['secrets'] });
  s.open();
  const key = 'configmaps/default/same';
  const skey = 'secrets/default/same';
  const sec: KObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'same', namespace: 'default', resourceVersion: '2' }, data: { a: 'YQ==' } };
  s.put(key, cm('default', 'same', 1, { a: 'b' }));
  s.put(skey, sec);
  const stamp = (k: string) => {
    const st = statSync(s.pathOf(k), { bigint: true });
    return [st.ino, st.mtimeNs, st.ctimeNs];
  };
  const before = [stamp(key), stamp(skey)];
  s.put(key, cm('default', 'same', 1, { a: 'b' }));
  s.put(skey, structuredClone(sec));
  assert.deepEqual([stamp(key), stamp(skey)], before);
  s.close();

  const s2 = new ObjectStore(dir, { encryptedResources: ['secrets'] });
  s2.open();
  s2.put(key, cm('default', 'same', 1, { a: 'b' }));
  s2.put(skey, structuredClone(sec));
  assert.deepEqual([stamp(key), stamp(skey)], before);
  // A real change is written.
  s2.put(key, cm('default', 'same', 3, { a: 'c' }));
  assert.notDeepEqual(stamp(key), before[0]);
});

test('secrets are encrypted at rest; the key file is created once and reused', () => {
  const dir = dataDir();
  const value = 'hunter2-correct-horse-battery-staple';
  const b64 = Buffer.from(value).toString('base64');
  const secret: KObject = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name: 'db', namespace: 'default', resourceVersion: '1', annotations: { note: value } },
    data: { password: b64 }, stringData: { plain: value },
  };
  const s = new ObjectStore(dir, { encryptedResources: ['secrets'] });
  s.open();
  s.put('secrets/default/db', secret);
  s.put('configmaps/default/not-secret', cm('default', 'not-secret', 2, { visible: 'in-the-clear' }));
  const keyText = readFileSync(join(dir, 'encryption.key'), 'utf8');
  assert.equal(Buffer.from(keyText.trim(), 'base64').length, 32);
  assert.equal(statSync(join(dir, 'encryption.key')).mode & 0o777, 0o600);

  const everything = Buffer.concat(allFiles(dir).map((f) => readFileSync(f)));
  for (const needle of [value, b64, Buffer.from(b64).toString('base64')]) {
    assert.equal(everything.includes(needle), false, `plaintext ${needle} found on disk`);
  }
  // The check above is meaningful: unencrypted resources are found by the same grep.
  assert.ok(everything.includes('in-the-clear'));
  s.close();

  const s2 = new ObjectStore(dir, { encryptedResources: ['secrets'] });
  assert.deepEqual(byKey(s2.open().objects).get('secrets/default/db'), secret);
  assert.equal(readFileSync(join(dir, 'encryption.key'), 'utf8'), keyText);

  // A ciphertext moved under another key's name is rejected (the key is authenticated).
  const warnings: string[] = [];
  const other = new ObjectStore(dir, { encryptedResources: ['secrets'], warn: (m) => warnings.push(m) });
  other.open();
  other.put('secrets/default/other', { ...secret, metadata: { ...secret.metadata, name: 'other' } });
  const tampered = readFileSync(other.pathOf('secrets/default/db'));
  const nl = tampered.indexOf(0x0a);
  const forged = Buffer.concat([
    Buffer.from(tampered.subarray(0, nl).toString().replace('secrets/default/db', 'secrets/default/other')),
    tampered.subarray(nl),
  ]);
  writeFileSync(other.pathOf('secrets/default/other'), forged);
  const m = byKey(new ObjectStore(dir, { encryptedResources: ['secrets'], warn: (w) => warnings.push(w) }).open().objects);
  assert.equal(m.has('secrets/default/other'), false);
  assert.ok(m.has('secrets/default/db'));
  assert.ok(warnings.some((w) => w.includes('other.json')));
});

test('leftover temp files are ignored and cleaned; a corrupt file is skipped and reported', () => {
  const dir = dataDir();
  const s = new ObjectStore(dir);
  s.open();
  s.put('configmaps/default/good', cm('default', 'good', 1));
  s.put('configmaps/default/torn', cm('default', 'torn', 2, { big: 'x'.repeat(1000) }));
  s.close();

  const nsDir = join(dir, 'objects/configmaps/default');
  writeFileSync(join(nsDir, '.k2d-tmp-4242'), '{"v":1,"key":"configmaps/default/ghost"}\n{"metadata":');
  writeFileSync(join(dir, '.k2d-tmp-4242'), '99');
  const tornFile = new ObjectStore(dir).pathOf('configmaps/default/torn');
  writeFileSync(tornFile, readFileSync(tornFile).subarray(0, 300));
  writeFileSync(join(nsDir, 'stray.json'), 'not json at all');

  const warnings: string[] = [];
  const s2 = new ObjectStore(dir, { warn: (m) => warnings.push(m) });
  const { objects, resourceVersion } = s2.open();
  assert.deepEqual(objects.map((o) => o.key), ['configmaps/default/good']);
  assert.equal(resourceVersion, 1);
  assert.equal(warnings.length, 2);
  assert.ok(warnings.some((w) => w.includes('torn.json')));
  assert.ok(warnings.some((w) => w.includes('stray.json')));
  assert.equal(existsSync(join(nsDir, '.k2d-tmp-4242')), false);
  assert.equal(existsSync(join(dir, '.k2d-tmp-4242')), false);
  // The damaged object can be written again.
  s2.put('configmaps/default/torn', cm('default', 'torn', 3));
  s2.close();
  assert.equal(new ObjectStore(dir).open().objects.length, 2);
});

test('use before open is refused; a bad key is refused', () => {
  const dir = dataDir();
  const s = new ObjectStore(dir);
  assert.throws(() => s.put('configmaps/default/a', cm('default', 'a', 1)), /not open/);
  s.open();
  assert.throws(() => s.put('configmaps', cm('default', 'a', 1)), /bad store key/);
  assert.throws(() => s.put('configmaps/default/', cm('default', '', 1)), /bad store key/);
  assert.throws(() => s.put('configmaps/default/a/b', cm('default', 'a', 1)), /bad store key/);
});

test('a truncated encryption key file is fatal, never silently replaced', () => {
  const dir = dataDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'encryption.key'), 'c2hvcnQ=\n', { mode: 0o600 });
  assert.throws(() => new ObjectStore(dir, { encryptedResources: ['secrets'] }).open(), /32 base64-encoded bytes/);
  assert.equal(readFileSync(join(dir, 'encryption.key'), 'utf8'), 'c2hvcnQ=\n');
});

test('put() latency on this disk', (t) => {
  const dir = dataDir();
  const s = new ObjectStore(dir, { encryptedResources: ['secrets'] });
  s.open();
  const times: number[] = [];
  const payload = 'x'.repeat(1024);
  for (let i = 1; i <= 200; i++) {
    const key = i % 2 ? `configmaps/default/cm-${i % 20}` : `secrets/default/s-${i % 20}`;
    const t0 = process.hrtime.bigint();
    s.put(key, cm('default', `n-${i % 20}`, i, { payload, i: String(i) }));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const p50 = times[Math.floor(times.length * 0.5)];
  const p99 = times[Math.floor(times.length * 0.99)];
  t.diagnostic(`put() 1 KiB: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
  assert.ok(p50 > 0 && p99 >= p50);
});

// The child rewrites a few keys in a tight loop with growing values and prints "<op> <key> <rv>"
// only after put()/delete() returned. It is killed with SIGKILL at a random moment.
const CHILD = `
import { writeSync } from 'node:fs';
const { ObjectStore } = await import(process.env.STORE_URL);
const s = new ObjectStore(process.env.DATA_DIR, { encryptedResources: ['secrets'] });
let { resourceVersion: rv } = s.open();
const keys = ['configmaps/default/c1', 'configmaps/kube-system/c2', 'secrets/default/s1'];
for (let i = 0; ; i++) {
  const key = keys[i % keys.length];
  const [resource, namespace, name] = key.split('/');
  rv++;
  const unit = String(rv).padStart(8, '0');
  const blob = unit.repeat(1 + ((rv * 37) % 2000));
  s.put(key, { apiVersion: 'v1', kind: resource === 'secrets' ? 'Secret' : 'ConfigMap',
    metadata: { name, namespace, resourceVersion: String(rv) }, data: { unit, blob, len: String(blob.length) } });
  writeSync(1, 'put ' + key + ' ' + rv + '\\n');
  if (i % 7 === 6) {
    rv++;
    s.put('configmaps/default/tmp', { metadata: { name: 'tmp', namespace: 'default', resourceVersion: String(rv) }, data: {} });
    rv++;
    s.delete('configmaps/default/tmp', rv);
    writeSync(1, 'del configmaps/default/tmp ' + rv + '\\n');
  }
}
`;

function runChildOnce(dir: string, killAfterMs: number): Promise<{ acked: Map<string, number>; maxRv: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      env: { ...process.env, STORE_URL: pathToFileURL(join(import.meta.dirname, '../../src/store/store.ts')).href, DATA_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Map<string, number>();
    let maxRv = 0;
    let lines = 0;
    let buf = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const safety = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [op, key, rvText] = buf.slice(0, nl).split(' ');
        buf = buf.slice(nl + 1);
        const rv = Number(rvText);
        lines++;
        maxRv = Math.max(maxRv, rv);
        if (op === 'put') acked.set(key, rv);
        else acked.delete(key);
      }
      timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(safety);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code}: ${err}`));
      else if (lines === 0) reject(new Error(`child acknowledged nothing: ${err}`));
      else resolve({ acked, maxRv, lines });
    });
  });
}

test('kill -9 during writes never leaves a torn object or loses an acknowledged write', { timeout: 120_000 }, async (t) => {
  const dir = dataDir();
  let total = 0;
  for (let round = 0; round < 20; round++) {
    const { acked, maxRv, lines } = await runChildOnce(dir, Math.floor(Math.random() * 250));
    total += lines;
    const warnings: string[] = [];
    const s = new ObjectStore(dir, { encryptedResources: ['secrets'], warn: (m) => warnings.push(m) });
    const { objects, resourceVersion } = s.open();
    s.close();
    assert.deepEqual(warnings, [], `round ${round}`);
    assert.ok(resourceVersion >= maxRv, `round ${round}: counter ${resourceVersion} < acknowledged ${maxRv}`);
    const m = byKey(objects);
    for (const [key, rv] of acked) {
      const obj = m.get(key);
      assert.ok(obj, `round ${round}: acknowledged ${key}@${rv} missing`);
      assert.ok(Number(obj.metadata.resourceVersion) >= rv, `round ${round}: ${key} went back to ${obj.metadata.resourceVersion} < ${rv}`);
    }
    for (const { key, obj } of objects) {
      if (key === 'configmaps/default/tmp') continue; // put but not yet deleted when killed
      const data = obj.data as Record<string, string>;
      const unit = String(obj.metadata.resourceVersion).padStart(8, '0');
      assert.equal(data.unit, unit, `round ${round}: ${key} header and body disagree`);
      assert.equal(data.blob.length, Number(data.len), `round ${round}: ${key} torn`);
      assert.equal(data.blob, unit.repeat(data.blob.length / 8), `round ${round}: ${key} mixed`);
    }
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), [], 'temps cleaned at open');
  }
  t.diagnostic(`${total} acknowledged writes across 20 kills`);
});
