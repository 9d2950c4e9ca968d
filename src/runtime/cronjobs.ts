// The CronJob controller (pkg/controller/cronjob, v2). planCronJob decides, with no I/O and with
// the clock passed in, what one sync does; CronJobController carries it out. One timer per
// CronJob, armed for its next run; Job changes wake the owning CronJob.
import { ApiError } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject } from '../machinery/types.ts';
import { clone, controllerOf, deepEqual, rfc3339 } from '../machinery/util.ts';
import { recordEvent } from './events.ts';
import { formatInZone, parseSchedule, timeZoneError, type CronSchedule } from './cron.ts';
import { finishedCondition } from './jobs.ts';
import { KeyedLoop, realTimers, splitKey, type Timers } from './queue.ts';

export type { Timers };

type Obj = Record<string, any>;

export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** nextScheduleDelta: the timer fires a little after the due time. */
const NEXT_SCHEDULE_DELTA_MS = 100;
const SOURCE = { component: 'cronjob-controller' };

export interface CronEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

export interface CronPlan {
  /** A Job to create (its name is `<cronjob>-<scheduled minutes since epoch>`). */
  create?: KObject;
  /** Jobs to delete (Replace policy, history limits), with Background propagation. */
  delete: KObject[];
  status: Obj;
  /** When the next run is due (undefined: suspended, unparseable, or none). */
  nextAt?: Date;
  events: CronEvent[];
}

const ms = (t: unknown) => (typeof t === 'string' && t ? Date.parse(t) : NaN);
const spec = (o: KObject) => ((o as Obj).spec ?? {}) as Obj;

/** formatSchedule + ParseStandard: spec.timeZone unless the schedule names its own TZ. */
export function cronJobSchedule(cj: KObject): CronSchedule {
  const s = spec(cj);
  const schedule = String(s.schedule ?? '');
  if (schedule.includes('TZ') || s.timeZone == null) return parseSchedule(schedule);
  return parseSchedule(schedule, s.timeZone);
}

/**
 * mostRecentScheduleTime: the latest run time due by `now` after the last one scheduled (or the
 * CronJob's creation), never earlier than startingDeadlineSeconds when asked; and whether many
 * runs were missed.
 */
export function mostRecentScheduleTime(cj: KObject, now: Date, sched: CronSchedule, withDeadline: boolean): { time?: Date; manyMissed: boolean } {
  const s = spec(cj);
  let earliest = ms((cj as Obj).status?.lastScheduleTime);
  if (Number.isNaN(earliest)) earliest = ms(cj.metadata.creationTimestamp);
  if (withDeadline && typeof s.startingDeadlineSeconds === 'number') {
    earliest = Math.max(earliest, now.getTime() - s.startingDeadlineSeconds * 1000);
  }
  const t1 = sched.next(new Date(earliest));
  if (!t1 || now < t1) return { manyMissed: false };
  let latest = t1;
  let missed = 1;
  for (let t = sched.next(t1); t && t <= now; t = sched.next(t)) {
    latest = t;
    if (++missed > 1000) {
      // Far behind: jump close to now and walk the last few.
      const back = sched.next(new Date(now.getTime() - 3_600_000 * 24 * 7));
      for (let u = back; u && u <= now; u = sched.next(u)) latest = u;
      break;
    }
  }
  return { time: latest, manyMissed: missed > 100 };
}

/** The next run after the most recent one (or after the last scheduled / creation time). */
export function nextScheduleTime(cj: KObject, now: Date, sched: CronSchedule): Date | undefined {
  let base = ms((cj as Obj).status?.lastScheduleTime);
  if (Number.isNaN(base)) base = ms(cj.metadata.creationTimestamp);
  const recent = mostRecentScheduleTime(cj, now, sched, false).time;
  const next = sched.next(recent ?? new Date(base));
  return next && new Date(next.getTime() + NEXT_SCHEDULE_DELTA_MS);
}

export function jobName(cj: KObject, scheduled: Date): string {
  return `${cj.metadata.name}-${Math.floor(scheduled.getTime() / 60000)}`;
}

/** getJobFromTemplate2: the Job of one scheduled run. */
export function jobForRun(cj: KObject, scheduled: Date): KObject {
  const t = (spec(cj).jobTemplate ?? {}) as Obj;
  const annotations: Record<string, string> = { ...(t.metadata?.annotations ?? {}) };
  // Go's LoadLocation("") is UTC: without spec.timeZone the annotation is in UTC.
  annotations[SCHEDULED_TIMESTAMP] = formatInZone(scheduled, spec(cj).timeZone ?? undefined);
  const meta: Obj = {
    name: jobName(cj, scheduled), namespace: cj.metadata.namespace, annotations,
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name!, uid: cj.metadata.uid!, controller: true, blockOwnerDeletion: true }],
  };
  if (t.metadata?.labels && Object.keys(t.metadata.labels).length) meta.labels = { ...t.metadata.labels };
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: meta, spec: clone(t.spec ?? {}) } as KObject;
}

