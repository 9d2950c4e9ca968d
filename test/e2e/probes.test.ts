// Liveness, readiness and startup probes on real busybox containers, read back with real kubectl.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kubectl, kubectlOk, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
before(async () => {
  s = await startServer();
  ns = uniqueName('probes');
  await kubectlOk(s, ['create', 'namespace', ns]);
});
after(async () => { await s?.stop(); });

const getPod = async (name: string) => JSON.parse((await kubectlOk(s, ['get', 'pod', name, '-n', ns, '-o', 'json'])).stdout);
const condition = (pod: any, type: string) => pod.status?.conditions?.find((c: any) => c.type === type)?.status;

function podYaml(name: string, container: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns },
    spec: { terminationGracePeriodSeconds: 1, ...extra, containers: [{ name: 'app', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', ...container }] },
  });
}

test('a liveness probe that starts failing restarts the container; describe shows why', async () => {
  await kubectlOk(s, ['apply', '-f', '-'], {
    input: podYaml('live', {
      command: ['sh', '-c', 'touch /tmp/healthy; sleep 3; rm -f /tmp/healthy; sleep 3600'],
      livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 },
    }),
  });
  const pod = await waitFor(async () => {
    const p = await getPod('live');
    const cs = p.status.containerStatuses?.[0];
    return cs?.restartCount >= 1 && cs.state.running ? p : undefined;
  }, { timeoutMs: 60_000, what: 'a restart after the liveness probe failed' });
  const cs = pod.status.containerStatuses[0];
  assert.ok(cs.lastState.terminated, 'the killed run shows as lastState');
  assert.notEqual(cs.lastState.terminated.exitCode, 0);
  const describe = (await kubectlOk(s, ['describe', 'pod', 'live', '-n', ns])).stdout;
  assert.match(describe, /Liveness:\s+exec \[cat \/tmp\/healthy\]/);
  assert.match(describe, /Warning\s+Unhealthy\s+.*Liveness probe failed: cat: can't open '\/tmp\/healthy': No such file or directory/);
  assert.match(describe, /Normal\s+Killing\s+.*Container app failed liveness probe, will be restarted/);
  await kubectlOk(s, ['delete', 'pod', 'live', '-n', ns, '--grace-period=1']);
});

test('an httpGet readiness probe on busybox httpd makes the pod Ready; kubectl wait returns', async () => {
  await kubectlOk(s, ['apply', '-f', '-'], {
    input: podYaml('web', {
      // httpd starts a moment late so that the first probes fail and readiness has to flip.
      command: ['sh', '-c', 'mkdir -p /www; echo ok > /www/healthz; sleep 2; exec httpd -f -p 8080 -h /www'],
      ports: [{ name: 'http', containerPort: 8080 }],
      startupProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1, failureThreshold: 30 },
      readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
    }),
  });
  const early = await getPod('web');
  assert.notEqual(condition(early, 'Ready'), 'True', 'not Ready before any probe passed');
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/web', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
  const pod = await getPod('web');
  assert.equal(condition(pod, 'ContainersReady'), 'True');
  assert.equal(pod.status.containerStatuses[0].ready, true);
  assert.equal(pod.status.containerStatuses[0].started, true);
  assert.equal(pod.status.containerStatuses[0].restartCount, 0);
  const table = (await kubectlOk(s, ['get', 'pod', 'web', '-n', ns])).stdout;
  assert.match(table, /^web\s+1\/1\s+Running\s+0\s+/m);
  await kubectlOk(s, ['delete', 'pod', 'web', '-n', ns, '--grace-period=1']);
});

test('an exec readiness probe that fails keeps Ready False; once it passes the pod turns Ready', async () => {
  await kubectlOk(s, ['apply', '-f', '-'], {
    input: podYaml('notready', {
      command: ['sleep', '3600'],
      readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1 },
    }),
  });
  await waitFor(async () => (await getPod('notready')).status.containerStatuses?.[0]?.state?.running, { timeoutMs: 60_000, what: 'running' });
  // Several probe periods pass, all failing.
  await waitFor(async () => /Readiness probe failed/.test((await kubectlOk(s, ['describe', 'pod', 'notready', '-n', ns])).stdout),
    { timeoutMs: 30_000, what: 'a readiness failure event' });
  await new Promise((r) => setTimeout(r, 3000));
  const pod = await getPod('notready');
  assert.equal(pod.status.phase, 'Running');
  assert.equal(condition(pod, 'Ready'), 'False');
  assert.equal(condition(pod, 'ContainersReady'), 'False');
  assert.equal(pod.status.containerStatuses[0].ready, false);
  assert.equal(pod.status.containerStatuses[0].restartCount, 0, 'readiness never restarts');
  const table = (await kubectlOk(s, ['get', 'pod', 'notready', '-n', ns])).stdout;
  assert.match(table, /^notready\s+0\/1\s+Running\s+0\s+/m);
  const wait = await kubectl(s, ['wait', '--for=condition=Ready', 'pod/notready', '-n', ns, '--timeout=2s']);
  assert.notEqual(wait.code, 0);
  await kubectlOk(s, ['exec', 'notready', '-n', ns, '--', 'touch', '/tmp/ready']);
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/notready', '-n', ns, '--timeout=30s'], { timeoutMs: 40_000 });
  await kubectlOk(s, ['delete', 'pod', 'notready', '-n', ns, '--grace-period=1']);
});
