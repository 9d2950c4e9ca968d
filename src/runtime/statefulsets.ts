// The StatefulSet controller (pkg/controller/statefulset): pods `<set>-<ordinal>` with stable
// identity and one PVC per volumeClaimTemplate and ordinal, created in order (OrderedReady) or at
// once (Parallel), scaled down from the top, rolled by ordinal from the top down to the
// partition. The decisions are pure functions (planStatefulSet, statefulSetStatus); the
// controller carries them out, woken by changes of StatefulSets, their pods and claims.
import { ApiError } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject, OwnerReference } from '../machinery/types.ts';
import { clone, controllerOf, deepEqual } from '../machinery/util.ts';
import { logError } from '../log.ts';
import { isPodAvailable, isPodReady, podAvailableAt, scaledValue } from './rollout/index.ts';
import {
  controllerRef, hashRevision, HASH_LABEL, REVISION_LABEL, RevisionHistory, revisionTemplate,
  type RevisionStyle,
} from './revisions.ts';
import { recordEvent } from './events.ts';
import { KeyedLoop, splitKey } from './queue.ts';

type Obj = Record<string, any>;

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export const STATEFULSET_STYLE: RevisionStyle = {
  kind: 'StatefulSet', hashLabel: HASH_LABEL,
  hash: (_set, data, collisionCount) => hashRevision(data, collisionCount),
};

interface StsSpec {
  replicas: number; start: number; parallel: boolean; minReady: number; onDelete: boolean;
  partition?: number; maxUnavailable: number | string; serviceName?: string; claimTemplates: Obj[];
  whenDeleted: string; whenScaled: string;
}

function stsSpec(set: KObject): StsSpec {
  const s = (set.spec as Obj | undefined) ?? {};
  const ru = s.updateStrategy?.rollingUpdate;
  return {
    replicas: Number(s.replicas ?? 1), start: Number(s.ordinals?.start ?? 0), parallel: s.podManagementPolicy === 'Parallel',
    minReady: Number(s.minReadySeconds ?? 0), onDelete: s.updateStrategy?.type === 'OnDelete',
    partition: ru ? Number(ru.partition ?? 0) : undefined, maxUnavailable: ru?.maxUnavailable ?? 1,
    serviceName: s.serviceName || undefined, claimTemplates: s.volumeClaimTemplates ?? [],
    whenDeleted: s.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain',
    whenScaled: s.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain',
  };
}

// ---- pod helpers -------------------------------------------------------------------------

