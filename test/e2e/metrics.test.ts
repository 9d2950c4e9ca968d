// metrics.k8s.io: `kubectl top pod` and `kubectl top node` (1.35 and 1.31) read usage computed
// from the engine's stats on each request.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectl, kubectlOk, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
const IMAGE = 'busybox:latest';

before(async () => {
  s = await startServer();
  ns = uniqueName('metrics');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const pod = (name: string, cmd: string, labels = '') => [
    'apiVersion: v1', 'kind: Pod', `metadata: {name: ${name}, labels: {app: ${name}${labels}}}`, 'spec:', '  terminationGracePeriodSeconds: 0',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', `    command: ["sh", "-c", ${JSON.stringify(cmd)}]`,
  ].join('\n');
  // burn spins one core; hold keeps about 30 MB in a shell variable (a loop, so that the shell
  // is not replaced by its last command); idle sleeps.
  const docs = [
    pod('burn', 'while :; do :; done'),
    pod('hold', 'x=$(head -c 30000000 /dev/zero | tr "\\0" a); echo held; while :; do sleep 3600; done; echo ${#x}'),
    pod('idle', 'sleep 3600', ', tier: quiet'),
  ];
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: docs.join('\n---\n') + '\n' });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/burn', 'pod/hold', 'pod/idle', '-n', ns, '--timeout=60s']);
  await waitFor(async () => ((await kubectlOk(s, ['logs', 'hold', '-n', ns])).stdout.includes('held') ? true : undefined), { what: 'hold holding its memory' });
});
after(async () => { await s?.stop(); });

/** `kubectl top pod` rows: name -> [millicores, MiB]. */
function rows(out: string): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  for (const line of out.trim().split('\n').slice(1)) {
    const [name, cpu, mem] = line.trim().split(/\s+/);
    m.set(name, [Number(cpu.replace(/m$/, '')), Number(mem.replace(/Mi$/, ''))]);
  }
  return m;
}

for (const version of ['1.35', '1.31'] as const) {
  test(`kubectl ${version} top pod: every running pod, CPU from the counters' rate, memory as the working set; -l and --containers`, async () => {
    const out = await kubectlOk(s, ['top', 'pod', '-n', ns], { version });
    assert.match(out.stdout, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/m);
    const r = rows(out.stdout);
    assert.deepEqual([...r.keys()].sort(), ['burn', 'hold', 'idle']);
    const [burnCpu] = r.get('burn')!;
    const [idleCpu] = r.get('idle')!;
    const [, holdMem] = r.get('hold')!;
    assert.ok(burnCpu >= 100, `a spinning loop uses a good part of a core: ${out.stdout}`);
    assert.ok(idleCpu < 50, `a sleeping pod uses next to nothing: ${out.stdout}`);
    assert.ok(holdMem >= 25, `30 MB held in a shell variable: ${out.stdout}`);
    const sel = await kubectlOk(s, ['top', 'pod', '-n', ns, '-l', 'tier=quiet', '--containers'], { version });
    assert.match(sel.stdout, /^POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/m);
    assert.match(sel.stdout, /^idle\s+main\s+\d+m\s+\d+Mi\s*$/m);
    assert.doesNotMatch(sel.stdout, /burn|hold/);
  });

  test(`kubectl ${version} top node: the node's CPU and memory with percentages of allocatable`, async () => {
    const out = await kubectlOk(s, ['top', 'node'], { version });
    const lines = out.stdout.trim().split('\n');
    assert.match(lines[0], /^NAME\s+CPU\(cores\)\s+CPU%?(\(%\))?\s+MEMORY\(bytes\)\s+MEMORY%?(\(%\))?\s*$/);
    assert.equal(lines.length, 2);
    assert.match(lines[1], /^\S+\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$/);
    const mib = Number(/\s(\d+)Mi\s/.exec(lines[1])![1]);
    assert.ok(mib >= 30, `the node uses at least what hold holds: ${out.stdout}`);
  });
}

test('the metrics API on the wire: PodMetrics and NodeMetrics, discovery, NotFound as metrics-server words it', async () => {
  const pm = JSON.parse((await kubectlOk(s, ['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/burn`])).stdout);
  assert.equal(pm.apiVersion, 'metrics.k8s.io/v1beta1');
  assert.equal(pm.kind, 'PodMetrics');
  assert.deepEqual(pm.metadata.labels, { app: 'burn' });
  assert.match(pm.window, /^(\d+m)?\d+(\.\d+)?s$/);
  assert.ok(!Number.isNaN(Date.parse(pm.timestamp)));
  assert.deepEqual(pm.containers.map((c: any) => c.name), ['main']);
  assert.match(pm.containers[0].usage.cpu, /^\d+n$/);
  assert.match(pm.containers[0].usage.memory, /^\d+Ki$/);
  const list = JSON.parse((await kubectlOk(s, ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes'])).stdout);
  assert.equal(list.kind, 'NodeMetricsList');
  assert.equal(list.items.length, 1);
  assert.match(list.items[0].usage.cpu, /^\d+n$/);
  const res = (await kubectlOk(s, ['api-resources', '--api-group=metrics.k8s.io'])).stdout;
  assert.match(res, /^nodes\s+metrics\.k8s\.io\/v1beta1\s+false\s+NodeMetrics$/m);
  assert.match(res, /^pods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics$/m);
  const missing = await kubectl(s, ['top', 'pod', 'nope', '-n', ns]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, new RegExp(`podmetrics\\.metrics\\.k8s\\.io "${ns}/nope" not found`));
  // Nothing is stored: no watch, no write.
  const write = await kubectl(s, ['apply', '-f', '-'], { input: `apiVersion: metrics.k8s.io/v1beta1\nkind: NodeMetrics\nmetadata: {name: x}\ntimestamp: "2026-01-01T00:00:00Z"\nwindow: 1s\nusage: {}\n` });
  assert.notEqual(write.code, 0);
});
