// The Job controller (pkg/controller/job) and the TTL-after-finished controller. planJob decides,
// with no I/O, what one sync does; JobController carries it out. Woken by Job and pod changes;
// timers only for known due times (activeDeadlineSeconds, the pod failure back-off, the TTL).
//
// Upstream counts finished pods through the batch.kubernetes.io/job-tracking finalizer. One
// process needs no finalizer: each Job's pods are marked in memory once counted. After a restart
// the marks are rebuilt from the pods still there (finished pods stay until the Job goes), and the
// counters never go below what status already says.
import { ApiError } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject } from '../machinery/types.ts';
import { clone, controllerOf, deepEqual, rfc3339 } from '../machinery/util.ts';
import { recordEvent } from './events.ts';
import { KeyedLoop, splitKey } from './queue.ts';

type Obj = Record<string, any>;

export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const JOB_CONTROLLER = 'kubernetes.io/job-controller';
/** DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 600_000;
/** names.MaxGeneratedNameLength: generateName prefixes are cut to this. */
const MAX_GENERATED_NAME = 58;
const SOURCE = { component: 'job-controller' };

/** How a pod was accounted for: counted succeeded, counted failed, or removed uncounted. */
export type Mark = 's' | 'f' | 'x';

export interface JobEvent { type: 'Normal' | 'Warning'; reason: string; message: string }

export interface JobPlan {
  /** Pods to create: the completion index of each (undefined for NonIndexed). */
  create: Array<number | undefined>;
  /** Active pods to delete. */
  delete: KObject[];
  /** The pod marks after this sync (the whole map). */
  marks: Map<string, Mark>;
  status: Obj;
  /** When to sync again though nothing changes (deadline, back-off). */
  recheckAt?: Date;
  events: JobEvent[];
}

const ms = (t: unknown) => (typeof t === 'string' && t ? Date.parse(t) : NaN);
const spec = (o: KObject) => ((o as Obj).spec ?? {}) as Obj;
const status = (o: KObject) => ((o as Obj).status ?? {}) as Obj;
const phase = (p: KObject) => status(p).phase as string | undefined;

function condition(job: KObject, type: string): Obj | undefined {
  return ((status(job).conditions ?? []) as Obj[]).find((c) => c.type === type && c.status === 'True');
}

/** The Complete or Failed condition, when the Job is finished. */
export function finishedCondition(job: KObject): Obj | undefined {
  return condition(job, 'Complete') ?? condition(job, 'Failed');
}

function newCondition(type: string, st: string, reason: string, message: string, now: Date): Obj {
  const t = rfc3339(now);
  return { type, status: st, lastProbeTime: t, lastTransitionTime: t, reason, message };
}

/** ensureJobConditionStatus: adds or updates; never adds a False condition. */
function ensureCondition(list: Obj[], type: string, st: string, reason: string, message: string, now: Date): boolean {
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i];
    if (c.status === st && c.reason === reason && c.message === message) return false;
    list[i] = newCondition(type, st, reason, message, now);
    return true;
  }
  if (st === 'False') return false;
  list.push(newCondition(type, st, reason, message, now));
  return true;
}

