// The prober's timing and threshold logic, on a fake clock with a fake transport.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KObject } from '../../src/machinery/types.ts';
import { Prober, type Clock, type ProbeTransport } from '../../src/runtime/probes.ts';
import { LABELS, type DockerInspect } from '../../src/translate/index.ts';

type Obj = Record<string, any>;

class FakeClock implements Clock {
  t = Date.parse('2026-01-01T00:00:00Z');
  private seq = 0;
  private pending = new Map<number, { at: number; fn: () => void }>();
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void { this.pending.delete(h as number); }
  get armed(): number { return this.pending.size; }
  /** Moves time forward, firing due timers in order and letting their promises settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.pending.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

interface Harness {
  clock: FakeClock;
  prober: Prober;
  execs: Array<{ id: string; cmd: string[] }>;
  events: Array<{ type: string; reason: string; message: string; container: string }>;
  kills: Array<{ id: string; grace: number }>;
  changed: string[];
  /** exit code the next exec returns; 'hang' never answers */
  exit: Map<string, number | 'hang'>;
}

function harness(): Harness {
  const clock = new FakeClock();
  const h = { clock, execs: [], events: [], kills: [], changed: [], exit: new Map() } as unknown as Harness;
  const transport: ProbeTransport = {
    exec: (id, cmd, signal) => {
      h.execs.push({ id, cmd });
      const code = h.exit.get(cmd.join(' ')) ?? 0;
      if (code === 'hang') return new Promise((_ok, fail) => signal.addEventListener('abort', () => fail(new Error('closed'))));
      return Promise.resolve({ exitCode: code, output: code ? `exit ${code}` : '' });
    },
    dial: () => Promise.reject(new Error('no network in this test')),
  };
  h.prober = new Prober({
    transport, clock,
    changed: (uid) => h.changed.push(uid),
    event: (_pod, type, reason, message, container) => h.events.push({ type, reason, message, container }),
    kill: async (_pod, _name, id, grace) => { h.kills.push({ id, grace }); },
  });
  return h;
}

function pod(containers: Obj[], extra: Obj = {}): KObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-1' }, spec: { containers, ...extra } };
}

function running(name: string, id: string, startedAt: number, attempt = 0): DockerInspect {
  return {
    Id: id,
    Config: { Labels: { [LABELS.containerName]: name, [LABELS.kind]: 'app', [LABELS.restartCount]: String(attempt) } },
    State: { Status: 'running', Running: true, OOMKilled: false, ExitCode: 0, StartedAt: new Date(startedAt).toISOString(), FinishedAt: '0001-01-01T00:00:00Z' },
  };
}

function exited(c: DockerInspect): DockerInspect {
  return { ...c, State: { ...c.State, Status: 'exited', Running: false, ExitCode: 137 } };
}

const execProbe = (cmd: string, more: Obj = {}) => ({ exec: { command: ['sh', '-c', cmd] }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3, ...more });

test('a pod without probes gets no state and no timer', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'busybox' }]);
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  assert.equal(h.prober.timers, 0);
  assert.equal(h.clock.armed, 0);
  assert.equal(h.prober.ready(p, 'app', 'c1'), undefined);
  assert.equal(h.prober.started(p, 'app', 'c1'), undefined);
  await h.clock.advance(60_000);
  assert.equal(h.execs.length, 0);
});

