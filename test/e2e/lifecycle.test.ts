// The process: kubeconfig and TLS material reused across restarts, kill -9 keeps every
// acknowledged object, SIGTERM exits 0, an absent engine is a clear non-zero exit.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { kubectlOk, repoRoot, request, run, serverBundle, serverNodeFlags, startServer, uniqueName } from './harness.ts';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p)); else out.push(p);
  }
  return out;
}

test('kill -9 and restart: the same objects, uids and resourceVersions; certs and token reused', async () => {
  const s1 = await startServer();
  const ns = uniqueName('crash');
  await kubectlOk(s1, ['create', 'namespace', ns]);
  await kubectlOk(s1, ['create', 'configmap', 'c', '-n', ns, '--from-literal=a=1']);
  await kubectlOk(s1, ['create', 'secret', 'generic', 'sec', '-n', ns, '--from-literal=password=s3cr3t-value']);
  await kubectlOk(s1, ['create', 'configmap', 'gone', '-n', ns]);
  await kubectlOk(s1, ['delete', 'configmap', 'gone', '-n', ns]);
  const before = JSON.parse((await kubectlOk(s1, ['get', 'cm,secret', '-n', ns, '-o', 'json'])).stdout).items;
  const listRv = Number((await request(s1, 'GET', `/api/v1/namespaces/${ns}/configmaps`)).body.metadata.resourceVersion);
  const kubeconfig = readFileSync(s1.kubeconfig, 'utf8');
  // The secret value is not on disk in plain text.
  for (const f of filesUnder(s1.dataDir)) assert.ok(!readFileSync(f).includes('s3cr3t-value'), `${f} holds the plain secret`);
  await s1.kill9();

  const s2 = await startServer({ dataDir: s1.dataDir, port: s1.port });
  assert.equal(readFileSync(s2.kubeconfig, 'utf8'), kubeconfig, 'kubeconfig, CA and token are reused');
  const after = JSON.parse((await kubectlOk(s2, ['get', 'cm,secret', '-n', ns, '-o', 'json'])).stdout).items;
  const key = (o: any) => `${o.kind}/${o.metadata.name}`;
  assert.deepEqual(after.map(key).sort(), before.map(key).sort());
  for (const b of before) {
    const a = after.find((x: any) => key(x) === key(b));
    assert.equal(a.metadata.uid, b.metadata.uid);
    assert.equal(a.metadata.resourceVersion, b.metadata.resourceVersion);
    assert.deepEqual(a.data, b.data);
  }
  // The counter never goes back, even though the newest object was deleted.
  await kubectlOk(s2, ['create', 'configmap', 'new', '-n', ns]);
  const rv = Number(JSON.parse((await kubectlOk(s2, ['get', 'cm', 'new', '-n', ns, '-o', 'json'])).stdout).metadata.resourceVersion);
  assert.ok(rv > listRv, `${rv} > ${listRv}`);
  // Changes from before the restart are no longer replayable: a watch from there is 410 Expired.
  const { openStream } = await import('./harness.ts');
  const w = await openStream(s2, `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=1`);
  const first = await new Promise<string>((ok) => { (async () => { for await (const l of w.lines) { ok(l); break; } })(); });
  w.close();
  const ev = JSON.parse(first);
  assert.equal(ev.type, 'ERROR');
  assert.equal(ev.object.code, 410);
  assert.equal(ev.object.reason, 'Expired');
  assert.equal(await s2.stop(), 0);
});

test('SIGTERM ends open watches and exits 0', async () => {
  const s = await startServer();
  const { openStream } = await import('./harness.ts');
  const w = await openStream(s, '/api/v1/namespaces/default/configmaps?watch=true');
  assert.equal(w.status, 200);
  const code = await s.stop();
  assert.equal(code, 0);
  assert.match(s.logs(), /"msg":"shutting down"/);
  w.close();
});

test('no engine at start: a clear message and a non-zero exit', async () => {
  const res = await run(process.execPath, [...serverNodeFlags, serverBundle], {
    env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock', K2D_PORT: '1', K2D_DATA_DIR: join(repoRoot, '.test-tmp', uniqueName('noengine')) },
    timeoutMs: 20_000,
  });
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock/);
});

