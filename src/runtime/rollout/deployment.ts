// The Deployment controller's decisions (pkg/controller/deployment: sync.go, rolling.go,
// recreate.go, progress.go, util/deployment_util.go) as pure functions. The caller lists the
// Deployment's ReplicaSets and their pods, carries out the actions in order, then writes the
// status deploymentStatus() computes from the ReplicaSets as they are afterwards (plan.replicaSets).
import type { KObject, OwnerReference } from '../../machinery/types.ts';
import { podTemplateHash, replicaSetName, selectorWithHash, templatesEqualIgnoringHash, withHashLabel } from './hash.ts';
import type { LabelSelectorLike } from './hash.ts';
import type { RsPods } from './replicaset.ts';

type Obj = Record<string, any>;

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);
const MAX_INT32 = 2147483647;

export interface DeploymentCondition {
  type: string; status: 'True' | 'False' | 'Unknown'; lastUpdateTime?: string; lastTransitionTime?: string;
  reason?: string; message?: string;
}
export interface DeploymentStatus {
  observedGeneration?: number; replicas: number; updatedReplicas: number; readyReplicas: number;
  availableReplicas: number; unavailableReplicas: number; terminatingReplicas?: number;
  collisionCount?: number; conditions?: DeploymentCondition[];
}

export type DeploymentAction =
  /** POST this ReplicaSet (owner reference included). */
  | { type: 'createReplicaSet'; replicaSet: KObject }
  /** Merge these annotations into the ReplicaSet and set its minReadySeconds (revision sync). */
  | { type: 'updateReplicaSet'; name: string; annotations: Record<string, string>; minReadySeconds: number }
  /** Set spec.replicas and merge the desired/max-replicas annotations. */
  | { type: 'scaleReplicaSet'; name: string; from: number; replicas: number; annotations: Record<string, string> }
  /** revisionHistoryLimit cleanup of a scaled-down old ReplicaSet. */
  | { type: 'deleteReplicaSet'; name: string };

export interface DeploymentPlan {
  /** 'rollout': strategy at work; 'sync': paused or a scaling event (scale only); 'status': being deleted */
  mode: 'rollout' | 'sync' | 'status';
  actions: DeploymentAction[];
  /** the ReplicaSets as they are once the actions are done (deleted ones left out) */
  replicaSets: KObject[];
  /** name of the ReplicaSet running the current template, if it exists (after the actions) */
  newReplicaSet?: string;
  /** whether a new ReplicaSet is created by this plan (NewReplicaSetCreated) */
  created: boolean;
  /** the value the Deployment's deployment.kubernetes.io/revision annotation must hold */
  revision?: string;
}

export type PodsByRs = Record<string, RsPods>;

// ---- spec helpers (defaults as apps/v1 applies them, for objects stored without them) ----

interface Spec {
  replicas: number; minReadySeconds: number; paused: boolean; revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number; strategy: 'RollingUpdate' | 'Recreate'; maxSurge: number | string;
  maxUnavailable: number | string; template: Obj; selector?: LabelSelectorLike;
}
function spec(d: KObject): Spec {
  const s = (d.spec as Obj | undefined) ?? {};
  const st = s.strategy?.type === 'Recreate' ? 'Recreate' : 'RollingUpdate';
  return {
    replicas: s.replicas ?? 1, minReadySeconds: s.minReadySeconds ?? 0, paused: !!s.paused,
    revisionHistoryLimit: s.revisionHistoryLimit === undefined ? 10 : (s.revisionHistoryLimit ?? undefined),
    progressDeadlineSeconds: s.progressDeadlineSeconds === undefined ? 600 : (s.progressDeadlineSeconds ?? undefined),
    strategy: st, maxSurge: s.strategy?.rollingUpdate?.maxSurge ?? '25%',
    maxUnavailable: s.strategy?.rollingUpdate?.maxUnavailable ?? '25%',
    template: s.template ?? {}, selector: s.selector,
  };
}