test('readiness: not ready until the first success, after initialDelaySeconds, then every periodSeconds', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'busybox', readinessProbe: execProbe('ready', { initialDelaySeconds: 5, periodSeconds: 2 }) }]);
  h.exit.set('sh -c ready', 1);
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  assert.equal(h.prober.ready(p, 'app', 'c1'), false);
  assert.equal(h.prober.timers, 1);
  await h.clock.advance(4_999);
  assert.equal(h.execs.length, 0, 'nothing before the initial delay');
  await h.clock.advance(1);
  assert.equal(h.execs.length, 1);
  assert.deepEqual(h.execs[0], { id: 'c1', cmd: ['sh', '-c', 'ready'] });
  assert.deepEqual(h.events.at(-1), { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: exit 1', container: 'app' });
  await h.clock.advance(2_000);
  assert.equal(h.execs.length, 2);
  assert.equal(h.prober.ready(p, 'app', 'c1'), false);
  assert.deepEqual(h.changed, []);
  h.exit.set('sh -c ready', 0);
  await h.clock.advance(2_000);
  assert.equal(h.prober.ready(p, 'app', 'c1'), true);
  assert.deepEqual(h.changed, ['uid-1']);
  // Another container id (a restart) starts over: not ready.
  assert.equal(h.prober.ready(p, 'app', 'c2'), false);
});

test('readiness: failureThreshold consecutive failures make it unready, successThreshold successes ready again', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'busybox', readinessProbe: execProbe('ready', { periodSeconds: 1, failureThreshold: 3, successThreshold: 2 }) }]);
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  await h.clock.advance(0);
  assert.equal(h.prober.ready(p, 'app', 'c1'), false, 'successThreshold 2: one success is not enough');
  await h.clock.advance(1_000);
  assert.equal(h.prober.ready(p, 'app', 'c1'), true);
  h.exit.set('sh -c ready', 1);
  await h.clock.advance(2_000);
  assert.equal(h.prober.ready(p, 'app', 'c1'), true, 'two failures are below the threshold');
  h.exit.set('sh -c ready', 0);
  await h.clock.advance(1_000);
  h.exit.set('sh -c ready', 1);
  await h.clock.advance(2_000);
  assert.equal(h.prober.ready(p, 'app', 'c1'), true, 'a success in between resets the count');
  await h.clock.advance(1_000);
  assert.equal(h.prober.ready(p, 'app', 'c1'), false);
  assert.equal(h.changed.length, 2);
  assert.equal(h.events.filter((e) => e.reason === 'Unhealthy').length, 5);
  assert.equal(h.kills.length, 0, 'readiness never kills');
});

test('liveness: failureThreshold failures kill the container once, with the events kubelet records', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'busybox', livenessProbe: execProbe('alive', { periodSeconds: 3, failureThreshold: 2, terminationGracePeriodSeconds: 4 }) }], { terminationGracePeriodSeconds: 9 });
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  assert.equal(h.prober.ready(p, 'app', 'c1'), undefined, 'no readiness probe: the status decides');
  await h.clock.advance(0);
  assert.equal(h.execs.length, 1);
  h.exit.set('sh -c alive', 2);
  await h.clock.advance(3_000);
  assert.equal(h.kills.length, 0);
  await h.clock.advance(3_000);
  assert.deepEqual(h.kills, [{ id: 'c1', grace: 4 }]);
  assert.deepEqual(h.events.map((e) => `${e.type} ${e.reason} ${e.message}`), [
    'Warning Unhealthy Liveness probe failed: exit 2',
    'Warning Unhealthy Liveness probe failed: exit 2',
    'Normal Killing Container app failed liveness probe, will be restarted',
  ]);
  assert.equal(h.prober.timers, 0, 'on hold until a new container runs');
  await h.clock.advance(30_000);
  assert.equal(h.execs.length, 3);
  // The same container still running (being stopped) does not restart probing.
  h.prober.sync(p, [running('app', 'c1', h.clock.t - 36_000)]);
  assert.equal(h.prober.timers, 0);
  // The restarted container gets fresh workers.
  h.exit.set('sh -c alive', 0);
  h.prober.sync(p, [exited(running('app', 'c1', 0)), running('app', 'c2', h.clock.t, 1)]);
  assert.equal(h.prober.timers, 1);
  await h.clock.advance(0);
  assert.equal(h.execs.at(-1)!.id, 'c2');
});

