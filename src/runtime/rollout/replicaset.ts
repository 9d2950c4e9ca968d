// The ReplicaSet controller's decisions (pkg/controller/replicaset), with no I/O: how many pods
// to create, which to delete, and the status those pods add up to.
import type { KObject } from '../../machinery/types.ts';

type Obj = Record<string, any>;

/** Upstream caps one sync at this many creates/deletes (burstReplicas). */
export const BURST_REPLICAS = 500;
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

/** What a Deployment needs to know about one ReplicaSet's pods. */
export interface RsPods {
  /** pods counted in status.replicas: not terminating, not Succeeded/Failed */
  total: number;
  ready: number;
  available: number;
  /** pods being deleted that still run (Recreate waits for them) */
  terminating: number;
}

export interface ReplicaSetStatus {
  replicas: number; fullyLabeledReplicas: number; readyReplicas: number; availableReplicas: number;
  terminatingReplicas: number; observedGeneration?: number; conditions?: Obj[];
}

const ms = (t: unknown): number => (typeof t === 'string' && t ? Date.parse(t) : NaN);

function isFinished(pod: KObject): boolean {
  const phase = (pod.status as Obj | undefined)?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}
export function isPodActive(pod: KObject): boolean {
  return !isFinished(pod) && !pod.metadata.deletionTimestamp;
}
export function isPodTerminating(pod: KObject): boolean {
  return !isFinished(pod) && !!pod.metadata.deletionTimestamp;
}
function readyCondition(pod: KObject): Obj | undefined {
  return ((pod.status as Obj | undefined)?.conditions as Obj[] | undefined)?.find((c) => c.type === 'Ready');
}
export function isPodReady(pod: KObject): boolean {
  return readyCondition(pod)?.status === 'True';
}
/** Ready for longer than minReadySeconds (strictly, as podutil.IsPodAvailable). */
export function isPodAvailable(pod: KObject, minReadySeconds: number, now: Date): boolean {
  const c = readyCondition(pod);
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const t = ms(c.lastTransitionTime);
  return !Number.isNaN(t) && t + minReadySeconds * 1000 < now.getTime();
}

/**
 * When a pod turns available: the moment to re-check a ReplicaSet or Deployment whose
 * availability waits only on minReadySeconds (undefined when nothing is due).
 */
export function podAvailableAt(pod: KObject, minReadySeconds: number): Date | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True' || !minReadySeconds) return undefined;
  const t = ms(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : new Date(t + minReadySeconds * 1000 + 1);
}

function rsSpec(rs: KObject): Obj { return (rs.spec as Obj | undefined) ?? {}; }

export function replicaSetStatus(rs: KObject, pods: KObject[], now: Date): ReplicaSetStatus {
  const spec = rsSpec(rs);
  const minReady = Number(spec.minReadySeconds ?? 0);
  const templateLabels: Record<string, string> = spec.template?.metadata?.labels ?? {};
  const active = pods.filter(isPodActive);
  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) =>
      Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
    terminatingReplicas: pods.filter(isPodTerminating).length,
    observedGeneration: rs.metadata.generation,
  };
  const failure = ((rs.status as Obj | undefined)?.conditions as Obj[] | undefined)?.filter((c) => c.type === 'ReplicaFailure');
  if (failure?.length) status.conditions = failure;
  return status;
}

/** The counts planDeployment/deploymentStatus take for one ReplicaSet. */
export function replicaSetPods(rs: KObject, pods: KObject[], now: Date): RsPods {
  const s = replicaSetStatus(rs, pods, now);
  return { total: s.replicas, ready: s.readyReplicas, available: s.availableReplicas, terminating: s.terminatingReplicas };
}

export interface ReplicaSetPlan {
  /** pods to create now (each named `<rs>-<5 chars>` by the caller) */
  create: number;
  /** pods to delete, in upstream's deletion order */
  delete: KObject[];
}

export function planReplicaSet(rs: KObject, pods: KObject[], now: Date): ReplicaSetPlan {
  if (rs.metadata.deletionTimestamp) return { create: 0, delete: [] };
  const want = Number(rsSpec(rs).replicas ?? 1);
  const active = pods.filter(isPodActive);
  const diff = active.length - want;
  if (diff < 0) return { create: Math.min(-diff, BURST_REPLICAS), delete: [] };
  if (diff > 0) return { create: 0, delete: rankPodsForDeletion(active, now).slice(0, Math.min(diff, BURST_REPLICAS)) };
  return { create: 0, delete: [] };
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function restarts(pod: KObject): number {
  const st = (pod.status as Obj | undefined) ?? {};
  let max = 0;
  for (const c of [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? [])] as Obj[]) {
    max = Math.max(max, Number(c.restartCount ?? 0));
  }
  return max;
}
function deletionCost(pod: KObject): number {
  const v = Number(pod.metadata.annotations?.[POD_DELETION_COST]);
  return Number.isFinite(v) ? v : 0;
}

// LogarithmicScaleDown: ages in the same power-of-two bucket count as equal, so scale-down
// does not always pick the very newest pod (upstream then falls back to the uid).
function logRank(t: number, now: number): number {
  const d = (now - t) * 1e6;
  return d > 0 ? Math.floor(Math.log2(d)) : -1;
}
/** negative: a goes first. Missing times sort first ("empty < newer < older"). */
function compareAge(a: number, b: number, now: number, ua: string, ub: string): number {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (Number.isNaN(a)) return -1;
  if (Number.isNaN(b)) return 1;
  if (Number.isNaN(now)) return b - a;
  const r = logRank(a, now) - logRank(b, now);
  if (r !== 0) return r;
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * Upstream's ActivePodsWithRanks order, first to delete first: unscheduled before scheduled;
 * Pending < Unknown < Running; not ready before ready; lower pod-deletion-cost first; ready for
 * less time first; more restarts first; newer first. (Every pod shares the one node, so the
 * "doubled up on a node" rank is equal for all and left out.)
 */
export function rankPodsForDeletion(pods: KObject[], now: Date): KObject[] {
  const n = now.getTime();
  const key = (p: KObject) => ({
    p,
    assigned: !!(p.spec as Obj | undefined)?.nodeName,
    phase: PHASE_RANK[(p.status as Obj | undefined)?.phase as string] ?? 0,
    ready: isPodReady(p),
    cost: deletionCost(p),
    readyAt: ms(readyCondition(p)?.lastTransitionTime),
    restarts: restarts(p),
    created: ms(p.metadata.creationTimestamp),
    uid: p.metadata.uid ?? '',
  });
  return pods.map(key).sort((a, b) => {
    if (a.assigned !== b.assigned) return a.assigned ? 1 : -1;
    if (a.phase !== b.phase) return a.phase - b.phase;
    if (a.ready !== b.ready) return a.ready ? 1 : -1;
    if (a.cost !== b.cost) return a.cost - b.cost;
    if (a.ready && b.ready) {
      const c = compareAge(a.readyAt, b.readyAt, n, a.uid, b.uid);
      if (c !== 0) return c;
    }
    if (a.restarts !== b.restarts) return b.restarts - a.restarts;
    return compareAge(a.created, b.created, n, a.uid, b.uid);
  }).map((k) => k.p);
}
