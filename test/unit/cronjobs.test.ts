// The CronJob controller driven in-process against a real Registry (with the Job and CronJob
// strategies) and a fake clock: its `now` and the one timer it arms per CronJob are the clock's,
// so runs minutes apart happen at once. Jobs stay stored objects (no Job controller): a test
// finishes one by writing its status, as the Job controller would. Behaviour as upstream's
// pkg/controller/cronjob (v2): concurrencyPolicy, suspend, startingDeadlineSeconds, history
// limits, timeZone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Registry } from '../../src/machinery/registry.ts';
import type { KindInfo, KObject } from '../../src/machinery/types.ts';
import { cronJobs, jobs } from '../../src/api/batch.ts';
import { CronJobController, type Timers } from '../../src/runtime/cronjobs.ts';

const kinds = JSON.parse(readFileSync(new URL('../../generated/kinds.json', import.meta.url), 'utf8')) as KindInfo[];
type Obj = Record<string, any>;

const MIN = 60_000;
const FIVE = 5 * MIN;
/** nextScheduleDelta: the timer fires this long after the due time. */
const DELTA = 100;
const STAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

/** A clock the test moves by hand; it holds the timers the controller arms. */
class FakeClock implements Timers {
  private seq = 0;
  readonly armed = new Map<number, { at: number; fire: () => void }>();
  constructor(public t: number) {}
  now = (): Date => new Date(this.t);
  set(fire: () => void, delayMs: number): unknown {
    const id = ++this.seq;
    this.armed.set(id, { at: this.t + delayMs, fire });
    return id;
  }
  clear(handle: unknown): void { this.armed.delete(handle as number); }
  /** The due times of the timers armed now. */
  due(): number[] { return [...this.armed.values()].map((a) => a.at).sort((a, b) => a - b); }
}

interface Env { reg: Registry; c: CronJobController; clock: FakeClock; cron: KindInfo; job: KindInfo; ev: KindInfo }

async function env(): Promise<Env> {
  const reg = new Registry(kinds, undefined, { objects: [], resourceVersion: 0 });
  await reg.create(reg.kind('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  reg.setStrategy('jobs.batch', jobs());
  reg.setStrategy('cronjobs.batch', cronJobs());
  const clock = new FakeClock(Date.now());
  const c = new CronJobController(reg, clock.now, clock);
  c.start();
  return { reg, c, clock, cron: reg.kind('cronjobs.batch'), job: reg.kind('jobs.batch'), ev: reg.kind('events') };
}

async function settle(e: Env): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await e.c.idle();
    await new Promise((r) => setTimeout(r, 10));
  }
  await e.c.idle();
}

/** Moves the clock to `to`, firing every timer due by then, in order. */
async function advance(e: Env, to: number): Promise<void> {
  e.clock.t = to;
  for (;;) {
    const next = [...e.clock.armed.entries()].filter(([, a]) => a.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
    if (!next) break;
    e.clock.armed.delete(next[0]);
    next[1].fire();
    await settle(e);
  }
  await settle(e);
}

function cronJob(name: string, spec: Obj): KObject {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
    spec: {
      schedule: '*/5 * * * *', ...spec,
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:latest', command: ['true'] }] } } } },
    },
  } as KObject;
}

/** Creates the CronJob; returns it and its first run time under a 5-minute schedule (UTC). */
async function create(e: Env, name: string, spec: Obj): Promise<{ cj: KObject; first: number }> {
  const cj = await e.reg.create(e.cron, 'default', cronJob(name, spec));
  await settle(e);
  const created = Date.parse(cj.metadata.creationTimestamp!);
  return { cj, first: Math.floor(created / FIVE) * FIVE + FIVE };
}

const jobsOf = (e: Env, name: string) => e.reg.all(e.job, 'default')
  .filter((j) => j.metadata.ownerReferences?.[0]?.name === name)
  .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
const names = (e: Env, name: string) => jobsOf(e, name).map((j) => j.metadata.name);
const runName = (name: string, at: number) => `${name}-${at / MIN}`;
const cronOf = (e: Env, name: string) => e.reg.peek(e.cron, 'default', name) as Obj;
const events = (e: Env, name: string) => e.reg.all(e.ev, 'default')
  .filter((x) => (x as Obj).involvedObject?.name === name && (x as Obj).involvedObject?.kind === 'CronJob')
  .map((x) => `${(x as Obj).type} ${(x as Obj).reason} ${(x as Obj).message}`);
/** Changes the CronJob's spec, as a user's update would. */
async function setSpec(e: Env, name: string, patch: Obj): Promise<void> {
  const cj = e.reg.peek(e.cron, 'default', name)!;
  await e.reg.update(e.cron, 'default', name, { ...cj, spec: { ...(cj as Obj).spec, ...patch } } as KObject);
  await settle(e);
}
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Writes a finished status on a Job, as the Job controller would. */
async function finish(e: Env, jobName: string, type: 'Complete' | 'Failed', startedAt: number): Promise<void> {
  const j = e.reg.peek(e.job, 'default', jobName)!;
  const status: Obj = {
    startTime: iso(startedAt),
    conditions: [{ type, status: 'True', reason: type === 'Complete' ? 'CompletionsReached' : 'BackoffLimitExceeded', lastTransitionTime: iso(e.clock.t) }],
  };
  if (type === 'Complete') { status.completionTime = iso(e.clock.t); status.succeeded = 1; } else status.failed = 1;
  await e.reg.update(e.job, 'default', jobName, { ...j, status } as KObject, { subresource: 'status', skipRvCheck: true });
  await settle(e);
}