function jobRef(j: KObject): Obj {
  return { kind: 'Job', namespace: j.metadata.namespace, name: j.metadata.name, uid: j.metadata.uid, apiVersion: 'batch/v1', resourceVersion: j.metadata.resourceVersion };
}

/** byJobStartTime: oldest start first, jobs never started last, then by name. */
function byStartTime(a: KObject, b: KObject): number {
  const sa = ms((a as Obj).status?.startTime), sb = ms((b as Obj).status?.startTime);
  if (Number.isNaN(sa) !== Number.isNaN(sb)) return Number.isNaN(sa) ? 1 : -1;
  if (!Number.isNaN(sa) && sa !== sb) return sa - sb;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}

/**
 * One sync of a CronJob (syncCronJob + cleanupFinishedJobs). `jobs` are the Jobs it controls;
 * `now` is the controller's clock.
 */
export function planCronJob(cj: KObject, jobs: KObject[], now: Date): CronPlan {
  const s = spec(cj);
  const st: Obj = clone((cj as Obj).status ?? {});
  const events: CronEvent[] = [];
  const del: KObject[] = [];
  let active: Obj[] = [...(st.active ?? [])];
  const inActive = (uid: string | undefined) => active.some((r) => r.uid === uid);
  const byUid = new Set(jobs.map((j) => j.metadata.uid));

  for (const j of jobs) {
    const done = finishedCondition(j);
    if (!inActive(j.metadata.uid) && !done) {
      events.push({ type: 'Warning', reason: 'UnexpectedJob', message: `Saw a job that the controller did not create or forgot: ${j.metadata.name}` });
    } else if (inActive(j.metadata.uid) && done) {
      active = active.filter((r) => r.uid !== j.metadata.uid);
      events.push({ type: 'Normal', reason: 'SawCompletedJob', message: `Saw completed job: ${j.metadata.name}, condition: ${done.type}` });
    }
    // Every finished Job counts toward lastSuccessfulTime, in the active list or not.
    const completed = ms((j as Obj).status?.completionTime);
    if (done?.type === 'Complete' && !Number.isNaN(completed)) {
      const last = ms(st.lastSuccessfulTime);
      if (Number.isNaN(last) || completed > last) st.lastSuccessfulTime = (j as Obj).status.completionTime;
    }
  }
  for (const r of [...active]) {
    if (byUid.has(r.uid)) continue;
    events.push({ type: 'Normal', reason: 'MissingJob', message: `Active job went missing: ${r.name}` });
    active = active.filter((x) => x.uid !== r.uid);
  }

  const finish = (create?: KObject, nextAt?: Date): CronPlan => {
    cleanup(cj, jobs.filter((j) => !del.includes(j)), del, events);
    const gone = new Set(del.map((j) => j.metadata.uid));
    active = active.filter((r) => !gone.has(r.uid));
    if (active.length) st.active = active; else delete st.active;
    return { create, delete: del, status: st, nextAt, events };
  };

  if (cj.metadata.deletionTimestamp) return finish();
  if (s.timeZone != null) {
    const err = timeZoneError(s.timeZone);
    if (err) {
      events.push({ type: 'Warning', reason: 'UnknownTimeZone', message: `invalid timeZone: "${s.timeZone}": ${err}` });
      return finish();
    }
  }
  if (s.suspend) return finish();
  let sched: CronSchedule;
  try {
    sched = cronJobSchedule(cj);
  } catch (e) {
    events.push({ type: 'Warning', reason: 'UnparseableSchedule', message: `unparseable schedule: "${s.schedule}" : ${(e as Error).message}` });
    return finish();
  }
  if (String(s.schedule).includes('TZ')) {
    events.push({ type: 'Warning', reason: 'UnsupportedSchedule', message: `CRON_TZ or TZ used in schedule "${s.schedule}" is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details` });
  }
  const next = () => nextScheduleTime(cj, now, sched);
  const recent = mostRecentScheduleTime(cj, now, sched, true);
  if (!recent.time) return finish(undefined, next());
  const scheduled = recent.time;
  if (recent.manyMissed) {
    events.push({ type: 'Warning', reason: 'TooManyMissedTimes', message: 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew' });
  }
  if (typeof s.startingDeadlineSeconds === 'number' && scheduled.getTime() + s.startingDeadlineSeconds * 1000 < now.getTime()) {
    const t = scheduled.toUTCString().replace('GMT', '+0000');
    events.push({ type: 'Warning', reason: 'MissSchedule', message: `Missed scheduled time to start a job: ${t}` });
    return finish(undefined, next());
  }
  const name = jobName(cj, scheduled);
  if (active.some((r) => r.name === name) || ms(st.lastScheduleTime) === scheduled.getTime()) return finish(undefined, next());
  if (s.concurrencyPolicy === 'Forbid' && active.length) {
    events.push({ type: 'Normal', reason: 'JobAlreadyActive', message: 'Not starting job because prior execution is running and concurrency policy is Forbid' });
    return finish(undefined, next());
  }
  if (s.concurrencyPolicy === 'Replace') {
    for (const r of active) {
      const j = jobs.find((x) => x.metadata.uid === r.uid);
      if (j && !del.includes(j)) del.push(j);
    }
  }
  const job = jobForRun(cj, scheduled);
  st.lastScheduleTime = rfc3339(scheduled);
  return finish(job, next());
}

/** cleanupFinishedJobs: the oldest finished Jobs beyond the history limits go. */
function cleanup(cj: KObject, jobs: KObject[], del: KObject[], events: CronEvent[]): void {
  const s = spec(cj);
  const prune = (list: KObject[], limit: unknown) => {
    if (typeof limit !== 'number') return;
    const extra = list.length - limit;
    if (extra <= 0) return;
    for (const j of [...list].sort(byStartTime).slice(0, extra)) del.push(j);
  };
  prune(jobs.filter((j) => finishedCondition(j)?.type === 'Complete'), s.successfulJobsHistoryLimit);
  prune(jobs.filter((j) => finishedCondition(j)?.type === 'Failed'), s.failedJobsHistoryLimit);
  void events;
}


export class CronJobController {
  private cron: KindInfo;
  private job: KindInfo;
  private unsubscribe: Array<() => void> = [];
  private loop: KeyedLoop;

  constructor(private registry: Registry, private now: () => Date = () => new Date(), private clock: Timers = realTimers) {
    this.cron = registry.kind('cronjobs.batch');
    this.job = registry.kind('jobs.batch');
    this.loop = new KeyedLoop('cronjob', (key) => this.sync(...splitKey(key)), { now: () => this.now().getTime(), timers: clock });
  }

  start(): void {
    const hub = this.registry.hub;
    this.unsubscribe.push(
      hub.add({ resource: 'cronjobs.batch', onChange: (c) => this.add(`${c.object.metadata.namespace}/${c.object.metadata.name}`) }),
      hub.add({
        resource: 'jobs.batch',
        onChange: (c) => {
          const ref = controllerOf(c.object);
          if (ref?.kind === 'CronJob') this.add(`${c.object.metadata.namespace}/${ref.name}`);
        },
      }),
    );
    for (const cj of this.registry.all(this.cron)) this.add(`${cj.metadata.namespace}/${cj.metadata.name}`);
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.loop.stop();
  }

  /** Resolves once nothing is queued (tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  private add(key: string): void {
    this.loop.add(key);
  }

  private event(cj: KObject, e: CronEvent): void {
    recordEvent(this.registry, cj, e.type, e.reason, e.message, SOURCE, { apiVersion: 'batch/v1', kind: 'CronJob' });
  }

  private async sync(ns: string, name: string): Promise<void> {
    const key = `${ns}/${name}`;
    const cj = this.registry.peek(this.cron, ns, name);
    if (!cj) { this.loop.arm(key, undefined); return; }
    const uid = cj.metadata.uid;
    const jobs = this.registry.all(this.job, ns).filter((j) => controllerOf(j)?.uid === uid);
    const plan = planCronJob(cj, jobs, this.now());
    const status = plan.status;
    for (const j of plan.delete) {
      try {
        await this.registry.delete(this.job, ns, j.metadata.name!, { propagationPolicy: 'Background' });
        this.event(cj, { type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted job ${j.metadata.name}` });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    if (plan.create) {
      try {
        const job = await this.registry.create(this.job, ns, plan.create);
        this.event(cj, { type: 'Normal', reason: 'SuccessfulCreate', message: `Created job ${job.metadata.name}` });
        status.active = [...(status.active ?? []), jobRef(job)];
      } catch (err) {
        if (err instanceof ApiError && err.code === 409) {
          // Created before a restart, or by someone else: that run is taken care of.
        } else {
          this.event(cj, { type: 'Warning', reason: 'FailedCreate', message: `Error creating job: ${(err as Error).message}` });
          delete status.lastScheduleTime;
          if ((cj as Obj).status?.lastScheduleTime) status.lastScheduleTime = (cj as Obj).status.lastScheduleTime;
        }
      }
    }
    const fresh = this.registry.peek(this.cron, ns, name);
    if (!fresh || fresh.metadata.uid !== uid) return;
    if (!deepEqual(fresh.status ?? {}, status)) {
      await this.registry.update(this.cron, ns, name, { ...clone(fresh), status } as KObject, { subresource: 'status', skipRvCheck: true });
    }
    for (const e of plan.events) this.event(fresh, e);
    this.loop.arm(key, plan.nextAt);
  }
}

export function startCronJobs(registry: Registry, now?: () => Date): CronJobController {
  const c = new CronJobController(registry, now);
  c.start();
  return c;
}
