// The DaemonSet controller (pkg/controller/daemon) for a cluster of one node: one pod
// `<ds>-<5 chars>` when the node fits the template's nodeSelector/affinity/tolerations, none
// otherwise; RollingUpdate (delete then create, or with maxSurge create then delete) and OnDelete.
// Decisions are pure functions (planDaemonSet, daemonSetStatus); the controller carries them out.
import { ApiError } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject } from '../machinery/types.ts';
import { clone, controllerOf, deepEqual } from '../machinery/util.ts';
import { logError } from '../log.ts';
import { isPodAvailable, isPodReady, podAvailableAt, podTemplateHash, scaledValue } from './rollout/index.ts';
import { controllerRef, REVISION_LABEL, RevisionHistory, type RevisionStyle } from './revisions.ts';
import { recordEvent } from './events.ts';
import { KeyedLoop, splitKey } from './queue.ts';

type Obj = Record<string, any>;

export const TEMPLATE_GENERATION = 'deprecated.daemonset.template.generation';
export const POD_TEMPLATE_GENERATION = 'pod-template-generation';

export const DAEMONSET_STYLE: RevisionStyle = {
  kind: 'DaemonSet', hashLabel: REVISION_LABEL,
  hash: (set, _data, collisionCount) => podTemplateHash((set.spec as Obj | undefined)?.template ?? {}, collisionCount || undefined),
};

export interface NodeInfo { name: string; labels: Record<string, string>; taints: Obj[] }

// ---- node fit ----------------------------------------------------------------------------

function matchRequirement(r: Obj, value: string | undefined): boolean {
  const vals: string[] = r.values ?? [];
  switch (r.operator) {
    case 'In': return value !== undefined && vals.includes(value);
    case 'NotIn': return value === undefined || !vals.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) > Number(vals[0]);
    case 'Lt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) < Number(vals[0]);
    default: return false;
  }
}

function tolerates(tolerations: Obj[], taint: Obj): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** nodeShouldRunDaemonPod: nodeSelector, required node affinity, NoSchedule/NoExecute taints. */
export function nodeFits(podSpec: Obj, node: NodeInfo): boolean {
  for (const [k, v] of Object.entries((podSpec.nodeSelector ?? {}) as Record<string, string>)) if (node.labels[k] !== v) return false;
  const terms = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms as Obj[] | undefined;
  if (terms?.length) {
    const fits = terms.some((t) => {
      const exprs = (t.matchExpressions ?? []) as Obj[];
      const fields = (t.matchFields ?? []) as Obj[];
      if (!exprs.length && !fields.length) return false;
      return exprs.every((e) => matchRequirement(e, node.labels[e.key])) &&
        fields.every((f) => matchRequirement(f, f.key === 'metadata.name' ? node.name : undefined));
    });
    if (!fits) return false;
  }
  const tolerations = [...(podSpec.tolerations ?? []), ...DAEMON_TOLERATIONS];
  return node.taints.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute').every((t) => tolerates(tolerations, t));
}