/** getParentNameAndOrdinal: the ordinal when the pod is named `<set>-<n>`. */
export function ordinalOf(set: KObject, pod: KObject): number | undefined {
  const name = pod.metadata.name ?? '';
  const prefix = `${set.metadata.name}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

export const podRevision = (pod: KObject): string | undefined => pod.metadata.labels?.[REVISION_LABEL];
const terminating = (pod: KObject) => !!pod.metadata.deletionTimestamp;
const phase = (pod: KObject) => (pod.status as Obj | undefined)?.phase as string | undefined;
const finished = (pod: KObject) => phase(pod) === 'Failed' || phase(pod) === 'Succeeded';
export const isRunningAndReady = (pod: KObject) => phase(pod) === 'Running' && isPodReady(pod);
export const isRunningAndAvailable = (pod: KObject, minReady: number, now: Date) => phase(pod) === 'Running' && isPodAvailable(pod, minReady, now);
const isHealthy = (pod: KObject | undefined) => !!pod && isRunningAndReady(pod) && !terminating(pod);

/** The pod's claim names, one per volumeClaimTemplate: `<template>-<set>-<ordinal>`. */
export function claimName(set: KObject, template: Obj, ordinal: number): string {
  return `${template.metadata?.name}-${set.metadata.name}-${ordinal}`;
}

/** getPersistentVolumeClaims: the claim of one template for one ordinal (owner refs apart). */
export function newClaim(set: KObject, template: Obj, ordinal: number): KObject {
  const sel = ((set.spec as Obj | undefined)?.selector?.matchLabels ?? {}) as Record<string, string>;
  const tm = (template.metadata ?? {}) as Obj;
  const meta: KObject['metadata'] = {
    name: claimName(set, template, ordinal), namespace: set.metadata.namespace,
    labels: { ...(tm.labels ?? {}), ...sel },
  };
  if (tm.annotations) meta.annotations = clone(tm.annotations);
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta, spec: clone(template.spec ?? {}) };
}

/**
 * updateClaimOwnerRefForSetAndPod: the claim's owner references under the set's
 * persistentVolumeClaimRetentionPolicy. WhenDeleted=Delete makes the set an owner; WhenScaled=
 * Delete makes a scaled-down pod the owner, so deleting it collects the claim.
 */
export function claimOwnerRefs(refs: OwnerReference[] | undefined, set: KObject, pod: KObject | undefined, inRange: boolean): OwnerReference[] {
  const s = stsSpec(set);
  let out = [...(refs ?? [])];
  const setRef: OwnerReference = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name!, uid: set.metadata.uid! };
  const podRef: OwnerReference | undefined = pod && { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name!, uid: pod.metadata.uid! };
  const put = (r: OwnerReference | undefined, want: boolean) => {
    if (!r) return;
    const has = out.some((x) => x.uid === r.uid);
    if (want && !has) out = [...out, r];
    if (!want && has) out = out.filter((x) => x.uid !== r.uid);
  };
  const delDeleted = s.whenDeleted === 'Delete';
  const delScaled = s.whenScaled === 'Delete';
  put(setRef, delDeleted && (inRange || !delScaled));
  put(podRef, delScaled && !inRange);
  return out;
}

/** newStatefulSetPod: the set's template (of one revision) with the ordinal's identity and claims. */
export function newStatefulSetPod(set: KObject, template: Obj, ordinal: number, revision: string): KObject {
  const s = stsSpec(set);
  const t = clone(template);
  const meta = (t.metadata ?? {}) as Obj;
  const name = `${set.metadata.name}-${ordinal}`;
  const spec = (t.spec ?? {}) as Obj;
  spec.hostname = name;
  if (s.serviceName) spec.subdomain = s.serviceName;
  const claimNames = new Set(s.claimTemplates.map((c) => c.metadata?.name));
  const volumes = s.claimTemplates.map((c) => ({ name: c.metadata?.name, persistentVolumeClaim: { claimName: claimName(set, c, ordinal) } }));
  for (const v of (spec.volumes ?? []) as Obj[]) if (!claimNames.has(v.name)) volumes.push(v as (typeof volumes)[number]);
  if (volumes.length) spec.volumes = volumes;
  const pod: KObject = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: set.metadata.namespace,
      labels: { ...(meta.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision },
      ownerReferences: [controllerRef(set, 'StatefulSet')],
    },
    spec,
  };
  if (meta.annotations) pod.metadata.annotations = meta.annotations;
  if (meta.finalizers) pod.metadata.finalizers = meta.finalizers;
  return pod;
}

// ---- planning ----------------------------------------------------------------------------

export interface StsPlan {
  /** pods to create now, each after its claims; 'current' uses the current revision's template */
  create: Array<{ ordinal: number; revision: 'current' | 'update' }>;
  /** pods to delete (scale down, failed pods, rolling update) */
  delete: KObject[];
}

/** newVersionedStatefulSetPod: which revision a new pod at this index gets. */
function revisionFor(set: KObject, index: number): 'current' | 'update' {
  const s = stsSpec(set);
  if (s.onDelete) return 'update';
  if (s.partition !== undefined) return index < s.partition ? 'current' : 'update';
  return index < Number((set.status as Obj | undefined)?.currentReplicas ?? 0) ? 'current' : 'update';
}

/**
 * One sync of updateStatefulSet: create missing replicas (in order and one at a time under
 * OrderedReady), replace failed pods, delete condemned ordinals from the highest, then roll
 * pods not at the update revision from the highest ordinal down to the partition.
 */
export function planStatefulSet(set: KObject, pods: KObject[], update: string, now: Date): StsPlan {
  const plan: StsPlan = { create: [], delete: [] };
  if (set.metadata.deletionTimestamp) return plan;
  const s = stsSpec(set);
  const monotonic = !s.parallel;
  const replicas: Array<KObject | undefined> = new Array(s.replicas).fill(undefined);
  const condemned: Array<{ ord: number; pod: KObject }> = [];
  for (const p of pods) {
    const ord = ordinalOf(set, p);
    if (ord === undefined) continue;
    if (ord >= s.start && ord < s.start + s.replicas) replicas[ord - s.start] = p;
    else condemned.push({ ord, pod: p });
  }
  condemned.sort((a, b) => a.ord - b.ord);
  const available = (p: KObject) => isRunningAndAvailable(p, s.minReady, now);

  for (let i = 0; i < s.replicas; i++) {
    const pod = replicas[i];
    if (!pod) {
      plan.create.push({ ordinal: s.start + i, revision: revisionFor(set, i) });
      if (monotonic) return plan;
      continue;
    }
    if (finished(pod) && !terminating(pod)) {
      plan.delete.push(pod);
      if (monotonic) return plan;
      continue;
    }
    if (terminating(pod)) {
      if (monotonic) return plan;
      continue;
    }
    if (monotonic && !available(pod)) return plan;
  }

  const firstUnhealthy = condemned.find((c) => !available(c.pod))?.pod;
  for (let t = condemned.length - 1; t >= 0; t--) {
    const pod = condemned[t].pod;
    if (terminating(pod)) {
      if (monotonic) return plan;
      continue;
    }
    if (monotonic && !available(pod) && pod !== firstUnhealthy) return plan;
    plan.delete.push(pod);
    if (monotonic) return plan;
  }

  if (s.onDelete) return plan;
  // maxUnavailable (beta, on by default): unhealthy replicas use up the budget.
  const maxUnavailable = Math.max(1, scaledValue(s.maxUnavailable, s.replicas, true));
  const unavailable = replicas.filter((p) => !isHealthy(p) || plan.delete.includes(p!)).length;
  let budget = maxUnavailable - unavailable;
  for (let i = s.replicas - 1; i >= (s.partition ?? 0) && budget > 0; i--) {
    const pod = replicas[i];
    if (!pod || terminating(pod) || plan.delete.includes(pod)) continue;
    if (podRevision(pod) !== update) {
      plan.delete.push(pod);
      budget--;
    }
  }
  return plan;
}

export interface StatefulSetStatus {
  observedGeneration?: number; replicas: number; readyReplicas?: number; currentReplicas?: number;
  updatedReplicas?: number; availableReplicas: number; currentRevision?: string; updateRevision?: string;
  collisionCount?: number; conditions?: Obj[];
}

/** computeReplicaStatus + completeRollingUpdate. */
export function statefulSetStatus(set: KObject, pods: KObject[], current: string, update: string, collisionCount: number, now: Date): StatefulSetStatus {
  const s = stsSpec(set);
  let replicas = 0, ready = 0, available = 0, currentReplicas = 0, updated = 0;
  for (const p of pods) {
    if (phase(p)) replicas++;
    if (isRunningAndReady(p)) {
      ready++;
      if (isRunningAndAvailable(p, s.minReady, now)) available++;
    }
    if (phase(p) && !terminating(p)) {
      if (podRevision(p) === current) currentReplicas++;
      if (podRevision(p) === update) updated++;
    }
  }
  let currentRevision = current;
  if (!s.onDelete && updated === s.replicas && ready === s.replicas && replicas === s.replicas) {
    currentReplicas = updated;
    currentRevision = update;
  }
  const st: StatefulSetStatus = {
    observedGeneration: set.metadata.generation, replicas, availableReplicas: available,
    currentRevision, updateRevision: update, collisionCount,
  };
  // omitempty, as the apiserver writes them
  if (ready) st.readyReplicas = ready;
  if (currentReplicas) st.currentReplicas = currentReplicas;
  if (updated) st.updatedReplicas = updated;
  const conds = (set.status as Obj | undefined)?.conditions;
  if (conds?.length) st.conditions = conds;
  return st;
}

/** The template a set has at one of its revisions. */
export function atRevision(set: KObject, rev: KObject | undefined): KObject {
  if (!rev) return set;
  return { ...set, spec: { ...(set.spec as Obj), template: revisionTemplate(rev) } };
}

// ---- controller --------------------------------------------------------------------------

export class StatefulSetController {
  private sts: KindInfo;
  private pod: KindInfo;
  private pvc?: KindInfo;
  private history: RevisionHistory;
  private loop: KeyedLoop;
  private unsubscribe: Array<() => void> = [];

  constructor(private registry: Registry) {
    this.sts = registry.kind('statefulsets.apps');
    this.pod = registry.kind('pods');
    this.pvc = registry.kinds.get('persistentvolumeclaims');
    this.history = new RevisionHistory(registry);
    this.loop = new KeyedLoop('statefulset', (key) => this.sync(...splitKey(key)));
  }

  start(): void {
    const hub = this.registry.hub;
    const enqueueOwner = (o: KObject) => {
      const ref = controllerOf(o);
      if (ref?.kind === 'StatefulSet') this.loop.add(`${o.metadata.namespace}/${ref.name}`);
    };
    this.unsubscribe.push(
      hub.add({ resource: 'statefulsets.apps', onChange: (c) => this.loop.add(`${c.object.metadata.namespace}/${c.object.metadata.name}`) }),
      hub.add({ resource: 'pods', onChange: (c) => enqueueOwner(c.object) }),
      hub.add({ resource: 'controllerrevisions.apps', onChange: (c) => { if (c.type === 'DELETED') enqueueOwner(c.object); } }),
    );
    if (this.pvc) {
      // A claim of a set's pod changed (deleted by hand, bound): its set looks again.
      this.unsubscribe.push(hub.add({
        resource: 'persistentvolumeclaims',
        onChange: (c) => {
          const ns = c.object.metadata.namespace;
          for (const set of this.registry.all(this.sts, ns)) {
            const sel = ((set.spec as Obj | undefined)?.selector?.matchLabels ?? {}) as Record<string, string>;
            if (Object.entries(sel).every(([k, v]) => c.object.metadata.labels?.[k] === v)) this.loop.add(`${ns}/${set.metadata.name}`);
          }
        },
      }));
    }
    for (const set of this.registry.all(this.sts)) this.loop.add(`${set.metadata.namespace}/${set.metadata.name}`);
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.loop.stop();
  }

  idle(): Promise<void> { return this.loop.idle(); }

  private podsOf(set: KObject): KObject[] {
    const uid = set.metadata.uid;
    return this.registry.all(this.pod, set.metadata.namespace).filter((p) => controllerOf(p)?.uid === uid);
  }

  private async sync(ns: string, name: string): Promise<void> {
    const set = this.registry.peek(this.sts, ns, name);
    if (!set || set.metadata.deletionTimestamp) return;
    const now = new Date();
    const { revisions, update, collisionCount } = await this.history.sync(set, STATEFULSET_STYLE);
    const curName = (set.status as Obj | undefined)?.currentRevision as string | undefined;
    const current = revisions.find((r) => r.metadata.name === curName) ?? update;
    const pods = this.podsOf(set);
    const plan = planStatefulSet(set, pods, update.metadata.name!, now);

    await this.reconcileClaims(set, pods);
    const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
      recordEvent(this.registry, set, type, reason, message, { component: 'statefulset-controller' }, { apiVersion: 'apps/v1', kind: 'StatefulSet' });
    for (const c of plan.create) {
      const rev = c.revision === 'current' ? current : update;
      const template = atRevision(set, rev).spec as Obj;
      await this.ensureClaims(set, c.ordinal, undefined);
      try {
        const pod = await this.registry.create(this.pod, ns, newStatefulSetPod(set, template.template ?? {}, c.ordinal, rev.metadata.name!));
        event('Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${name} successful`);
      } catch (err) {
        // The previous pod of this name is still being removed: its DELETED event brings us back.
        if (err instanceof ApiError && err.code === 409) continue;
        logError('statefulset pod create failed', err, { namespace: ns, name, ordinal: c.ordinal });
        event('Warning', 'FailedCreate', `create Pod ${name}-${c.ordinal} in StatefulSet ${name} failed error: ${(err as Error).message}`);
        break;
      }
    }
    for (const p of plan.delete) {
      const gone = await this.registry.delete(this.pod, ns, p.metadata.name!, {}).then(() => true, (err) => {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
        return false;
      });
      if (gone) event('Normal', 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${name} successful`);
    }

    const fresh = this.registry.peek(this.sts, ns, name);
    if (!fresh || fresh.metadata.uid !== set.metadata.uid) return;
    const after = this.podsOf(fresh);
    const status = statefulSetStatus(fresh, after, current.metadata.name!, update.metadata.name!, collisionCount, now);
    if (!deepEqual(fresh.status ?? {}, status)) {
      await this.registry.update(this.sts, ns, name, { ...clone(fresh), status } as KObject, { subresource: 'status', skipRvCheck: true });
    }
    const live = new Set<string>([current.metadata.name!, update.metadata.name!, status.currentRevision!]);
    for (const p of after) { const r = podRevision(p); if (r) live.add(r); }
    await this.history.truncate(fresh, revisions, live);
    const minReady = stsSpec(fresh).minReady;
    const due = after.map((p) => podAvailableAt(p, minReady)).filter((t): t is Date => !!t && t.getTime() > now.getTime());
    if (due.length) this.loop.at(`${ns}/${name}`, new Date(Math.min(...due.map((d) => d.getTime()))));
  }

  /** Creates the ordinal's missing claims (createPersistentVolumeClaims). */
  private async ensureClaims(set: KObject, ordinal: number, pod: KObject | undefined): Promise<void> {
    if (!this.pvc) return;
    const s = stsSpec(set);
    const inRange = ordinal >= s.start && ordinal < s.start + s.replicas;
    for (const t of s.claimTemplates) {
      const name = claimName(set, t, ordinal);
      const existing = this.registry.peek(this.pvc, set.metadata.namespace, name);
      if (existing) {
        if (existing.metadata.deletionTimestamp) continue;
        const refs = claimOwnerRefs(existing.metadata.ownerReferences, set, pod, inRange);
        if (!deepEqual(refs, existing.metadata.ownerReferences ?? [])) {
          const next = clone(existing);
          next.metadata.ownerReferences = refs;
          if (!refs.length) delete next.metadata.ownerReferences;
          await this.registry.update(this.pvc, set.metadata.namespace, name, next, { skipRvCheck: true });
        }
        continue;
      }
      if (pod && !inRange) continue;
      const claim = newClaim(set, t, ordinal);
      const refs = claimOwnerRefs(undefined, set, pod, inRange);
      if (refs.length) claim.metadata.ownerReferences = refs;
      try {
        await this.registry.create(this.pvc, set.metadata.namespace, claim);
        recordEvent(this.registry, set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${set.metadata.name}-${ordinal} in StatefulSet ${set.metadata.name} success`,
          { component: 'statefulset-controller' }, { apiVersion: 'apps/v1', kind: 'StatefulSet' });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) throw err;
      }
    }
  }

  /** Every existing pod keeps its claims (recreated if deleted) and their retention owner refs. */
  private async reconcileClaims(set: KObject, pods: KObject[]): Promise<void> {
    if (!stsSpec(set).claimTemplates.length) return;
    for (const p of pods) {
      const ord = ordinalOf(set, p);
      if (ord === undefined || terminating(p)) continue;
      await this.ensureClaims(set, ord, p);
    }
  }
}

export function startStatefulSets(registry: Registry): StatefulSetController | undefined {
  if (!registry.kinds.has('statefulsets.apps') || !registry.kinds.has('pods') || !registry.kinds.has('controllerrevisions.apps')) return undefined;
  const c = new StatefulSetController(registry);
  c.start();
  return c;
}