test('liveness: the pod grace period applies without a probe-level one; restartPolicy Never says no restart', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'busybox', livenessProbe: execProbe('alive', { failureThreshold: 1 }) }], { restartPolicy: 'Never', terminationGracePeriodSeconds: 7 });
  h.exit.set('sh -c alive', 1);
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  await h.clock.advance(0);
  assert.deepEqual(h.kills, [{ id: 'c1', grace: 7 }]);
  assert.equal(h.events.at(-1)!.message, 'Container app failed liveness probe');
});

test('startup probe gates liveness and readiness, then stops; started() follows it', async () => {
  const h = harness();
  const p = pod([{
    name: 'app', image: 'busybox',
    startupProbe: execProbe('started', { periodSeconds: 1, failureThreshold: 30 }),
    livenessProbe: execProbe('alive', { periodSeconds: 5 }),
    readinessProbe: execProbe('ready', { periodSeconds: 5, initialDelaySeconds: 1 }),
  }]);
  h.exit.set('sh -c started', 1);
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  assert.equal(h.prober.timers, 1, 'only the startup probe is armed');
  await h.clock.advance(4_000);
  assert.deepEqual(new Set(h.execs.map((e) => e.cmd[2])), new Set(['started']));
  assert.equal(h.prober.started(p, 'app', 'c1'), false);
  assert.equal(h.prober.ready(p, 'app', 'c1'), false);
  h.exit.set('sh -c started', 0);
  await h.clock.advance(1_000);
  assert.equal(h.prober.started(p, 'app', 'c1'), true);
  const after = h.execs.length;
  assert.equal(h.changed.length, 2, 'started, then ready');
  assert.deepEqual(h.execs.slice(-2).map((e) => e.cmd[2]).sort(), ['alive', 'ready'], 'liveness and readiness start at once');
  assert.equal(h.prober.ready(p, 'app', 'c1'), true);
  await h.clock.advance(10_000);
  assert.equal(h.execs.slice(after).filter((e) => e.cmd[2] === 'started').length, 0, 'startup probe no longer runs');
  assert.equal(h.execs.slice(after).filter((e) => e.cmd[2] === 'alive').length, 2);
  assert.equal(h.prober.timers, 2);
});

test('startup probe failing past its threshold kills the container', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'busybox', startupProbe: execProbe('started', { periodSeconds: 2, failureThreshold: 3 }), livenessProbe: execProbe('alive') }]);
  h.exit.set('sh -c started', 1);
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  await h.clock.advance(3_999);
  assert.equal(h.kills.length, 0);
  await h.clock.advance(1);
  assert.equal(h.kills.length, 1);
  assert.equal(h.events.at(-1)!.message, 'Container app failed startup probe, will be restarted');
  assert.equal(h.execs.filter((e) => e.cmd[2] === 'alive').length, 0, 'liveness never ran');
  assert.equal(h.prober.timers, 0);
});

test('an exec probe that outlives timeoutSeconds is a failure', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'busybox', livenessProbe: execProbe('sleep 10', { timeoutSeconds: 2, failureThreshold: 1 }) }]);
  h.exit.set('sh -c sleep 10', 'hang');
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  await h.clock.advance(1_999);
  assert.equal(h.events.length, 0);
  await h.clock.advance(1);
  assert.equal(h.events[0].message, 'Liveness probe failed: command "sh -c sleep 10" timed out');
  assert.equal(h.kills.length, 1);
});

test('a probe that cannot run is thrown away, with an event, and thresholds do not move', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'busybox', livenessProbe: { tcpSocket: { port: 'nope' }, periodSeconds: 1, failureThreshold: 1 } }]);
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  await h.clock.advance(2_000);
  assert.equal(h.kills.length, 0);
  assert.match(h.events[0].message, /^Liveness probe errored and resulted in unknown state: strconv.Atoi: parsing "nope": invalid syntax$/);
  assert.equal(h.prober.timers, 1, 'it keeps trying');
});