test('the kubeconfig names the advertised address and the certificate covers it', async () => {
  const s = await startServer({ env: { K2D_ADVERTISE_ADDR: '127.0.0.2' } });
  const kc = readFileSync(s.kubeconfig, 'utf8');
  assert.match(kc, /server: https:\/\/127\.0\.0\.2:\d+/);
  assert.match(kc, /current-context: k2d/);
  assert.equal(statSync(s.kubeconfig).mode & 0o077, 0);
  const { X509Certificate } = await import('node:crypto');
  const cert = new X509Certificate(readFileSync(join(s.dataDir, 'server.crt')));
  assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.2/);
  assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.match(cert.subjectAltName ?? '', /DNS:localhost/);
  assert.equal(await s.stop(), 0);
});

test('engine lost later: 503 on calls that need it, the rest keeps serving, recovery when it is back', async () => {
  const { createServer, connect } = await import('node:net');
  const { mkdirSync, rmSync } = await import('node:fs');
  const dir = join(repoRoot, '.test-tmp', uniqueName('proxy'));
  mkdirSync(dir, { recursive: true });
  const sock = join(dir, 'docker.sock');
  // A socket proxy in front of the real engine: closing it is an engine outage for the server.
  const open = new Set<import('node:net').Socket>();
  const listen = () => new Promise<import('node:net').Server>((ok) => {
    const srv = createServer((c) => {
      const up = connect('/var/run/docker.sock');
      open.add(c); open.add(up);
      c.pipe(up).pipe(c);
      const end = () => { c.destroy(); up.destroy(); open.delete(c); open.delete(up); };
      c.on('error', end); up.on('error', end); c.on('close', end); up.on('close', end);
    });
    srv.listen(sock, () => ok(srv));
  });
  let proxy = await listen();
  const s = await startServer({ env: { DOCKER_HOST: `unix://${sock}` } });
  try {
    assert.equal((await request(s, 'GET', '/api/v1/nodes')).status, 200);
    await new Promise<void>((ok) => { proxy.close(() => ok()); for (const c of open) c.destroy(); });
    rmSync(sock, { force: true });
    const { waitFor } = await import('./harness.ts');
    const down = await waitFor(async () => { const r = await request(s, 'GET', '/api/v1/nodes'); return r.status === 503 ? r : undefined; }, { what: '503 while the engine is away' });
    assert.equal(down.body.kind, 'Status');
    assert.equal(down.body.reason, 'ServiceUnavailable');
    assert.equal((await request(s, 'GET', '/api/v1/namespaces/default')).status, 200, 'stored objects are still served');
    assert.equal((await request(s, 'GET', '/readyz', { token: null })).status, 500);
    proxy = await listen();
    await waitFor(async () => (await request(s, 'GET', '/api/v1/nodes')).status === 200, { what: 'recovery', timeoutMs: 40_000 });
    assert.match(s.logs(), /"msg":"engine lost"/);
    assert.equal(await s.stop(), 0);
  } finally {
    proxy.close();
    for (const c of open) c.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 with pods running: after the restart the same containers keep running, untouched', async () => {
  const s1 = await startServer();
  const ns = uniqueName('podcrash');
  await kubectlOk(s1, ['create', 'namespace', ns]);
  await kubectlOk(s1, ['run', 'survivor', '-n', ns, '--image=busybox:latest', '--image-pull-policy=IfNotPresent', '--', 'sleep', '3600']);
  await kubectlOk(s1, ['wait', '--for=condition=Ready', 'pod/survivor', '-n', ns, '--timeout=60s']);
  const before = JSON.parse((await kubectlOk(s1, ['get', 'pod', 'survivor', '-n', ns, '-o', 'json'])).stdout);
  await s1.kill9();
  const s2 = await startServer({ dataDir: s1.dataDir, port: s1.port });
  const { waitFor } = await import('./harness.ts');
  const after = await waitFor(async () => {
    const p = JSON.parse((await kubectlOk(s2, ['get', 'pod', 'survivor', '-n', ns, '-o', 'json'])).stdout);
    return p.status.phase === 'Running' ? p : undefined;
  }, { what: 'the pod Running after the restart' });
  assert.equal(after.metadata.uid, before.metadata.uid);
  assert.equal(after.status.containerStatuses[0].containerID, before.status.containerStatuses[0].containerID);
  assert.equal(after.status.containerStatuses[0].restartCount, 0);
  assert.equal(after.status.podIP, before.status.podIP);
  await kubectlOk(s2, ['delete', 'pod', 'survivor', '-n', ns, '--grace-period=1']);
  await kubectlOk(s2, ['delete', 'ns', ns]);
  assert.equal(await s2.stop(), 0);
});