/** GetScaledValueFromIntOrPercent. */
export function scaledValue(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(-?\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid value "${v}": must be an integer or a percentage`);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** ResolveFenceposts: surge rounds up, unavailability down, and both 0 would deadlock, so 1. */
export function resolveFenceposts(maxSurge: number | string, maxUnavailable: number | string, desired: number): [number, number] {
  const surge = scaledValue(maxSurge, desired, true);
  let unavailable = scaledValue(maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}
export function maxSurge(d: KObject): number {
  const s = spec(d);
  return s.strategy === 'RollingUpdate' ? resolveFenceposts(s.maxSurge, s.maxUnavailable, s.replicas)[0] : 0;
}
export function maxUnavailable(d: KObject): number {
  const s = spec(d);
  if (s.strategy !== 'RollingUpdate' || s.replicas === 0) return 0;
  return Math.min(resolveFenceposts(s.maxSurge, s.maxUnavailable, s.replicas)[1], s.replicas);
}
function hasProgressDeadline(s: Spec): boolean {
  return s.progressDeadlineSeconds != null && s.progressDeadlineSeconds !== MAX_INT32;
}

// ---- ReplicaSet working copies ----

interface RS {
  obj: KObject; name: string; replicas: number; created: number; deleting: boolean;
  status: { replicas: number; ready: number; available: number; terminating: number };
}
function toRS(obj: KObject, pods: PodsByRs): RS {
  const name = obj.metadata.name ?? '';
  const st = (obj.status as Obj | undefined) ?? {};
  const p = pods[name];
  return {
    obj: structuredClone(obj), name, replicas: (obj.spec as Obj | undefined)?.replicas ?? 1,
    created: Date.parse(obj.metadata.creationTimestamp ?? '') || Number.MAX_SAFE_INTEGER,
    deleting: !!obj.metadata.deletionTimestamp,
    status: p
      ? { replicas: p.total, ready: p.ready, available: p.available, terminating: p.terminating }
      : { replicas: st.replicas ?? 0, ready: st.readyReplicas ?? 0, available: st.availableReplicas ?? 0, terminating: st.terminatingReplicas ?? 0 },
  };
}
function revisionOf(rs: RS): number {
  const n = Number(rs.obj.metadata.annotations?.[REVISION] ?? 0);
  return Number.isFinite(n) ? n : 0;
}
/** ReplicaSetsByCreationTimestamp: older first, then by name. */
function byCreation(a: RS, b: RS): number {
  return a.created !== b.created ? a.created - b.created : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
const sum = (rss: RS[], f: (r: RS) => number) => rss.reduce((n, r) => n + f(r), 0);
const active = (rss: RS[]) => rss.filter((r) => r.replicas > 0);

function findNew(s: Spec, rss: RS[]): RS | undefined {
  return [...rss].sort(byCreation).find((r) => templatesEqualIgnoringHash((r.obj.spec as Obj | undefined)?.template, s.template));
}

/** NewRSNewReplicas. */
function newRSNewReplicas(d: KObject, s: Spec, all: RS[], newRS: RS): number {
  if (s.strategy === 'Recreate') return s.replicas;
  const current = sum(all, (r) => r.replicas);
  const maxTotal = s.replicas + maxSurge(d);
  if (current >= maxTotal) return newRS.replicas;
  return newRS.replicas + Math.min(maxTotal - current, Math.max(0, s.replicas - newRS.replicas));
}

function replicasAnnotations(d: KObject, s: Spec): Record<string, string> {
  return { [DESIRED_REPLICAS]: String(s.replicas), [MAX_REPLICAS]: String(s.replicas + maxSurge(d)) };
}

// ---- the plan ----

class Planner {
  actions: DeploymentAction[] = [];
  created = false;
  revision?: string;
  constructor(readonly d: KObject, readonly s: Spec, public rss: RS[]) {}

  scale(rs: RS, to: number): boolean {
    const ann = replicasAnnotations(this.d, this.s);
    const a = rs.obj.metadata.annotations ?? {};
    const annChanged = a[DESIRED_REPLICAS] !== ann[DESIRED_REPLICAS] || a[MAX_REPLICAS] !== ann[MAX_REPLICAS];
    if (rs.replicas === to && !annChanged) return false;
    this.actions.push({ type: 'scaleReplicaSet', name: rs.name, from: rs.replicas, replicas: to, annotations: ann });
    const scaled = rs.replicas !== to;
    rs.replicas = to;
    (rs.obj.spec as Obj).replicas = to;
    rs.obj.metadata.annotations = { ...a, ...ann };
    return scaled;
  }
  /** scaleReplicaSetAndRecordEvent: a no-op when the size is already right. */
  scaleIfNeeded(rs: RS, to: number): boolean {
    return rs.replicas === to ? false : this.scale(rs, to);
  }

  /** getAllReplicaSetsAndSyncRevision. */
  newAndOld(create: boolean): [RS | undefined, RS[]] {
    const { d, s } = this;
    const existing = findNew(s, this.rss.filter((r) => !r.deleting));
    const old = this.rss.filter((r) => r !== existing);
    const newRevision = String(Math.max(0, ...old.map(revisionOf)) + 1);
    if (existing) {
      const ann = this.newRSAnnotations(existing.obj.metadata.annotations ?? {}, newRevision, true);
      const minReadyChanged = ((existing.obj.spec as Obj).minReadySeconds ?? 0) !== s.minReadySeconds;
      if (ann || minReadyChanged) {
        this.actions.push({ type: 'updateReplicaSet', name: existing.name, annotations: ann ?? {}, minReadySeconds: s.minReadySeconds });
        existing.obj.metadata.annotations = { ...existing.obj.metadata.annotations, ...ann };
        (existing.obj.spec as Obj).minReadySeconds = s.minReadySeconds;
      }
      this.revision = existing.obj.metadata.annotations?.[REVISION];
      return [existing, old];
    }
    if (!create) return [undefined, old];
    const hash = podTemplateHash(s.template, ((d.status as Obj | undefined)?.collisionCount));
    const template = structuredClone(s.template);
    template.metadata = { ...(template.metadata ?? {}), labels: withHashLabel(template.metadata?.labels, hash) };
    const owner: OwnerReference = {
      apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name ?? '', uid: d.metadata.uid ?? '',
      controller: true, blockOwnerDeletion: true,
    };
    const obj: KObject = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name: replicaSetName(d, hash), namespace: d.metadata.namespace, labels: template.metadata.labels,
        ownerReferences: [owner],
      },
      spec: { replicas: 0, minReadySeconds: s.minReadySeconds, selector: selectorWithHash(s.selector, hash), template },
    };
    const rs = toRS(obj, {});
    rs.obj = obj;
    rs.replicas = newRSNewReplicas(d, s, [...old, rs], rs);
    (obj.spec as Obj).replicas = rs.replicas;
    obj.metadata.annotations = { ...this.newRSAnnotations({}, newRevision, false) };
    this.actions.push({ type: 'createReplicaSet', replicaSet: structuredClone(obj) });
    this.rss.push(rs);
    this.created = true;
    this.revision = newRevision;
    return [rs, old];
  }

  /** SetNewReplicaSetAnnotations: the changed annotations, or undefined when none change. */
  newRSAnnotations(current: Record<string, string>, newRevision: string, exists: boolean): Record<string, string> | undefined {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.d.metadata.annotations ?? {})) {
      if (!NOT_COPIED.has(k) && current[k] !== v) out[k] = v;
    }
    const old = current[REVISION];
    const oldN = old ? Number(old) : 0;
    if (Number.isFinite(oldN) && oldN < Number(newRevision)) {
      out[REVISION] = newRevision;
      if (old) out[REVISION_HISTORY] = current[REVISION_HISTORY] ? `${current[REVISION_HISTORY]},${old}` : old;
    }
    if (!exists) Object.assign(out, replicasAnnotations(this.d, this.s));
    return Object.keys(out).length ? out : undefined;
  }

  /** sync.go scale(): paused Deployments and scaling events, proportional while rolling. */
  proportionalScale(newRS: RS | undefined, old: RS[]): void {
    const { d, s } = this;
    const newestFirst = [...old].sort(byCreation).reverse();
    const all = active([...newestFirst, ...(newRS ? [newRS] : [])]);
    let target: RS | undefined;
    if (all.length === 0 && (newRS || old.length)) target = newRS ?? newestFirst[0];
    else if (all.length === 1) target = all[0];
    if (target) { this.scaleIfNeeded(target, s.replicas); return; }
    if (newRS && isSaturated(s, newRS)) {
      for (const o of active(old)) this.scaleIfNeeded(o, 0);
      return;
    }
    if (s.strategy !== 'RollingUpdate') return;
    const allowed = s.replicas > 0 ? s.replicas + maxSurge(d) : 0;
    const toAdd = allowed - sum(all, (r) => r.replicas);
    // Larger first; equal sizes: newer first when growing, older first when shrinking.
    if (toAdd !== 0) {
      all.sort((a, b) => b.replicas - a.replicas || (toAdd > 0 ? -byCreation(a, b) : byCreation(a, b)));
    }
    let added = 0;
    const sizes = new Map<RS, number>();
    for (const rs of all) {
      if (toAdd === 0) { sizes.set(rs, rs.replicas); continue; }
      const p = this.proportion(rs, toAdd, added);
      sizes.set(rs, rs.replicas + p);
      added += p;
    }
    all.forEach((rs, i) => {
      let size = sizes.get(rs)!;
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
      this.scale(rs, size);
    });
  }

  /** GetProportion / getReplicaSetFraction. */
  proportion(rs: RS, toAdd: number, added: number): number {
    if (rs.replicas === 0 || toAdd === 0 || toAdd === added) return 0;
    const { d, s } = this;
    let fraction: number;
    if (s.replicas === 0) fraction = -rs.replicas;
    else {
      const maxNow = s.replicas + maxSurge(d);
      let before = Number(rs.obj.metadata.annotations?.[MAX_REPLICAS]);
      if (!Number.isFinite(before) || before <= 0) before = (d.status as Obj | undefined)?.replicas ?? 0;
      if (before <= 0) return 0;
      fraction = roundHalfAway((rs.replicas * maxNow) / before) - rs.replicas;
    }
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  /** rolling.go reconcileNewReplicaSet. */
  reconcileNew(all: RS[], newRS: RS): boolean {
    const { d, s } = this;
    if (newRS.replicas === s.replicas) return false;
    if (newRS.replicas > s.replicas) return this.scaleIfNeeded(newRS, s.replicas);
    return this.scaleIfNeeded(newRS, newRSNewReplicas(d, s, all, newRS));
  }

  /** rolling.go reconcileOldReplicaSets: unhealthy old pods first, then down to minAvailable. */
  reconcileOld(all: RS[], old: RS[], newRS: RS): boolean {
    const { d, s } = this;
    if (sum(old, (r) => r.replicas) === 0) return false;
    const minAvailable = s.replicas - maxUnavailable(d);
    const newUnavailable = newRS.replicas - newRS.status.available;
    const maxScaledDown = sum(all, (r) => r.replicas) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    let cleaned = 0;
    for (const rs of [...old].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      if (rs.replicas === 0 || rs.replicas === rs.status.available) continue;
      const n = Math.min(maxScaledDown - cleaned, rs.replicas - rs.status.available);
      this.scale(rs, rs.replicas - n);
      cleaned += n;
    }
    let scaledDown = 0;
    const availableNow = sum(all, (r) => r.status.available);
    if (availableNow > minAvailable) {
      const total = availableNow - minAvailable;
      for (const rs of [...old].sort(byCreation)) {
        if (scaledDown >= total) break;
        if (rs.replicas === 0) continue;
        const n = Math.min(rs.replicas, total - scaledDown);
        this.scale(rs, rs.replicas - n);
        scaledDown += n;
      }
    }
    return cleaned + scaledDown > 0;
  }

  /** cleanupDeployment: delete the oldest scaled-down ReplicaSets beyond revisionHistoryLimit. */
  cleanup(old: RS[]): void {
    const limit = this.s.revisionHistoryLimit;
    if (limit == null || limit === MAX_INT32) return;
    const alive = old.filter((r) => !r.deleting);
    const diff = alive.length - limit;
    if (diff <= 0) return;
    alive.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of alive.slice(0, diff)) {
      const gen = rs.obj.metadata.generation ?? 0;
      const observed = (rs.obj.status as Obj | undefined)?.observedGeneration ?? gen;
      if (rs.status.replicas !== 0 || rs.replicas !== 0 || gen > observed) continue;
      this.actions.push({ type: 'deleteReplicaSet', name: rs.name });
      this.rss = this.rss.filter((r) => r !== rs);
    }
  }
}

function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

function isSaturated(s: Spec, rs: RS): boolean {
  return rs.obj.metadata.annotations?.[DESIRED_REPLICAS] === String(s.replicas) &&
    rs.replicas === s.replicas && rs.status.available === s.replicas;
}

/** isScalingEvent: an active ReplicaSet was sized for another spec.replicas. */
function isScalingEvent(s: Spec, rss: RS[]): boolean {
  return active(rss).some((r) => {
    const v = r.obj.metadata.annotations?.[DESIRED_REPLICAS];
    return v !== undefined && Number(v) !== s.replicas;
  });
}

/** DeploymentComplete over a status. */
function complete(d: KObject, s: Spec, st: Partial<DeploymentStatus>): boolean {
  return st.updatedReplicas === s.replicas && st.replicas === s.replicas && st.availableReplicas === s.replicas &&
    (st.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/**
 * One reconciliation of a Deployment. `replicaSets` are those it controls (deleted or not),
 * `podsByRs` the pod counts per ReplicaSet name (a ReplicaSet missing there is taken at its
 * status). Never more than one step of a rollout: call again when pods or ReplicaSets change.
 */
export function planDeployment(d: KObject, replicaSets: KObject[], podsByRs: PodsByRs, _now?: Date): DeploymentPlan {
  const s = spec(d);
  const p = new Planner(d, s, replicaSets.map((r) => toRS(r, podsByRs)));
  const finish = (mode: DeploymentPlan['mode']): DeploymentPlan => {
    const newRS = findNew(s, p.rss.filter((r) => !r.deleting));
    return {
      mode, actions: p.actions, replicaSets: p.rss.map((r) => r.obj), newReplicaSet: newRS?.name,
      created: p.created, revision: p.revision,
    };
  };
  if (d.metadata.deletionTimestamp) { p.newAndOld(false); return finish('status'); }
  if (s.paused || isScalingEvent(s, p.rss)) {
    const [newRS, old] = p.newAndOld(false);
    p.proportionalScale(newRS, old);
    if (s.paused) p.cleanup(old);
    return finish('sync');
  }
  const prevStatus = (d.status as Partial<DeploymentStatus> | undefined) ?? {};
  if (s.strategy === 'Recreate') {
    let [newRS, old] = p.newAndOld(false);
    let scaledDown = false;
    for (const rs of active(old)) scaledDown = p.scaleIfNeeded(rs, 0) || scaledDown;
    if (scaledDown) return finish('rollout');
    // Old pods (terminating ones too) must be gone before a new one starts.
    if (old.some((r) => r.status.replicas > 0 || r.status.terminating > 0)) return finish('rollout');
    if (!newRS) [newRS, old] = p.newAndOld(true);
    p.scaleIfNeeded(newRS!, s.replicas);
    if (complete(d, s, prevStatus)) p.cleanup(old);
    return finish('rollout');
  }
  const [newRS, old] = p.newAndOld(true) as [RS, RS[]];
  const all = [...old, newRS];
  if (p.reconcileNew(all, newRS)) return finish('rollout');
  if (p.reconcileOld(all, active(old), newRS)) return finish('rollout');
  if (complete(d, s, prevStatus)) p.cleanup(old);
  return finish('rollout');
}

// ---- status ----

export function timestamp(now: Date): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
function condition(type: string, status: DeploymentCondition['status'], reason: string, message: string, now: Date): DeploymentCondition {
  const t = timestamp(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}
export function getCondition(st: { conditions?: DeploymentCondition[] } | undefined, type: string): DeploymentCondition | undefined {
  return st?.conditions?.find((c) => c.type === type);
}
/** SetDeploymentCondition: same status and reason is no change; same status keeps the transition time. */
function setCondition(conds: DeploymentCondition[], c: DeploymentCondition): DeploymentCondition[] {
  const cur = conds.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return conds;
  if (cur && cur.status === c.status) c = { ...c, lastTransitionTime: cur.lastTransitionTime };
  return [...conds.filter((x) => x.type !== c.type), c];
}
const removeCondition = (conds: DeploymentCondition[], type: string) => conds.filter((c) => c.type !== type);

export const Reasons = {
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  NewReplicaSetCreated: 'NewReplicaSetCreated',
  FoundNewReplicaSet: 'FoundNewReplicaSet',
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  NewReplicaSetAvailable: 'NewReplicaSetAvailable',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  DeploymentPaused: 'DeploymentPaused',
  DeploymentResumed: 'DeploymentResumed',
} as const;

/**
 * The status to write after a reconciliation. `replicaSets` are the ReplicaSets after the plan's
 * actions (plan.replicaSets); `previousStatus` is the stored status (defaults to d.status);
 * `plan` tells which upstream path ran (without it: paused -> sync, else rollout, and no
 * ReplicaSet counts as just created).
 */
export function deploymentStatus(
  d: KObject, replicaSets: KObject[], podsByRs: PodsByRs, now: Date,
  previousStatus?: Partial<DeploymentStatus>, plan?: Pick<DeploymentPlan, 'mode' | 'created'>,
): DeploymentStatus {
  const s = spec(d);
  const prev: Partial<DeploymentStatus> = previousStatus ?? (d.status as Partial<DeploymentStatus> | undefined) ?? {};
  const rss = replicaSets.map((r) => toRS(r, podsByRs));
  const live = rss.filter((r) => !r.deleting);
  const newRS = findNew(s, live);
  const mode = plan?.mode ?? (d.metadata.deletionTimestamp ? 'status' : s.paused ? 'sync' : 'rollout');
  let conds = structuredClone(prev.conditions ?? []);

  // checkPausedConditions and getNewReplicaSet record these before anything is counted.
  if (mode !== 'status' && hasProgressDeadline(s)) {
    const cur = getCondition({ conditions: conds }, 'Progressing');
    if (cur?.reason !== Reasons.ProgressDeadlineExceeded) {
      const pausedNow = cur?.reason === Reasons.DeploymentPaused;
      if (s.paused && !pausedNow) conds = setCondition(conds, condition('Progressing', 'Unknown', Reasons.DeploymentPaused, 'Deployment is paused', now));
      else if (!s.paused && pausedNow) conds = setCondition(conds, condition('Progressing', 'Unknown', Reasons.DeploymentResumed, 'Deployment is resumed', now));
    }
  }
  if (newRS && hasProgressDeadline(s)) {
    if (plan?.created) {
      conds = setCondition(conds, condition('Progressing', 'True', Reasons.NewReplicaSetCreated, `Created new replica set "${newRS.name}"`, now));
    } else if (!getCondition({ conditions: conds }, 'Progressing')) {
      conds = setCondition(conds, condition('Progressing', 'True', Reasons.FoundNewReplicaSet, `Found new replica set "${newRS.name}"`, now));
    }
  }
  const before = { ...prev, conditions: conds };

  // calculateStatus
  const available = sum(rss, (r) => r.status.available);
  const total = sum(rss, (r) => r.replicas);
  const st: DeploymentStatus = {
    observedGeneration: d.metadata.generation,
    replicas: sum(rss, (r) => r.status.replicas),
    updatedReplicas: newRS ? newRS.status.replicas : 0,
    readyReplicas: sum(rss, (r) => r.status.ready),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    terminatingReplicas: sum(rss, (r) => r.status.terminating),
  };
  if (prev.collisionCount != null) st.collisionCount = prev.collisionCount;
  conds = available >= s.replicas - maxUnavailable(d)
    ? setCondition(conds, condition('Available', 'True', Reasons.MinimumReplicasAvailable, 'Deployment has minimum availability.', now))
    : setCondition(conds, condition('Available', 'False', Reasons.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', now));

  if (mode === 'rollout') {
    conds = rolloutConditions(d, s, before, st, conds, newRS?.name, now);
    // getReplicaFailures: the new ReplicaSet's pod-creation failure wins over old ones'.
    const failures = (r: RS | undefined) => (((r?.obj.status as Obj | undefined)?.conditions ?? []) as DeploymentCondition[])
      .filter((c) => c.type === 'ReplicaFailure');
    const f = [...failures(newRS), ...rss.flatMap(failures)][0];
    conds = f
      ? setCondition(conds, { type: 'ReplicaFailure', status: f.status, reason: f.reason, message: f.message, lastUpdateTime: f.lastTransitionTime, lastTransitionTime: f.lastTransitionTime })
      : removeCondition(conds, 'ReplicaFailure');
  }
  if (conds.length) st.conditions = conds;
  return st;
}

/** syncRolloutStatus: progress estimation against the status before this sync. */
function rolloutConditions(
  d: KObject, s: Spec, before: Partial<DeploymentStatus>, st: DeploymentStatus,
  conds: DeploymentCondition[], newRSName: string | undefined, now: Date,
): DeploymentCondition[] {
  if (!hasProgressDeadline(s)) conds = removeCondition(conds, 'Progressing');
  const cur = getCondition(before, 'Progressing');
  const isComplete = st.replicas === st.updatedReplicas && cur?.reason === Reasons.NewReplicaSetAvailable;
  if (hasProgressDeadline(s) && !isComplete) {
    const subject = newRSName ? `ReplicaSet "${newRSName}"` : `Deployment "${d.metadata.name}"`;
    if (complete(d, s, st)) {
      conds = setCondition(conds, condition('Progressing', 'True', Reasons.NewReplicaSetAvailable, `${subject} has successfully progressed.`, now));
    } else if (progressing(before, st)) {
      const c = condition('Progressing', 'True', Reasons.ReplicaSetUpdated, `${subject} is progressing.`, now);
      // Progress refreshes lastUpdateTime even when the reason stays ReplicaSetUpdated.
      if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
      conds = [...removeCondition(conds, 'Progressing'), c];
    } else if (timedOut(s, { conditions: conds }, now)) {
      conds = setCondition(conds, condition('Progressing', 'False', Reasons.ProgressDeadlineExceeded, `${subject} has timed out progressing.`, now));
    }
  }
  return conds;
}

/** DeploymentProgressing: any count moved the right way since the stored status. */
function progressing(old: Partial<DeploymentStatus>, st: DeploymentStatus): boolean {
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = st.replicas - st.updatedReplicas;
  return st.updatedReplicas > (old.updatedReplicas ?? 0) || newOld < oldOld ||
    st.readyReplicas > (old.readyReplicas ?? 0) || st.availableReplicas > (old.availableReplicas ?? 0);
}

function timedOut(s: Spec, st: { conditions?: DeploymentCondition[] }, now: Date): boolean {
  if (!hasProgressDeadline(s)) return false;
  const c = getCondition(st, 'Progressing');
  if (!c) return false;
  if (c.reason === Reasons.NewReplicaSetAvailable) return false;
  if (c.reason === Reasons.ProgressDeadlineExceeded) return true;
  const from = Date.parse(c.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + s.progressDeadlineSeconds! * 1000 < now.getTime();
}

/**
 * requeueStuckDeployment: when to look again for a ProgressDeadlineExceeded (the one timer a
 * Deployment needs), or undefined when no deadline is pending.
 */
export function progressCheckAt(d: KObject, status: DeploymentStatus): Date | undefined {
  const s = spec(d);
  const c = getCondition(status, 'Progressing');
  if (!hasProgressDeadline(s) || !c) return undefined;
  if (complete(d, s, status) || c.reason === Reasons.ProgressDeadlineExceeded) return undefined;
  const from = Date.parse(c.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return undefined;
  return new Date(from + s.progressDeadlineSeconds! * 1000 + 1000);
}