test('one timer, armed for the next run; the run makes its Job named and annotated as upstream', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  const { cj, first } = await create(e, 'tick', {});
  assert.deepEqual(e.clock.due(), [first + DELTA], 'one timer, due just after the first run');
  assert.deepEqual(names(e, 'tick'), []);

  await advance(e, first + DELTA);
  assert.deepEqual(names(e, 'tick'), [runName('tick', first)]);
  const job = jobsOf(e, 'tick')[0];
  assert.equal(job.metadata.annotations?.[STAMP], iso(first));
  assert.deepEqual(job.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  const st = cronOf(e, 'tick').status;
  assert.equal(st.lastScheduleTime, iso(first));
  assert.deepEqual(st.active.map((r: Obj) => r.name), [runName('tick', first)]);
  assert.deepEqual(e.clock.due(), [first + FIVE + DELTA], 're-armed for the next run, still one timer');
  assert.ok(events(e, 'tick').includes(`Normal SuccessfulCreate Created job ${runName('tick', first)}`));

  await finish(e, runName('tick', first), 'Complete', first + 1000);
  const done = cronOf(e, 'tick').status;
  assert.equal(done.active, undefined);
  assert.equal(done.lastSuccessfulTime, iso(e.clock.t));
  assert.ok(events(e, 'tick').some((x) => x.startsWith(`Normal SawCompletedJob Saw completed job: ${runName('tick', first)}, condition: Complete`)));
  assert.deepEqual(e.clock.due(), [first + FIVE + DELTA]);

  await e.reg.delete(e.cron, 'default', 'tick', {});
  await settle(e);
  assert.deepEqual(e.clock.due(), [], 'the timer of a deleted CronJob is cleared');
});

test('concurrencyPolicy Forbid: a run due while one is active is skipped (JobAlreadyActive), then started once the active one finishes', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  const { first } = await create(e, 'solo', { concurrencyPolicy: 'Forbid' });
  await advance(e, first + DELTA);
  assert.deepEqual(names(e, 'solo'), [runName('solo', first)]);

  await advance(e, first + FIVE + DELTA);
  assert.deepEqual(names(e, 'solo'), [runName('solo', first)], 'no second Job while the first is active');
  assert.ok(events(e, 'solo').includes('Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid'));
  assert.equal(cronOf(e, 'solo').status.lastScheduleTime, iso(first));
  assert.deepEqual(e.clock.due(), [first + 2 * FIVE + DELTA]);

  // The skipped run is still the most recent unmet one: upstream starts it when the slot frees.
  e.clock.t = first + FIVE + 2 * MIN;
  await finish(e, runName('solo', first), 'Complete', first + 1000);
  assert.deepEqual(names(e, 'solo'), [runName('solo', first), runName('solo', first + FIVE)]);
  const st = cronOf(e, 'solo').status;
  assert.equal(st.lastScheduleTime, iso(first + FIVE));
  assert.deepEqual(st.active.map((r: Obj) => r.name), [runName('solo', first + FIVE)]);
});

test('concurrencyPolicy Replace: the active Job is deleted and the new run takes its place', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  const { first } = await create(e, 'swap', { concurrencyPolicy: 'Replace' });
  await advance(e, first + DELTA);
  assert.deepEqual(names(e, 'swap'), [runName('swap', first)]);
  await advance(e, first + FIVE + DELTA);
  assert.deepEqual(names(e, 'swap'), [runName('swap', first + FIVE)]);
  assert.ok(events(e, 'swap').includes(`Normal SuccessfulDelete Deleted job ${runName('swap', first)}`));
  assert.deepEqual(cronOf(e, 'swap').status.active.map((r: Obj) => r.name), [runName('swap', first + FIVE)]);
});

test('concurrencyPolicy Allow (the default): runs overlap', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  const { first } = await create(e, 'many', {});
  assert.equal(cronOf(e, 'many').spec.concurrencyPolicy, 'Allow');
  await advance(e, first + DELTA);
  await advance(e, first + FIVE + DELTA);
  assert.deepEqual(names(e, 'many'), [runName('many', first), runName('many', first + FIVE)]);
  assert.equal(cronOf(e, 'many').status.active.length, 2);
});