/** AddOrUpdateDaemonPodTolerations: what every daemon pod tolerates. */
const DAEMON_TOLERATIONS: Obj[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

// ---- pods --------------------------------------------------------------------------------

const terminating = (p: KObject) => !!p.metadata.deletionTimestamp;
const phase = (p: KObject) => (p.status as Obj | undefined)?.phase as string | undefined;
const finished = (p: KObject) => phase(p) === 'Failed' || phase(p) === 'Succeeded';
const created = (p: KObject) => p.metadata.creationTimestamp ?? '';
const byAge = (a: KObject, b: KObject) => (created(a) < created(b) ? -1 : created(a) > created(b) ? 1 : (a.metadata.name! < b.metadata.name! ? -1 : 1));

export function templateGeneration(ds: KObject): string | undefined {
  return ds.metadata.annotations?.[TEMPLATE_GENERATION];
}

/** IsPodUpdated: the pod carries the current hash (or the current template generation). */
export function isPodUpdated(pod: KObject, hash: string, generation: string | undefined): boolean {
  const l = pod.metadata.labels ?? {};
  return l[REVISION_LABEL] === hash || (generation !== undefined && l[POD_TEMPLATE_GENERATION] === generation);
}

/** NewPod + the per-node affinity and tolerations the controller adds. */
export function newDaemonPod(ds: KObject, hash: string, nodeName: string | undefined): KObject {
  const t = clone(((ds.spec as Obj | undefined)?.template ?? {}) as Obj);
  const meta = (t.metadata ?? {}) as Obj;
  const spec = (t.spec ?? {}) as Obj;
  const labels: Record<string, string> = { ...(meta.labels ?? {}), [REVISION_LABEL]: hash };
  const gen = templateGeneration(ds);
  if (gen !== undefined) labels[POD_TEMPLATE_GENERATION] = gen;
  if (nodeName) {
    spec.affinity ??= {};
    spec.affinity.nodeAffinity ??= {};
    spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
    };
  }
  const tol = [...(spec.tolerations ?? [])] as Obj[];
  for (const d of DAEMON_TOLERATIONS) if (!tol.some((x) => x.key === d.key && x.effect === d.effect)) tol.push({ ...d });
  spec.tolerations = tol;
  const pod: KObject = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata.name}-`, namespace: ds.metadata.namespace, labels,
      ownerReferences: [controllerRef(ds, 'DaemonSet')],
    },
    spec,
  };
  if (meta.annotations) pod.metadata.annotations = meta.annotations;
  if (meta.finalizers) pod.metadata.finalizers = meta.finalizers;
  return pod;
}

// ---- planning ----------------------------------------------------------------------------

export interface DsPlan { create: boolean; delete: KObject[] }

/**
 * manage + rollingUpdate for the one node: failed pods go; a node that should run the daemon
 * gets exactly one pod (the oldest kept); RollingUpdate replaces an outdated pod, deleting it
 * first (maxSurge 0) or once its replacement is available (maxSurge > 0).
 */
export function planDaemonSet(ds: KObject, node: NodeInfo | undefined, pods: KObject[], hash: string, now: Date): DsPlan {
  const plan: DsPlan = { create: false, delete: [] };
  if (ds.metadata.deletionTimestamp) return plan;
  const spec = (ds.spec as Obj | undefined) ?? {};
  const shouldRun = !!node && nodeFits(spec.template?.spec ?? {}, node);
  const failed = pods.filter((p) => finished(p) && !terminating(p));
  plan.delete.push(...failed);
  const active = pods.filter((p) => !finished(p) && !terminating(p)).sort(byAge);
  if (!shouldRun) {
    plan.delete.push(...active);
    return plan;
  }
  const gen = templateGeneration(ds);
  const updated = active.filter((p) => isPodUpdated(p, hash, gen));
  const old = active.filter((p) => !isPodUpdated(p, hash, gen));
  const minReady = Number(spec.minReadySeconds ?? 0);
  const rolling = spec.updateStrategy?.type !== 'OnDelete';
  if (!active.length) {
    plan.create = true;
    return plan;
  }
  if (!rolling) {
    plan.delete.push(...active.slice(1));
    return plan;
  }
  const ru = spec.updateStrategy?.rollingUpdate ?? {};
  const surge = scaledValue(ru.maxSurge ?? 0, 1, true);
  // Extra pods beyond one old and one new go, the oldest of each kept.
  plan.delete.push(...updated.slice(1), ...old.slice(1));
  if (!old.length) return plan;
  if (surge === 0) {
    // maxUnavailable resolves to at least 1 on one node (both 0 is invalid), so the old pod may go.
    plan.delete.push(old[0]);
    return plan;
  }
  if (!updated.length) plan.create = true;
  else if (isPodAvailable(updated[0], minReady, now)) plan.delete.push(old[0]);
  return plan;
}

export interface DaemonSetStatus {
  currentNumberScheduled: number; numberMisscheduled: number; desiredNumberScheduled: number; numberReady: number;
  observedGeneration?: number; updatedNumberScheduled?: number; numberAvailable?: number; numberUnavailable?: number;
  collisionCount?: number; conditions?: Obj[];
}

/** updateDaemonSetStatus for one node: the oldest active pod speaks for the node. */
export function daemonSetStatus(ds: KObject, node: NodeInfo | undefined, pods: KObject[], hash: string, collisionCount: number, now: Date): DaemonSetStatus {
  const spec = (ds.spec as Obj | undefined) ?? {};
  const shouldRun = !!node && nodeFits(spec.template?.spec ?? {}, node);
  const active = pods.filter((p) => !finished(p) && !terminating(p)).sort(byAge);
  const st: DaemonSetStatus = {
    currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: shouldRun ? 1 : 0, numberReady: 0,
    observedGeneration: ds.metadata.generation,
  };
  let available = 0, updated = 0;
  if (active.length) {
    if (shouldRun) {
      st.currentNumberScheduled = 1;
      const pod = active[0];
      if (isPodReady(pod)) {
        st.numberReady = 1;
        if (isPodAvailable(pod, Number(spec.minReadySeconds ?? 0), now)) available = 1;
      }
      if (isPodUpdated(pod, hash, templateGeneration(ds))) updated = 1;
    } else st.numberMisscheduled = 1;
  }
  if (updated) st.updatedNumberScheduled = updated;
  if (available) st.numberAvailable = available;
  if (st.desiredNumberScheduled - available > 0) st.numberUnavailable = st.desiredNumberScheduled - available;
  if (collisionCount) st.collisionCount = collisionCount;
  const conds = (ds.status as Obj | undefined)?.conditions;
  if (conds?.length) st.conditions = conds;
  return st;
}

// ---- controller --------------------------------------------------------------------------

export class DaemonSetController {
  private ds: KindInfo;
  private pod: KindInfo;
  private node?: KindInfo;
  private history: RevisionHistory;
  private loop: KeyedLoop;
  private unsubscribe: Array<() => void> = [];

  constructor(private registry: Registry) {
    this.ds = registry.kind('daemonsets.apps');
    this.pod = registry.kind('pods');
    this.node = registry.kinds.get('nodes');
    this.history = new RevisionHistory(registry);
    this.loop = new KeyedLoop('daemonset', (key) => this.sync(...splitKey(key)));
  }

  start(): void {
    const hub = this.registry.hub;
    const all = () => { for (const d of this.registry.all(this.ds)) this.loop.add(`${d.metadata.namespace}/${d.metadata.name}`); };
    const enqueueOwner = (o: KObject) => {
      const ref = controllerOf(o);
      if (ref?.kind === 'DaemonSet') this.loop.add(`${o.metadata.namespace}/${ref.name}`);
    };
    this.unsubscribe.push(
      hub.add({ resource: 'daemonsets.apps', onChange: (c) => this.loop.add(`${c.object.metadata.namespace}/${c.object.metadata.name}`) }),
      hub.add({ resource: 'pods', onChange: (c) => enqueueOwner(c.object) }),
      hub.add({ resource: 'controllerrevisions.apps', onChange: (c) => { if (c.type === 'DELETED') enqueueOwner(c.object); } }),
    );
    // The node's labels decide which daemons it runs.
    if (this.node) {
      this.unsubscribe.push(hub.add({
        resource: 'nodes',
        onChange: (c) => { if (c.type !== 'MODIFIED' || !deepEqual(c.object.metadata.labels, c.old?.metadata.labels) || !deepEqual(c.object.spec, c.old?.spec)) all(); },
      }));
    }
    all();
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.loop.stop();
  }

  idle(): Promise<void> { return this.loop.idle(); }

  /** The single node, refreshed from the engine when it has not been read yet. */
  private async currentNode(): Promise<NodeInfo | undefined> {
    if (!this.node) return undefined;
    let nodes = this.registry.all(this.node);
    if (!nodes.length) {
      try { nodes = (await this.registry.list(this.node, undefined)).items; } catch { /* engine away: no node to run on */ }
    }
    const n = nodes[0];
    if (!n) return undefined;
    return { name: n.metadata.name!, labels: n.metadata.labels ?? {}, taints: ((n.spec as Obj | undefined)?.taints ?? []) as Obj[] };
  }

  private podsOf(ds: KObject): KObject[] {
    const uid = ds.metadata.uid;
    return this.registry.all(this.pod, ds.metadata.namespace).filter((p) => controllerOf(p)?.uid === uid);
  }

  private async sync(ns: string, name: string): Promise<void> {
    const ds = this.registry.peek(this.ds, ns, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const now = new Date();
    const { revisions, update, collisionCount } = await this.history.sync(ds, DAEMONSET_STYLE);
    const hash = update.metadata.labels?.[REVISION_LABEL] ?? '';
    const node = await this.currentNode();
    const pods = this.podsOf(ds);
    const plan = planDaemonSet(ds, node, pods, hash, now);
    const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
      recordEvent(this.registry, ds, type, reason, message, { component: 'daemonset-controller' }, { apiVersion: 'apps/v1', kind: 'DaemonSet' });
    for (const p of plan.delete) {
      const gone = await this.registry.delete(this.pod, ns, p.metadata.name!, {}).then(() => true, (err) => {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
        return false;
      });
      if (gone) event('Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
    }
    if (plan.create) {
      try {
        const pod = await this.registry.create(this.pod, ns, newDaemonPod(ds, hash, node?.name));
        event('Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      } catch (err) {
        logError('daemonset pod create failed', err, { namespace: ns, name });
        event('Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
      }
    }
    const fresh = this.registry.peek(this.ds, ns, name);
    if (!fresh || fresh.metadata.uid !== ds.metadata.uid) return;
    const after = this.podsOf(fresh);
    const status = daemonSetStatus(fresh, node, after, hash, collisionCount, now);
    if (!deepEqual(fresh.status ?? {}, status)) {
      await this.registry.update(this.ds, ns, name, { ...clone(fresh), status } as KObject, { subresource: 'status', skipRvCheck: true });
    }
    const live = new Set<string>([update.metadata.name!]);
    const hashes = new Set(after.map((p) => p.metadata.labels?.[REVISION_LABEL]));
    for (const r of revisions) if (hashes.has(r.metadata.labels?.[REVISION_LABEL])) live.add(r.metadata.name!);
    await this.history.truncate(fresh, revisions, live);
    const minReady = Number((fresh.spec as Obj | undefined)?.minReadySeconds ?? 0);
    const due = after.map((p) => podAvailableAt(p, minReady)).filter((t): t is Date => !!t && t.getTime() > now.getTime());
    if (due.length) this.loop.at(`${ns}/${name}`, new Date(Math.min(...due.map((d) => d.getTime()))));
  }
}

export function startDaemonSets(registry: Registry): DaemonSetController | undefined {
  if (!registry.kinds.has('daemonsets.apps') || !registry.kinds.has('pods') || !registry.kinds.has('controllerrevisions.apps')) return undefined;
  const c = new DaemonSetController(registry);
  c.start();
  return c;
}
