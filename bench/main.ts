// `npm run bench`: prints figures for this build, no pass/fail. Latencies are set beside raw
// Docker Engine API calls measured in the same run, so the ratios survive a slower machine.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const bundle = resolve(root, process.env.K2D_BENCH_BUNDLE ?? 'dist/k2d.js');
// K2D_BENCH_ONLY=pods skips the API-call and idle sections (pod figures only, for quick runs).
const ONLY_PODS = process.env.K2D_BENCH_ONLY === 'pods';
const IDLE_SECONDS = Number(process.env.K2D_BENCH_IDLE_SECONDS ?? 60);
const CALLS = Number(process.env.K2D_BENCH_CALLS ?? 10_000);
const PODS = Number(process.env.K2D_BENCH_PODS ?? 100);
const POD_BENCH = PODS > 0;
const DEPLOY_PODS = Number(process.env.K2D_BENCH_DEPLOY_REPLICAS ?? 10);
const RSS_PODS = Number(process.env.K2D_BENCH_RSS_PODS ?? 50);
// The flags production runs with (package.json "start", Dockerfile ENTRYPOINT).
const NODE_FLAGS = (process.env.K2D_NODE_FLAGS ?? '--lite-mode --no-expose-wasm').split(' ').filter(Boolean);

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); });
  });
}

function procStat(pid: number): { ticks: number; rssKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { ticks, rssKb };
}

function writeBytes(pid: number): number {
  try {
    return Number(/write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch {
    return NaN;
  }
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))]; };
const ms = (n: number) => `${n.toFixed(2)} ms`;

interface Client { call(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; text: string }> }
interface K2dClient extends Client {
  /**
   * Watches one object of a collection; resolves once the watch is open, with `done`, which
   * resolves at the first state of the object for which `until` holds.
   */
  watch(collection: string, name: string, until: (o: any) => boolean): Promise<{ done: Promise<void> }>;
}