test('suspend: no timer and no Job while suspended; resuming starts only the most recent missed run', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  const { first } = await create(e, 'nap', { suspend: true });
  assert.deepEqual(e.clock.due(), [], 'a suspended CronJob arms no timer');
  await advance(e, first + 2 * FIVE + 30_000);
  assert.deepEqual(names(e, 'nap'), []);

  await setSpec(e, 'nap', { suspend: false });
  assert.deepEqual(names(e, 'nap'), [runName('nap', first + 2 * FIVE)], 'one Job, for the latest missed time');
  assert.equal(cronOf(e, 'nap').status.lastScheduleTime, iso(first + 2 * FIVE));
  assert.deepEqual(e.clock.due(), [first + 3 * FIVE + DELTA]);

  // Suspending again disarms the timer; the due time passes with nothing started.
  await setSpec(e, 'nap', { suspend: true });
  assert.deepEqual(e.clock.due(), []);
  await advance(e, first + 3 * FIVE + DELTA);
  assert.deepEqual(names(e, 'nap'), [runName('nap', first + 2 * FIVE)]);
});

test('startingDeadlineSeconds: a run missed by more than the deadline is not started; the next one is', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  const { first } = await create(e, 'late', { startingDeadlineSeconds: 30 });
  assert.deepEqual(e.clock.due(), [first + DELTA]);
  // The controller wakes a minute after the run was due (it was down, or the host slept).
  await advance(e, first + MIN);
  assert.deepEqual(names(e, 'late'), []);
  assert.equal(cronOf(e, 'late').status?.lastScheduleTime, undefined);
  assert.deepEqual(e.clock.due(), [first + FIVE + DELTA]);

  // Within the deadline (20 s late < 30 s) the run still starts.
  await advance(e, first + FIVE + 20_000);
  assert.deepEqual(names(e, 'late'), [runName('late', first + FIVE)]);
  assert.equal(cronOf(e, 'late').status.lastScheduleTime, iso(first + FIVE));

  // Without a deadline, the same late wake-up starts the missed run.
  const e2 = await env();
  t.after(() => e2.c.stop());
  const { first: f2 } = await create(e2, 'lax', {});
  await advance(e2, f2 + MIN);
  assert.deepEqual(names(e2, 'lax'), [runName('lax', f2)]);
});

test('history limits: the oldest finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit are deleted', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  const { first } = await create(e, 'hist', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 });
  const run = (i: number) => runName('hist', first + i * FIVE);
  for (let i = 0; i < 4; i++) await advance(e, first + i * FIVE + DELTA);
  assert.deepEqual(names(e, 'hist'), [run(0), run(1), run(2), run(3)]);

  await finish(e, run(0), 'Complete', first + 1000);
  await finish(e, run(1), 'Complete', first + FIVE + 1000);
  assert.deepEqual(names(e, 'hist'), [run(1), run(2), run(3)], 'the older successful Job went');
  assert.ok(events(e, 'hist').includes(`Normal SuccessfulDelete Deleted job ${run(0)}`));

  await finish(e, run(2), 'Failed', first + 2 * FIVE + 1000);
  assert.deepEqual(names(e, 'hist'), [run(1), run(2), run(3)], 'one failed Job is within its limit');
  await finish(e, run(3), 'Failed', first + 3 * FIVE + 1000);
  assert.deepEqual(names(e, 'hist'), [run(1), run(3)], 'the older failed Job went');
  assert.equal(cronOf(e, 'hist').status.active, undefined);

  // A limit of 0 keeps no finished Job.
  await setSpec(e, 'hist', { successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 0 });
  assert.deepEqual(names(e, 'hist'), []);
});

test('timeZone: the schedule is read in the zone; the scheduled-timestamp annotation carries its offset', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  const { cj } = await create(e, 'tokyo', { schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' });
  // 09:00 in Tokyo (UTC+9, no DST) is 00:00 UTC: the next UTC midnight after creation.
  const created = Date.parse(cj.metadata.creationTimestamp!);
  const day = 24 * 60 * MIN;
  const due = Math.floor(created / day) * day + day;
  assert.deepEqual(e.clock.due(), [due + DELTA]);
  await advance(e, due + DELTA);
  assert.deepEqual(names(e, 'tokyo'), [runName('tokyo', due)]);
  const d = new Date(due + 9 * 60 * MIN);
  const p2 = (n: number) => String(n).padStart(2, '0');
  assert.equal(jobsOf(e, 'tokyo')[0].metadata.annotations?.[STAMP], `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T09:00:00+09:00`);
  assert.equal(cronOf(e, 'tokyo').status.lastScheduleTime, iso(due));

  // A zone with DST: 09:00 in New York is 14:00 UTC in winter (EST) and 13:00 UTC in summer (EDT).
  const e2 = await env();
  t.after(() => e2.c.stop());
  const { cj: ny } = await create(e2, 'ny', { schedule: '0 9 * * *', timeZone: 'America/New_York' });
  const [armed] = e2.clock.due();
  const nyDue = armed - DELTA;
  const offset = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', timeZoneName: 'shortOffset' }).formatToParts(new Date(nyDue)).find((p) => p.type === 'timeZoneName')!.value;
  assert.equal(new Date(nyDue).getUTCHours(), offset === 'GMT-4' ? 13 : 14, offset);
  assert.equal(new Date(nyDue).getUTCMinutes(), 0);
  const since = nyDue - Date.parse(ny.metadata.creationTimestamp!);
  assert.ok(since > 0 && since <= day, `next run ${since} ms after creation`);
});