function isReady(p: KObject): boolean {
  return ((status(p).conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

const isActive = (p: KObject) => phase(p) !== 'Succeeded' && phase(p) !== 'Failed' && !p.metadata.deletionTimestamp;
const isTerminating = (p: KObject) => phase(p) !== 'Succeeded' && phase(p) !== 'Failed' && !!p.metadata.deletionTimestamp;

function onlyReplaceFailed(job: KObject): boolean {
  const s = spec(job);
  return s.podReplacementPolicy === 'Failed' || !!s.podFailurePolicy;
}

/** A pod that counts as failed: Failed, or (unless only failed pods are replaced) deleted unfinished. */
function isPodFailed(p: KObject, job: KObject): boolean {
  if (phase(p) === 'Failed') return true;
  if (onlyReplaceFailed(job)) return false;
  return !!p.metadata.deletionTimestamp && phase(p) !== 'Succeeded';
}

export function completionIndex(p: KObject): number | undefined {
  const v = p.metadata.annotations?.[COMPLETION_INDEX] ?? p.metadata.labels?.[COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** When a pod finished (getFinishedTime): containers, then Ready=False, then deletion, then creation. */
export function podFinishedAt(p: KObject): number {
  const cs = (status(p).containerStatuses ?? []) as Obj[];
  let latest = NaN;
  let all = cs.length > 0;
  for (const c of cs) {
    const t = ms(c.state?.terminated?.finishedAt);
    if (Number.isNaN(t)) { all = false; break; }
    if (Number.isNaN(latest) || t > latest) latest = t;
  }
  if (all && !Number.isNaN(latest)) return latest;
  const ready = ((status(p).conditions ?? []) as Obj[]).find((c) => c.type === 'Ready');
  if (ready?.status === 'False' && !Number.isNaN(ms(ready.lastTransitionTime))) return ms(ready.lastTransitionTime);
  if (p.metadata.deletionTimestamp) return ms(p.metadata.deletionTimestamp) - Number(p.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return ms(p.metadata.creationTimestamp);
}

/**
 * Time left before a replacement pod may be created: 10 s doubling per consecutive failure since
 * the last success, capped at 10 min, counted from the last failure (backoffRecord).
 */
export function backoffRemaining(job: KObject, pods: KObject[], marks: Map<string, Mark>, now: Date): number {
  const succeeded = pods.filter((p) => phase(p) === 'Succeeded').map(podFinishedAt);
  const lastSuccess = succeeded.length ? Math.max(...succeeded) : -Infinity;
  const failures = pods.filter((p) => isPodFailed(p, job) && marks.get(p.metadata.uid!) !== 'x').map(podFinishedAt).filter((t) => t > lastSuccess);
  if (!failures.length) return 0;
  let delay = POD_FAILURE_BACKOFF_MS;
  for (let i = 1; i < failures.length; i++) {
    delay *= 2;
    if (delay >= MAX_POD_FAILURE_BACKOFF_MS) { delay = MAX_POD_FAILURE_BACKOFF_MS; break; }
  }
  const elapsed = now.getTime() - Math.max(...failures);
  return Math.max(0, delay - elapsed);
}

/** A container status that matches an onExitCodes requirement (0 is never a failure). */
function exitCodeMatch(p: KObject, req: Obj): Obj | undefined {
  const st = status(p);
  for (const list of [st.initContainerStatuses ?? [], st.containerStatuses ?? []] as Obj[][]) {
    for (const c of list) {
      if (req.containerName != null && req.containerName !== c.name) continue;
      const code = c.state?.terminated?.exitCode;
      if (typeof code !== 'number' || code === 0) continue;
      const listed = (req.values ?? []).includes(code);
      if ((req.operator === 'In' && listed) || (req.operator === 'NotIn' && !listed)) return c;
    }
  }
  return undefined;
}

/**
 * matchPodFailurePolicy: the FailJob message (if a FailJob rule matched), whether the failure
 * counts toward backoffLimit, and the action of the matching rule.
 */
export function matchPodFailurePolicy(job: KObject, p: KObject): { failJob?: string; count: boolean; action?: string } {
  const rules = (spec(job).podFailurePolicy?.rules ?? []) as Obj[];
  for (const [i, rule] of rules.entries()) {
    let msg: string | undefined;
    if (rule.onExitCodes) {
      const c = exitCodeMatch(p, rule.onExitCodes);
      if (c) msg = `Container ${c.name} for pod ${p.metadata.namespace}/${p.metadata.name} failed with exit code ${c.state.terminated.exitCode} matching ${rule.action} rule at index ${i}`;
    } else {
      for (const pattern of (rule.onPodConditions ?? []) as Obj[]) {
        const c = ((status(p).conditions ?? []) as Obj[]).find((x) => x.type === pattern.type && x.status === (pattern.status ?? 'True'));
        if (c) { msg = `Pod ${p.metadata.namespace}/${p.metadata.name} has condition ${c.type} matching ${rule.action} rule at index ${i}`; break; }
      }
    }
    if (msg === undefined) continue;
    if (rule.action === 'FailJob') return { failJob: msg, count: true, action: rule.action };
    if (rule.action === 'Ignore') return { count: false, action: rule.action };
    return { count: true, action: rule.action };
  }
  return { count: true };
}

/** controller.ActivePods order: the pods to remove first come first. */
function removalOrder(a: KObject, b: KObject): number {
  const rank = (p: KObject) => ({ Pending: 0, Unknown: 1, Running: 2 } as Record<string, number>)[phase(p) ?? 'Pending'] ?? 0;
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (isReady(a) !== isReady(b)) return isReady(a) ? 1 : -1;
  const restarts = (p: KObject) => ((status(p).containerStatuses ?? []) as Obj[]).reduce((n, c) => n + Number(c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  return ms(b.metadata.creationTimestamp) - ms(a.metadata.creationTimestamp);
}

/** "0-2,4" for {0,1,2,4}. */
export function formatIndexes(ix: Iterable<number>): string {
  const sorted = [...new Set(ix)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return out.join(',');
}

export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]) && i < completions; i++) out.add(i);
  }
  return out;
}

/** What one sync of a Job does; undefined for a finished Job or one being deleted. */
export function planJob(job: KObject, pods: KObject[], now: Date, prior: Map<string, Mark> | undefined): JobPlan | undefined {
  if (finishedCondition(job) || job.metadata.deletionTimestamp) return undefined;
  const s = spec(job);
  const st: Obj = clone(status(job));
  const conditions: Obj[] = st.conditions ?? [];
  const events: JobEvent[] = [];
  const marks = new Map(prior ?? []);
  const indexed = s.completionMode === 'Indexed';
  const completions: number | undefined = typeof s.completions === 'number' ? s.completions : undefined;
  const parallelism = Number(s.parallelism ?? 1);
  const suspended = !!s.suspend;
  const validIndex = (p: KObject) => { const i = completionIndex(p); return i !== undefined && i < (completions ?? 0) ? i : undefined; };
  const countable = (p: KObject) => !indexed || validIndex(p) !== undefined;

  let activePods = pods.filter(isActive);
  let active = activePods.length;
  let ready = activePods.filter(isReady).length;
  let terminating = pods.filter(isTerminating).length;

  let succeeded = Number(st.succeeded ?? 0);
  let failed = Number(st.failed ?? 0);
  const failedCounts = (p: KObject) => (s.podFailurePolicy ? matchPodFailurePolicy(job, p).count : true);
  if (!prior) {
    // First sight since start: what is on record stays; pods still here fill any gap.
    const succ = pods.filter((p) => phase(p) === 'Succeeded' && countable(p));
    const fail = pods.filter((p) => phase(p) !== 'Succeeded' && isPodFailed(p, job) && countable(p));
    succeeded = Math.max(succeeded, succ.length);
    failed = Math.max(failed, fail.filter(failedCounts).length);
    for (const p of succ) marks.set(p.metadata.uid!, 's');
    for (const p of fail) marks.set(p.metadata.uid!, 'f');
  } else {
    for (const p of pods) {
      const uid = p.metadata.uid!;
      if (marks.has(uid) || !countable(p)) continue;
      if (phase(p) === 'Succeeded') { marks.set(uid, 's'); succeeded++; }
      else if (isPodFailed(p, job)) { marks.set(uid, 'f'); if (failedCounts(p)) failed++; }
    }
  }
  // Marks of pods that are gone are no longer needed.
  const present = new Set(pods.map((p) => p.metadata.uid!));
  for (const uid of [...marks.keys()]) if (!present.has(uid)) marks.delete(uid);

  let succeededIndexes = new Set<number>();
  if (indexed) {
    succeededIndexes = parseIndexes(st.completedIndexes, completions ?? 0);
    for (const p of pods) if (phase(p) === 'Succeeded') { const i = validIndex(p); if (i !== undefined) succeededIndexes.add(i); }
    succeeded = succeededIndexes.size;
  }

  if (!st.startTime && !suspended) st.startTime = rfc3339(now);
  const recheck: number[] = [];
  const backoffLimit = Number(s.backoffLimit ?? 6);

  // The finishing condition: a success or failure already decided, or one decided now.
  let finishing: Obj | undefined = condition(job, 'SuccessCriteriaMet');
  if (!finishing) {
    const target = condition(job, 'FailureTarget');
    if (target) finishing = target;
    else if (s.podFailurePolicy) {
      for (const p of pods) {
        if (phase(p) !== 'Failed') continue;
        const m = matchPodFailurePolicy(job, p);
        if (m.failJob) { finishing = newCondition('FailureTarget', 'True', 'PodFailurePolicy', m.failJob, now); break; }
      }
    }
  }
  if (!finishing) {
    const startedAt = ms(st.startTime);
    const deadline = typeof s.activeDeadlineSeconds === 'number' && !suspended && !Number.isNaN(startedAt) ? startedAt + s.activeDeadlineSeconds * 1000 : undefined;
    if (failed > backoffLimit || pastBackoffLimitOnFailure(job, pods, backoffLimit)) {
      finishing = newCondition('FailureTarget', 'True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', now);
    } else if (deadline !== undefined && now.getTime() >= deadline) {
      finishing = newCondition('FailureTarget', 'True', 'DeadlineExceeded', 'Job was active longer than specified deadline', now);
    } else if (deadline !== undefined) {
      recheck.push(deadline);
    }
  }

  const create: Array<number | undefined> = [];
  const remove: KObject[] = [];
  const removeUncounted = (list: KObject[]) => {
    for (const p of list) {
      remove.push(p);
      marks.set(p.metadata.uid!, 'x');
      if (isReady(p)) ready--;
    }
    active -= list.length;
    terminating += list.length;
  };

  if (finishing) {
    // Every pod still running fails with the Job (it counts as failed unless the Job succeeded).
    const failing = finishing.type !== 'SuccessCriteriaMet';
    for (const p of activePods) {
      remove.push(p);
      if (failing) { marks.set(p.metadata.uid!, 'f'); failed++; } else marks.set(p.metadata.uid!, 'x');
    }
    terminating += activePods.length;
    active = 0;
    ready = 0;
  } else {
    if (suspended) {
      removeUncounted(activePods);
      activePods = [];
    } else {
      let want: number;
      if (completions === undefined) want = succeeded > 0 ? active : parallelism;
      else want = Math.max(0, Math.min(completions - succeeded, parallelism));
      let excess: KObject[] = [];
      if (indexed) {
        // Pods of an index that already succeeded, out of range, or repeated go first.
        const seen = new Set<number>();
        for (const p of activePods) {
          const i = validIndex(p);
          if (i === undefined || succeededIndexes.has(i) || seen.has(i)) excess.push(p);
          else seen.add(i);
        }
      }
      const more = active - excess.length - want;
      if (more > 0) excess.push(...activePods.filter((p) => !excess.includes(p)).sort(removalOrder).slice(0, more));
      if (excess.length) {
        removeUncounted(excess);
        activePods = activePods.filter((p) => !excess.includes(p));
      } else {
        const diff = want - (onlyReplaceFailed(job) ? terminating : 0) - active;
        if (diff > 0) {
          const wait = backoffRemaining(job, pods, marks, now);
          if (wait > 0) recheck.push(now.getTime() + wait);
          else if (indexed) {
            const busy = new Set(activePods.map(validIndex).filter((i): i is number => i !== undefined));
            for (let i = 0; i < (completions ?? 0) && create.length < diff; i++) if (!succeededIndexes.has(i) && !busy.has(i)) create.push(i);
          } else {
            for (let i = 0; i < diff; i++) create.push(undefined);
          }
          active += create.length;
        }
      }
    }
    const complete = completions === undefined ? succeeded > 0 && active === 0 : succeeded >= completions && active === 0;
    if (complete) {
      finishing = newCondition('SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
    } else if (suspended) {
      if (ensureCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
    } else if (ensureCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
      events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
      // activeDeadlineSeconds counts the time the Job is continuously active.
      st.startTime = rfc3339(now);
    }
  }

  if (finishing) {
    const success = finishing.type === 'SuccessCriteriaMet';
    const interim = success ? 'SuccessCriteriaMet' : 'FailureTarget';
    if (!conditions.some((c) => c.type === interim && c.status === 'True')) conditions.push(finishing);
    // The terminal condition waits until no pod of the Job is still terminating.
    if (terminating === 0) {
      const final = success ? 'Complete' : 'Failed';
      ensureCondition(conditions, final, 'True', finishing.reason, finishing.message, now);
      if (success) {
        st.completionTime = rfc3339(now);
        if (completions !== undefined && succeeded > completions) events.push({ type: 'Warning', reason: 'TooManySucceededPods', message: 'Too many succeeded pods running after completion count reached' });
        events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
      } else {
        events.push({ type: 'Warning', reason: finishing.reason, message: finishing.message });
      }
    }
  }

  const next: Obj = {};
  for (const k of ['startTime', 'completionTime']) if (st[k]) next[k] = st[k];
  if (active > 0) next.active = active;
  if (succeeded > 0) next.succeeded = succeeded;
  if (failed > 0) next.failed = failed;
  if (indexed) { const ci = formatIndexes(succeededIndexes); if (ci) next.completedIndexes = ci; }
  if (st.failedIndexes !== undefined) next.failedIndexes = st.failedIndexes;
  next.terminating = terminating;
  next.ready = Math.max(0, ready);
  next.uncountedTerminatedPods = {};
  if (conditions.length) next.conditions = conditions;
  return {
    create, delete: remove, marks, status: next, events,
    recheckAt: recheck.length ? new Date(Math.min(...recheck)) : undefined,
  };
}

/** restartPolicy OnFailure: container restarts of running pods count toward backoffLimit. */
function pastBackoffLimitOnFailure(job: KObject, pods: KObject[], limit: number): boolean {
  if (spec(job).template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (phase(p) !== 'Running' && phase(p) !== 'Pending') continue;
    const st = status(p);
    for (const c of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])] as Obj[]) restarts += Number(c.restartCount ?? 0);
  }
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** The pod a Job creates (of a completion index, for Indexed Jobs). */
export function podForJob(job: KObject, index?: number): KObject {
  const name = job.metadata.name!;
  const t = clone((spec(job).template ?? {}) as Obj);
  const meta = t.metadata ?? {};
  const podSpec = (t.spec ?? {}) as Obj;
  let generateName = `${name}-`;
  const labels = { ...(meta.labels ?? {}) };
  const annotations = { ...(meta.annotations ?? {}) };
  if (index !== undefined) {
    annotations[COMPLETION_INDEX] = String(index);
    labels[COMPLETION_INDEX] = String(index);
    podSpec.hostname = `${name}-${index}`;
    const suffix = `-${index}-`;
    generateName = `${name}${suffix}`;
    if (generateName.length > MAX_GENERATED_NAME) generateName = generateName.slice(0, MAX_GENERATED_NAME - suffix.length) + suffix;
    for (const c of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])] as Obj[]) {
      if ((c.env ?? []).some((e: Obj) => e.name === 'JOB_COMPLETION_INDEX')) continue;
      (c.env ??= []).push({ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX}']` } } });
    }
  }
  const out: Obj = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: generateName.slice(0, MAX_GENERATED_NAME), namespace: job.metadata.namespace,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: podSpec,
  };
  if (Object.keys(labels).length) out.metadata.labels = labels;
  if (Object.keys(annotations).length) out.metadata.annotations = annotations;
  if (meta.finalizers?.length) out.metadata.finalizers = meta.finalizers;
  return out as KObject;
}

/** When a finished Job with ttlSecondsAfterFinished is due for deletion. */
export function ttlDueAt(job: KObject): Date | undefined {
  const ttl = spec(job).ttlSecondsAfterFinished;
  const c = finishedCondition(job);
  if (typeof ttl !== 'number' || !c || job.metadata.deletionTimestamp) return undefined;
  const t = ms(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : new Date(t + ttl * 1000);
}

export class JobController {
  private job: KindInfo;
  private pod: KindInfo;
  private marks = new Map<string, Map<string, Mark>>();
  private unsubscribe: Array<() => void> = [];
  private loop: KeyedLoop;

  constructor(private registry: Registry, private now: () => Date = () => new Date()) {
    this.job = registry.kind('jobs.batch');
    this.pod = registry.kind('pods');
    this.loop = new KeyedLoop('job', (key) => this.sync(...splitKey(key)), { now: () => this.now().getTime() });
  }

  start(): void {
    const hub = this.registry.hub;
    this.unsubscribe.push(
      hub.add({
        resource: 'jobs.batch',
        onChange: (c) => {
          if (c.type === 'DELETED') this.marks.delete(c.object.metadata.uid!);
          this.add(`${c.object.metadata.namespace}/${c.object.metadata.name}`);
        },
      }),
      hub.add({
        resource: 'pods',
        onChange: (c) => {
          const ref = controllerOf(c.object);
          if (ref?.kind === 'Job') this.add(`${c.object.metadata.namespace}/${ref.name}`);
        },
      }),
    );
    for (const j of this.registry.all(this.job)) this.add(`${j.metadata.namespace}/${j.metadata.name}`);
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

  private podsOf(job: KObject): KObject[] {
    const uid = job.metadata.uid;
    return this.registry.all(this.pod, job.metadata.namespace).filter((p) => controllerOf(p)?.uid === uid);
  }

  private event(job: KObject, e: JobEvent): void {
    recordEvent(this.registry, job, e.type, e.reason, e.message, SOURCE, { apiVersion: 'batch/v1', kind: 'Job' });
  }

  private async sync(ns: string, name: string): Promise<void> {
    const key = `${ns}/${name}`;
    const job = this.registry.peek(this.job, ns, name);
    if (!job) return;
    const managedBy = spec(job).managedBy;
    if (managedBy && managedBy !== JOB_CONTROLLER) return;
    const uid = job.metadata.uid!;
    if (finishedCondition(job)) {
      this.marks.delete(uid);
      await this.expire(job, key);
      return;
    }
    const now = this.now();
    const plan = planJob(job, this.podsOf(job), now, this.marks.get(uid));
    if (!plan) return;
    for (const p of plan.delete) {
      try {
        await this.registry.delete(this.pod, ns, p.metadata.name!, {});
        this.event(job, { type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted pod: ${p.metadata.name}` });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    let failedCreates = 0;
    for (const index of plan.create) {
      try {
        const pod = await this.registry.create(this.pod, ns, podForJob(job, index));
        this.event(job, { type: 'Normal', reason: 'SuccessfulCreate', message: `Created pod: ${pod.metadata.name}` });
      } catch (err) {
        failedCreates++;
        this.event(job, { type: 'Warning', reason: 'FailedCreate', message: `Error creating: ${(err as Error).message}` });
      }
    }
    if (failedCreates) {
      plan.status.active = Math.max(0, Number(plan.status.active ?? 0) - failedCreates);
      if (!plan.status.active) delete plan.status.active;
      // A refused create is retried after the pod failure back-off, not in a tight loop.
      this.loop.at(key, new Date(now.getTime() + POD_FAILURE_BACKOFF_MS));
    }
    this.marks.set(uid, plan.marks);
    const fresh = this.registry.peek(this.job, ns, name);
    if (!fresh || fresh.metadata.uid !== uid) return;
    if (!deepEqual(fresh.status ?? {}, plan.status)) {
      await this.registry.update(this.job, ns, name, { ...clone(fresh), status: plan.status } as KObject, { subresource: 'status', skipRvCheck: true });
    }
    for (const e of plan.events) this.event(fresh, e);
    if (plan.recheckAt) this.loop.at(key, plan.recheckAt);
  }

  /** ttlSecondsAfterFinished: the finished Job goes, its pods with it (as the TTL controller does). */
  private async expire(job: KObject, key: string): Promise<void> {
    const due = ttlDueAt(job);
    if (!due) return;
    if (due.getTime() > this.now().getTime()) { this.loop.at(key, due); return; }
    try {
      await this.registry.delete(this.job, job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }
}

/** Starts the Job controller (and TTL-after-finished) when the selection serves Jobs and pods. */
export function startJobs(registry: Registry, now?: () => Date): JobController {
  const c = new JobController(registry, now);
  c.start();
  return c;
}