test('timers stop when the container stops and when the pod goes', async () => {
  const h = harness();
  const p = pod([
    { name: 'a', image: 'busybox', readinessProbe: execProbe('a') },
    { name: 'b', image: 'busybox', livenessProbe: execProbe('b'), readinessProbe: execProbe('b2') },
  ]);
  const a = running('a', 'ca', h.clock.t);
  const b = running('b', 'cb', h.clock.t);
  h.prober.sync(p, [a, b]);
  assert.equal(h.prober.timers, 3);
  h.prober.sync(p, [exited(a), b]);
  assert.equal(h.prober.timers, 2);
  assert.equal(h.prober.ready(p, 'a', 'ca'), false);
  h.prober.sync({ ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }, [b]);
  assert.equal(h.prober.timers, 0, 'a pod being deleted is not probed');
  h.prober.sync(p, [b]);
  assert.equal(h.prober.timers, 2);
  h.prober.forget('uid-1');
  assert.equal(h.prober.timers, 0);
  assert.equal(h.clock.armed, 0);
  h.prober.sync(p, [b]);
  h.prober.stop();
  assert.equal(h.clock.armed, 0);
  h.prober.sync(p, [b]);
  assert.equal(h.clock.armed, 0, 'a stopped prober starts nothing');
});

test('sidecars (restartable init containers) are probed, plain init containers are not', async () => {
  const h = harness();
  const p = pod([{ name: 'app', image: 'busybox' }], {
    initContainers: [
      { name: 'side', image: 'busybox', restartPolicy: 'Always', readinessProbe: execProbe('side') },
      { name: 'init', image: 'busybox', readinessProbe: execProbe('init') },
    ],
  });
  h.prober.sync(p, [running('side', 'cs', h.clock.t), running('init', 'ci', h.clock.t), running('app', 'c1', h.clock.t)]);
  await h.clock.advance(0);
  assert.deepEqual(h.execs.map((e) => e.id), ['cs']);
  assert.equal(h.prober.ready(p, 'side', 'cs'), true);
  assert.equal(h.prober.ready(p, 'init', 'ci'), undefined);
});

test('exec probe commands expand $(VAR) from literal env values only', async () => {
  const h = harness();
  const p = pod([{
    name: 'app', image: 'busybox',
    env: [{ name: 'FILE', value: '/tmp/ok' }, { name: 'FROM', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
    readinessProbe: { exec: { command: ['test', '-f', '$(FILE)', '$(FROM)', '$$(FILE)'] } },
  }]);
  h.prober.sync(p, [running('app', 'c1', h.clock.t)]);
  await h.clock.advance(0);
  assert.deepEqual(h.execs[0].cmd, ['test', '-f', '/tmp/ok', '$(FROM)', '$(FILE)']);
});

test('after a translator restart, readiness and startup found before are kept until probes say otherwise', async () => {
  const h = harness();
  const spec = [{
    name: 'app', image: 'busybox',
    startupProbe: execProbe('started'), readinessProbe: execProbe('ready', { periodSeconds: 1, failureThreshold: 2 }),
  }];
  const stored = pod(spec);
  stored.status = { containerStatuses: [{ name: 'app', containerID: 'docker://c1', ready: true, started: true }] };
  h.exit.set('sh -c ready', 1);
  h.prober.sync(stored, [running('app', 'c1', h.clock.t - 60_000)]);
  assert.equal(h.prober.ready(stored, 'app', 'c1'), true);
  assert.equal(h.prober.started(stored, 'app', 'c1'), true);
  await h.clock.advance(0);
  assert.equal(h.execs.filter((e) => e.cmd[2] === 'started').length, 0, 'startup already passed');
  assert.equal(h.prober.ready(stored, 'app', 'c1'), true, 'one failure is below the threshold');
  await h.clock.advance(1_000);
  assert.equal(h.prober.ready(stored, 'app', 'c1'), false);
  // A status about another container id is not taken over.
  const h2 = harness();
  h2.prober.sync(stored, [running('app', 'c9', h2.clock.t)]);
  assert.equal(h2.prober.ready(stored, 'app', 'c9'), false);
  assert.equal(h2.prober.started(stored, 'app', 'c9'), false);
});