function k2dClient(port: number, token: string, ca: string): K2dClient {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
  const watchAgent = new https.Agent({ keepAlive: false, ca });
  const headers = { authorization: `Bearer ${token}` };
  return {
    call(method, path, body, contentType = 'application/json') {
      return new Promise((res, rej) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request({ host: '127.0.0.1', port, path, method, agent, servername: 'localhost', headers: { ...headers, 'content-type': contentType, ...(data ? { 'content-length': Buffer.byteLength(data) } : {}) } }, (r) => {
          let text = ''; r.setEncoding('utf8'); r.on('data', (c) => { text += c; }); r.on('end', () => res({ status: r.statusCode!, text }));
        });
        req.on('error', rej);
        req.end(data);
      });
    },
    watch(collection, name, until) {
      return new Promise((opened, rej) => {
        const path = `${collection}?watch=true&fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
        const req = https.request({ host: '127.0.0.1', port, path, method: 'GET', agent: watchAgent, servername: 'localhost', headers }, (r) => {
          if (r.statusCode !== 200) { rej(new Error(`watch ${path}: ${r.statusCode}`)); return; }
          const done = new Promise<void>((ok, fail) => {
            let buf = '';
            r.setEncoding('utf8');
            r.on('data', (c) => {
              buf += c;
              let nl: number;
              while ((nl = buf.indexOf('\n')) >= 0) {
                const ev = JSON.parse(buf.slice(0, nl)); buf = buf.slice(nl + 1);
                if (ev.type !== 'BOOKMARK' && ev.type !== 'ERROR' && until(ev.object)) { ok(); req.destroy(); return; }
              }
            });
            r.on('end', () => fail(new Error(`watch of ${name} ended first`)));
          });
          opened({ done });
        });
        req.on('error', rej);
        req.end();
      });
    },
  };
}

/** Waits (up to 5 min) for a collection to list no item. */
async function gone(k: Client, path: string): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (!JSON.parse((await k.call('GET', path)).text).items?.length) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${path} still lists items`);
}

/** One connection by default (latencies); `parallel` allows that many at once (bursts). */
function dockerClient(parallel = 1): Client {
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  return {
    call(method, path, body) {
      return new Promise((res, rej) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = http.request({ socketPath: '/var/run/docker.sock', path, method, agent, headers: data ? { 'content-type': 'application/json' } : {} }, (r) => {
          let text = ''; r.setEncoding('utf8'); r.on('data', (c) => { text += c; }); r.on('end', () => res({ status: r.statusCode!, text }));
        });
        req.on('error', rej);
        req.end(data);
      });
    },
  };
}

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'k2d-bench-'));
  const port = await freePort();
  const token = 'bench-token';
  const t0 = Date.now();
  const child = spawn(process.execPath, [...NODE_FLAGS, bundle], {
    env: { ...process.env, K2D_PORT: String(port), K2D_ADDRESS: '127.0.0.1', K2D_DATA_DIR: dataDir, K2D_TOKEN: token, K2D_INSTANCE: 'bench' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`not ready in 30 s:\n${out}`)), 30_000);
    child.stdout!.on('data', (c) => { out += c; if (out.includes('"msg":"ready"')) { clearTimeout(timer); res(); } });
    child.on('exit', (code) => rej(new Error(`server exited ${code}:\n${out}`)));
  });
  const coldStart = Date.now() - t0;
  child.stdout!.resume();
  const pid = child.pid!;
  const rows: Array<[string, string]> = [];
  try {
    await new Promise((r) => setTimeout(r, 2000));
    rows.push(['cold start to ready', `${coldStart} ms`]);
    rows.push(['RSS idle after start', `${(procStat(pid).rssKb / 1024).toFixed(1)} MB`]);

    const ca = readFileSync(join(dataDir, 'ca.crt'), 'utf8');
    const k = k2dClient(port, token, ca);
    const d = dockerClient();
    if (!ONLY_PODS) {
    const ns = '/api/v1/namespaces/default/configmaps';
    await k.call('POST', ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench-get' }, data: { a: 'b' } });
    await k.call('GET', `${ns}/bench-get`);
    const created: string[] = [];
    const createT = await timed(300, async (i) => {
      const r = await k.call('POST', ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bench-${i}` }, data: { i: String(i) } });
      if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
      created.push(`bench-${i}`);
    });
    const getT = await timed(2000, async () => { const r = await k.call('GET', `${ns}/bench-get`); if (r.status !== 200) throw new Error(r.text); });
    const listT = await timed(300, async () => { const r = await k.call('GET', ns); if (r.status !== 200) throw new Error(r.text); });
    const dockerVersionT = await timed(2000, () => d.call('GET', '/version'));
    const dockerListT = await timed(300, () => d.call('GET', '/containers/json?all=1'));
    rows.push(['p50 / p99 get ConfigMap', `${ms(pct(getT, 0.5))} / ${ms(pct(getT, 0.99))}  (docker GET /version p50 ${ms(pct(dockerVersionT, 0.5))}, ratio ${(pct(getT, 0.5) / pct(dockerVersionT, 0.5)).toFixed(2)}x)`]);
    rows.push(['p50 / p99 list 301 ConfigMaps', `${ms(pct(listT, 0.5))} / ${ms(pct(listT, 0.99))}  (docker GET /containers/json p50 ${ms(pct(dockerListT, 0.5))}, ratio ${(pct(listT, 0.5) / pct(dockerListT, 0.5)).toFixed(2)}x)`]);
    rows.push(['p50 / p99 create ConfigMap', `${ms(pct(createT, 0.5))} / ${ms(pct(createT, 0.99))}  (durable write included)`]);

    const remaining = Math.max(0, CALLS - 2000 - 300 - 300);
    await timed(remaining, (i) => k.call('GET', i % 10 ? `${ns}/bench-get` : ns));
    await new Promise((r) => setTimeout(r, 2000));
    rows.push([`RSS after ${CALLS} API calls`, `${(procStat(pid).rssKb / 1024).toFixed(1)} MB`]);

    // V8's memory reducer collects a few seconds after the last activity: idle starts after it.
    await new Promise((r) => setTimeout(r, 15_000));
    const before = procStat(pid); const wb = writeBytes(pid);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const after = procStat(pid); const wa = writeBytes(pid);
    rows.push([`CPU ticks over ${IDLE_SECONDS} s idle (after 15 s settling)`, String(after.ticks - before.ticks)]);
    rows.push([`bytes written to disk over ${IDLE_SECONDS} s idle`, String(wa - wb)]);
    }
    if (POD_BENCH) {
      const image = process.env.K2D_BENCH_IMAGE ?? 'busybox:latest';
      const podsPath = '/api/v1/namespaces/default/pods';
      const template = { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] };
      const podBody = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'k2d' } }, spec: template });
      // Bursts go over as many connections as they have calls, as k2d's own engine calls do.
      const dp = dockerClient(64);
      const raw = async (name: string, net?: string, client: Client = d) => {
        const c = await client.call('POST', `/containers/create?name=${name}`, { Image: image, Cmd: ['sleep', '3600'], Labels: { 'k2d.io/instance': 'bench' }, ...(net ? { HostConfig: { NetworkMode: net } } : {}) });
        const id = JSON.parse(c.text).Id;
        if (!id) throw new Error(c.text);
        const r = await client.call('POST', `/containers/${id}/start`);
        if (r.status !== 204) throw new Error(r.text);
      };
      const podRunning = (o: any) => o.status?.phase === 'Running';

      // Pod create -> Running as a client that waits sees it: a watch opened before the create.
      // Against `docker run -d` of the same image (create+start on the default bridge), and the
      // same on the pods' own user-defined network, where the engine also sets up its DNS.
      const podT: number[] = [];
      for (let i = 0; i < 10; i++) {
        const name = `bench-run-${i}`;
        const w = await k.watch(podsPath, name, podRunning);
        const t = process.hrtime.bigint();
        const r = await k.call('POST', podsPath, podBody(name));
        if (r.status !== 201) throw new Error(r.text);
        await w.done;
        podT.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      const runT = await timed(10, (i) => raw(`k2d-bench-raw-${i}`));
      const netT = await timed(10, (i) => raw(`k2d-bench-net-${i}`, 'k2d-bench'));
      rows.push(['pod create -> Running p50', `${ms(pct(podT, 0.5))}  (docker create+start p50 ${ms(pct(runT, 0.5))}, ratio ${(pct(podT, 0.5) / pct(runT, 0.5)).toFixed(2)}x; on the pod network ${ms(pct(netT, 0.5))}, ratio ${(pct(podT, 0.5) / pct(netT, 0.5)).toFixed(2)}x)`]);
      await k.call('DELETE', `${podsPath}?labelSelector=bench%3Dk2d`);
      for (let i = 0; i < 10; i++) await d.call('DELETE', `/containers/k2d-bench-raw-${i}?force=1`);
      for (let i = 0; i < 10; i++) await d.call('DELETE', `/containers/k2d-bench-net-${i}?force=1`);
      await gone(k, `${podsPath}?labelSelector=bench%3Dk2d`);

      if (DEPLOY_PODS > 0) {
        // A Deployment from apply (the create kubectl apply sends for a new object) to Available
        // as `kubectl rollout status` sees it, through a watch; against the same number of raw
        // create+start, all at once (as the ReplicaSet creates its pods) and one after another.
        const dPath = '/apis/apps/v1/namespaces/default/deployments';
        const deployment = (replicas: number) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bench-deploy' },
          spec: { replicas, selector: { matchLabels: { app: 'bench-deploy' } }, template: { metadata: { labels: { app: 'bench-deploy' } }, spec: template } } });
        const available = (n: number) => (o: any) => (o.status?.observedGeneration ?? 0) >= (o.metadata?.generation ?? 1)
          && o.status?.updatedReplicas === n && o.status?.availableReplicas === n && (o.status?.replicas ?? 0) === n;
        const w = await k.watch(dPath, 'bench-deploy', available(DEPLOY_PODS));
        const t = process.hrtime.bigint();
        const r = await k.call('POST', dPath, deployment(DEPLOY_PODS));
        if (r.status !== 201) throw new Error(r.text);
        await w.done;
        const deployT = Number(process.hrtime.bigint() - t) / 1e6;
        const [burstT] = await timed(1, () => Promise.all(Array.from({ length: DEPLOY_PODS }, (_, i) => raw(`k2d-bench-burst-${i}`, undefined, dp))));
        const [burstNetT] = await timed(1, () => Promise.all(Array.from({ length: DEPLOY_PODS }, (_, i) => raw(`k2d-bench-burstnet-${i}`, 'k2d-bench', dp))));
        const [seqT] = await timed(1, async () => { for (let i = 0; i < DEPLOY_PODS; i++) await raw(`k2d-bench-seq-${i}`); });
        rows.push([`${DEPLOY_PODS}-replica Deployment apply -> Available`, `${ms(deployT)}  (${DEPLOY_PODS} docker create+start at once ${ms(burstT)}, ratio ${(deployT / burstT).toFixed(2)}x; at once on the pod network ${ms(burstNetT)}, ratio ${(deployT / burstNetT).toFixed(2)}x; one after another ${ms(seqT)}, ratio ${(deployT / seqT).toFixed(2)}x)`]);
        for (let i = 0; i < DEPLOY_PODS; i++) await d.call('DELETE', `/containers/k2d-bench-burst-${i}?force=1`);
        for (let i = 0; i < DEPLOY_PODS; i++) await d.call('DELETE', `/containers/k2d-bench-burstnet-${i}?force=1`);
        for (let i = 0; i < DEPLOY_PODS; i++) await d.call('DELETE', `/containers/k2d-bench-seq-${i}?force=1`);
        if (RSS_PODS > 0) {
          const ws = await k.watch(dPath, 'bench-deploy', available(RSS_PODS));
          const s = await k.call('PATCH', `${dPath}/bench-deploy/scale`, { spec: { replicas: RSS_PODS } }, 'application/merge-patch+json');
          if (s.status !== 200) throw new Error(s.text);
          await ws.done;
          await new Promise((res) => setTimeout(res, 3000));
          rows.push([`RSS with ${RSS_PODS} pods running (Deployment)`, `${(procStat(pid).rssKb / 1024).toFixed(1)} MB`]);
        }
        await k.call('DELETE', `${dPath}/bench-deploy`);
        await gone(k, `${podsPath}?labelSelector=app%3Dbench-deploy`);
      }

      // A list of PODS pods against the engine's own container list.
      for (let i = 0; i < PODS; i++) await k.call('POST', podsPath, podBody(`bench-run-${i}`));
      for (let i = 0; i < PODS; i++) await (await k.watch(podsPath, `bench-run-${i}`, podRunning)).done;
      await new Promise((r) => setTimeout(r, 3000));
      rows.push([`RSS with ${PODS} pods running`, `${(procStat(pid).rssKb / 1024).toFixed(1)} MB`]);
      const listPodsT = await timed(50, async () => { const r = await k.call('GET', podsPath); if (r.status !== 200) throw new Error(r.text); });
      const listCT = await timed(50, () => d.call('GET', '/containers/json?all=1'));
      const engineCount = JSON.parse((await d.call('GET', '/containers/json?all=1')).text).length;
      rows.push([`list ${PODS} pods p50`, `${ms(pct(listPodsT, 0.5))}  (docker GET /containers/json of ${engineCount} p50 ${ms(pct(listCT, 0.5))}, ratio ${(pct(listPodsT, 0.5) / pct(listCT, 0.5)).toFixed(2)}x)`]);
      // `kubectl top pod` of them all: the first read takes two readings a second apart; the next
      // ones (within a minute) one. Against one-shot stats of the same containers, 32 at a time
      // (each call waits for the engine's next collection tick, as k2d's do).
      const metricsPath = '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods';
      const topRead = async () => { const r = await k.call('GET', metricsPath); if (r.status !== 200 || JSON.parse(r.text).items.length < PODS) throw new Error(r.text.slice(0, 300)); };
      const [topColdT] = await timed(1, topRead);
      await new Promise((r) => setTimeout(r, 1500));
      const topWarmT: number[] = [];
      for (let i = 0; i < 5; i++) {
        topWarmT.push(...await timed(1, topRead));
        await new Promise((r) => setTimeout(r, 1100));
      }
      const benchIds = JSON.parse((await d.call('GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ label: ['k2d.io/instance=bench', 'k2d.io/kind=app'] }))}`)).text).map((c: { Id: string }) => c.Id);
      const [statsT] = await timed(1, async () => {
        let next = 0;
        await Promise.all(Array.from({ length: 32 }, async () => { while (next < benchIds.length) await dp.call('GET', `/containers/${benchIds[next++]}/stats?stream=false&one-shot=true`); }));
      });
      const warm = pct(topWarmT, 0.5);
      rows.push([`metrics of ${PODS} pods (kubectl top)`, `first ${ms(topColdT)}, then p50 ${ms(warm)}  (${benchIds.length} one-shot docker stats, 32 at a time, ${ms(statsT)}, ratio ${(warm / statsT).toFixed(2)}x)`]);
      await k.call('DELETE', `${podsPath}?labelSelector=bench%3Dk2d`);
    }

  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
    // Whatever the run left on the engine carries the bench instance label.
    const d = dockerClient();
    const filters = encodeURIComponent(JSON.stringify({ label: ['k2d.io/instance=bench'] }));
    for (const c of JSON.parse((await d.call('GET', `/containers/json?all=1&filters=${filters}`)).text)) await d.call('DELETE', `/containers/${c.Id}?force=1&v=1`);
    for (const v of JSON.parse((await d.call('GET', `/volumes?filters=${filters}`)).text).Volumes ?? []) await d.call('DELETE', `/volumes/${v.Name}?force=1`);
    for (const n of JSON.parse((await d.call('GET', `/networks?filters=${filters}`)).text)) await d.call('DELETE', `/networks/${n.Id}`);
  }
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`k2d bench (${new Date().toISOString()}, node ${process.versions.node} ${NODE_FLAGS.join(' ')}, ${process.arch})`);
  for (const [a, b] of rows) console.log(`${a.padEnd(w)}  ${b}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
