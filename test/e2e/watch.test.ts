// Watch: kubectl get -w, resume from a resourceVersion, 410 Gone, bookmarks, timeoutSeconds,
// streaming lists (WatchList) and kubectl wait with 1.35 (streaming) and 1.31 (list + watch).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { kubectl, kubectlOk, kubectlPath, openStream, request, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
before(async () => {
  s = await startServer();
  ns = uniqueName('w');
  await kubectlOk(s, ['create', 'namespace', ns]);
});
after(async () => { await s?.stop(); });

async function take(lines: AsyncIterable<string>, n: number, timeoutMs = 15_000): Promise<any[]> {
  const out: any[] = [];
  const it = lines[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const next = await Promise.race([it.next(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`only ${out.length} of ${n} events: ${JSON.stringify(out)}`)), Math.max(1, deadline - Date.now())))]);
    if (next.done) break;
    if (next.value.trim()) out.push(JSON.parse(next.value));
  }
  return out;
}

test('watch from a resourceVersion sees later changes in order; selectors filter', async () => {
  const base = `/api/v1/namespaces/${ns}/configmaps`;
  const list = await request(s, 'GET', base);
  const rv = list.body.metadata.resourceVersion;
  const w = await openStream(s, `${base}?watch=true&resourceVersion=${rv}&labelSelector=app%3Dx`);
  assert.equal(w.status, 200);
  assert.match(String(w.headers['content-type']), /application\/json/);
  await request(s, 'POST', base, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { app: 'x' } } } });
  await request(s, 'POST', base, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', labels: { app: 'y' } } } });
  await request(s, 'PATCH', `${base}/a`, { body: { data: { k: 'v' } }, contentType: 'application/merge-patch+json' });
  await request(s, 'PATCH', `${base}/a`, { body: { metadata: { labels: { app: 'z' } } }, contentType: 'application/merge-patch+json' });
  const evs = await take(w.lines, 3);
  w.close();
  assert.deepEqual(evs.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED a', 'MODIFIED a', 'DELETED a']);
  assert.equal(evs[0].object.kind, 'ConfigMap');
  assert.equal(evs[0].object.apiVersion, 'v1');
  // Replaying from the same point gives the same events.
  const again = await openStream(s, `${base}?watch=1&resourceVersion=${rv}&labelSelector=app%3Dx`);
  assert.deepEqual((await take(again.lines, 3)).map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
  again.close();
});

test('a malformed resourceVersion is a 400; timeoutSeconds ends the watch', async () => {
  const base = `/api/v1/namespaces/${ns}/configmaps`;
  const r = await request(s, 'GET', `${base}?watch=true&resourceVersion=abc`);
  assert.equal(r.status, 400);
  const t0 = Date.now();
  const t = await request(s, 'GET', `${base}?watch=true&timeoutSeconds=1`, { timeoutMs: 10_000 });
  assert.equal(t.status, 200);
  assert.ok(Date.now() - t0 < 5000);
});

test('streaming list: ADDED for each match, then the initial-events-end BOOKMARK, then live events', async () => {
  const base = `/api/v1/namespaces/${ns}/secrets`;
  for (const n of ['s1', 's2']) await request(s, 'POST', base, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: n, labels: { set: 'wl' } }, stringData: { a: n } } });
  const w = await openStream(s, `${base}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=set%3Dwl`);
  assert.equal(w.status, 200);
  const initial = await take(w.lines, 3);
  assert.deepEqual(initial.map((e) => e.type), ['ADDED', 'ADDED', 'BOOKMARK']);
  assert.equal(initial[2].object.metadata.annotations['k8s.io/initial-events-end'], 'true');
  assert.ok(Number(initial[2].object.metadata.resourceVersion) >= Number(initial[1].object.metadata.resourceVersion));
  await request(s, 'POST', base, { body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3', labels: { set: 'wl' } } } });
  const live = await take(w.lines, 1);
  assert.equal(live[0].type, 'ADDED');
  assert.equal(live[0].object.metadata.name, 's3');
  w.close();
  const bad = await request(s, 'GET', `${base}?watch=true&sendInitialEvents=true`);
  assert.equal(bad.status, 422);
  assert.equal(bad.body.reason, 'Invalid');
});

test('kubectl get -w prints the change as it happens', async () => {
  const bin = kubectlPath('1.35')!;
  const child = spawn(bin, ['--kubeconfig', s.kubeconfig, 'get', 'cm', '-n', ns, '-w', '--output-watch-events'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  try {
    await waitFor(() => out.includes('NAME') || out.length > 0, { what: 'kubectl get -w header' }).catch(() => true);
    await kubectlOk(s, ['create', 'configmap', 'watched', '-n', ns]);
    await waitFor(() => /ADDED\s+watched/.test(out), { what: `ADDED watched in ${JSON.stringify(out)}` });
    await kubectlOk(s, ['delete', 'configmap', 'watched', '-n', ns]);
    await waitFor(() => /DELETED\s+watched/.test(out), { what: 'DELETED watched' });
  } finally {
    child.kill('SIGTERM');
  }
});

for (const version of ['1.35', '1.31'] as const) {
  test(`kubectl ${version} wait --for=jsonpath returns when another client sets the value`, async () => {
    const name = `wait-${version.replace('.', '')}`;
    await kubectlOk(s, ['create', 'configmap', name, '-n', ns, '--from-literal=a=x']);
    const waiting = kubectl(s, ['wait', `--for=jsonpath={.data.a}=b`, `configmap/${name}`, '-n', ns, '--timeout=30s'], { version });
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    await kubectlOk(s, ['patch', 'configmap', name, '-n', ns, '--type=merge', '-p', '{"data":{"a":"b"}}']);
    const res = await waiting;
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /condition met/);
    assert.ok(Date.now() - t0 < 10_000, 'returned promptly');
  });
}

test('bookmarks arrive periodically when asked for, never when not', async () => {
  const fast = await startServer({ env: { K2D_WATCH_BOOKMARK_SECONDS: '1' } });
  try {
    const base = '/api/v1/namespaces/default/configmaps';
    const w = await openStream(fast, `${base}?watch=true&allowWatchBookmarks=true&resourceVersion=${(await request(fast, 'GET', base)).body.metadata.resourceVersion}`);
    const [ev] = await take(w.lines, 1, 5000);
    w.close();
    assert.equal(ev.type, 'BOOKMARK');
    assert.equal(ev.object.kind, 'ConfigMap');
    assert.ok(Number(ev.object.metadata.resourceVersion) > 0);
    const plain = await request(fast, 'GET', `${base}?watch=true&timeoutSeconds=3&resourceVersion=${ev.object.metadata.resourceVersion}`, { timeoutMs: 10_000 });
    assert.equal(plain.text.trim(), '', 'no bookmark without allowWatchBookmarks');
  } finally {
    await fast.stop();
  }
});
