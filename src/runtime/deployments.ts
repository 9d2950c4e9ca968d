// The Deployment and ReplicaSet controllers: they carry out what src/runtime/rollout decides.
// Woken by changes of Deployments, ReplicaSets and pods (the registry's hub); a timer is armed
// only for a known due time (a pod turning available after minReadySeconds, a progress deadline).
import { randomInt } from 'node:crypto';
import { log, logError } from '../log.ts';
import { ApiError } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject } from '../machinery/types.ts';
import { clone, controllerOf, deepEqual } from '../machinery/util.ts';
import { labelSelectorMatcher, type LabelMatcher, type LabelSelector } from '../machinery/selectors.ts';
import { ADOPTED } from './adopt.ts';
import {
  deploymentStatus, planDeployment, planReplicaSet, podAvailableAt, progressCheckAt, replicaSetPods, replicaSetStatus,
  isPodActive, REVISION, templatesEqualIgnoringHash, type PodsByRs,
} from './rollout/index.ts';
import { recordEvent } from './events.ts';
import { KeyedLoop } from './queue.ts';

/**
 * Writes to objects users also apply carry the controller's manager, as upstream's do: a field
 * no manager owns (the revision annotation) went with the whole map when an apply dropped the
 * applier's last annotation.
 */
const MANAGER = 'kube-controller-manager';

type Obj = Record<string, any>;

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';
const suffix = () => Array.from({ length: 5 }, () => SAFE[randomInt(SAFE.length)]).join('');

/** A selector's matcher; an invalid one (validation refuses those) matches nothing. */
function matcherOf(sel: unknown): LabelMatcher {
  try {
    return labelSelectorMatcher(sel as LabelSelector | undefined);
  } catch {
    return () => false;
  }
}

/** The two kinds that keep a number of pods: ReplicaSet and its legacy twin ReplicationController. */
interface PodSetKind { kind: KindInfo; ownerKind: 'ReplicaSet' | 'ReplicationController'; apiVersion: string; key: 'r' | 'c'; component: string }

/** A ReplicationController's selector is a plain map, a ReplicaSet's a LabelSelector. */
function podSetMatcher(set: PodSetKind, o: KObject): LabelMatcher {
  const sel = (o.spec as Obj | undefined)?.selector;
  if (set.ownerKind === 'ReplicaSet') return matcherOf(sel);
  // An empty map selects nothing (validation refuses it), where empty matchLabels would select all.
  return sel && Object.keys(sel).length ? matcherOf({ matchLabels: sel }) : () => false;
}

export class WorkloadController {
  private deploy: KindInfo;
  private rs: KindInfo;
  private pod: KindInfo;
  private sets: PodSetKind[];
  private unsubscribe: Array<() => void> = [];
  private loop: KeyedLoop;

  constructor(private registry: Registry) {
    this.deploy = registry.kind('deployments.apps');
    this.rs = registry.kind('replicasets.apps');
    this.pod = registry.kind('pods');
    this.sets = [{ kind: this.rs, ownerKind: 'ReplicaSet', apiVersion: 'apps/v1', key: 'r', component: 'replicaset-controller' }];
    const rc = registry.kinds.get('replicationcontrollers');
    if (rc) this.sets.push({ kind: rc, ownerKind: 'ReplicationController', apiVersion: 'v1', key: 'c', component: 'replication-controller' });
    // One loop for all kinds, so no two syncs race on a Deployment and its ReplicaSets.
    this.loop = new KeyedLoop('workload', (key) => {
      const [type, ns, name] = key.split('/');
      if (type === 'd') return this.syncDeployment(ns, name);
      return this.syncReplicaSet(this.sets.find((x) => x.key === type)!, ns, name);
    });
  }

  start(): void {
    const hub = this.registry.hub;
    this.unsubscribe.push(
      hub.add({ resource: 'deployments.apps', onChange: (c) => this.enqueue('d', c.object) }),
      hub.add({
        resource: 'replicasets.apps',
        onChange: (c) => {
          this.enqueue('r', c.object);
          this.enqueueOwner(c.object, 'Deployment', 'd');
          if (c.old) this.enqueueOwner(c.old, 'Deployment', 'd');
          if (c.type !== 'DELETED' && !controllerOf(c.object)) this.enqueueSelectingDeployments(c.object);
        },
      }),
      hub.add({
        resource: 'pods',
        onChange: (c) => {
          for (const set of this.sets) {
            this.enqueueOwner(c.object, set.ownerKind, set.key);
            if (c.old) this.enqueueOwner(c.old, set.ownerKind, set.key);
            if (c.type !== 'DELETED' && !controllerOf(c.object)) this.enqueueSelecting(set, c.object);
          }
        },
      }),
    );
    if (this.sets[1]) this.unsubscribe.push(hub.add({ resource: 'replicationcontrollers', onChange: (c) => this.enqueue('c', c.object) }));
    // After a restart: converge everything stored.
    for (const set of this.sets) for (const r of this.registry.all(set.kind)) this.enqueue(set.key, r);
    for (const d of this.registry.all(this.deploy)) this.enqueue('d', d);
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.loop.stop();
  }

  /** Resolves once nothing is queued (tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  private enqueue(type: 'd' | 'r' | 'c', o: KObject): void {
    this.add(`${type}/${o.metadata.namespace}/${o.metadata.name}`);
  }

  private enqueueOwner(o: KObject, kind: string, type: 'd' | 'r' | 'c'): void {
    const ref = controllerOf(o);
    if (ref?.kind === kind) this.add(`${type}/${o.metadata.namespace}/${ref.name}`);
  }

  /** An orphan pod: wake the owners whose selector takes it (they may adopt it). */
  private enqueueSelecting(set: PodSetKind, o: KObject): void {
    for (const owner of this.registry.all(set.kind, o.metadata.namespace)) {
      if (podSetMatcher(set, owner)(o.metadata.labels)) this.enqueue(set.key, owner);
    }
  }

  /** An orphan ReplicaSet: wake the Deployments whose selector takes it. */
  private enqueueSelectingDeployments(o: KObject): void {
    for (const owner of this.registry.all(this.deploy, o.metadata.namespace)) {
      if (matcherOf((owner.spec as Obj | undefined)?.selector)(o.metadata.labels)) this.enqueue('d', owner);
    }
  }

  private add(key: string): void {
    this.loop.add(key);
  }

  // One key at a time: every sync reads the registry afresh, so ordering between keys does not
  // matter, and no two syncs of the same object race.
  private podsOf(rs: KObject): KObject[] {
    const uid = rs.metadata.uid;
    return this.registry.all(this.pod, rs.metadata.namespace).filter((p) => controllerOf(p)?.uid === uid);
  }

  /**
   * ControllerRefManager.ClaimObject: orphans the owner's selector takes are adopted (a
   * controller ownerReference is added), owned ones it no longer takes are released. Neither
   * happens while the owner is being deleted; an object being deleted is not adopted.
   */
  private async claim(owner: KObject, ownerKind: string, apiVersion: string, match: LabelMatcher, kind: KindInfo, candidates: KObject[], adoptable: (o: KObject) => boolean): Promise<void> {
    if (owner.metadata.deletionTimestamp) return;
    const uid = owner.metadata.uid!;
    for (const o of candidates) {
      const ref = controllerOf(o);
      let refs: KObject['metadata']['ownerReferences'];
      if (ref) {
        if (ref.uid !== uid || match(o.metadata.labels)) continue;
        refs = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
      } else {
        if (o.metadata.deletionTimestamp || !adoptable(o) || !match(o.metadata.labels)) continue;
        refs = [...(o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid),
          { apiVersion, kind: ownerKind, name: owner.metadata.name!, uid, controller: true, blockOwnerDeletion: true }];
      }
      const next = clone(o);
      if (refs.length) next.metadata.ownerReferences = refs; else delete next.metadata.ownerReferences;
      try {
        await this.registry.update(kind, o.metadata.namespace, o.metadata.name!, next, { skipRvCheck: true, fieldManager: MANAGER });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
  }

  private async syncReplicaSet(set: PodSetKind, ns: string, name: string): Promise<void> {
    let rs = this.registry.peek(set.kind, ns, name);
    if (!rs) return;
    // Upstream claims only active pods; a container started by hand is never taken over.
    await this.claim(rs, set.ownerKind, set.apiVersion, podSetMatcher(set, rs), this.pod, this.registry.all(this.pod, ns), (p) => isPodActive(p) && !p.metadata.annotations?.[ADOPTED]);
    rs = this.registry.peek(set.kind, ns, name);
    if (!rs) return;
    const now = new Date();
    const plan = planReplicaSet(rs, this.podsOf(rs), now);
    let failure: Obj | undefined;
    const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
      recordEvent(this.registry, rs!, type, reason, message, { component: set.component }, { apiVersion: set.apiVersion, kind: set.ownerKind });
    for (let i = 0; i < plan.create; i++) {
      try {
        const pod = await this.registry.create(this.pod, ns, this.newPod(set, rs));
        event('Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      } catch (err) {
        failure = { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: (err as Error).message, lastTransitionTime: now.toISOString().replace(/\.\d+Z$/, 'Z') };
        logError('replicaset pod create failed', err, { namespace: ns, name });
        event('Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        break;
      }
    }
    for (const p of plan.delete) {
      try {
        await this.registry.delete(this.pod, ns, p.metadata.name!, {});
        event('Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    const fresh = this.registry.peek(set.kind, ns, name);
    if (!fresh) return;
    const pods = this.podsOf(fresh);
    const status: Obj = replicaSetStatus(fresh, pods, now);
    if (failure) status.conditions = [failure];
    else if (!plan.create) delete status.conditions;
    // A ReplicationController's status has no such field.
    if (!status.terminatingReplicas || set.ownerKind === 'ReplicationController') delete status.terminatingReplicas;
    await this.writeStatus(set.kind, fresh, status);
    const minReady = Number((fresh.spec as Obj | undefined)?.minReadySeconds ?? 0);
    const due = pods.filter(isPodActive).map((p) => podAvailableAt(p, minReady)).filter((t): t is Date => !!t && t.getTime() > now.getTime());
    if (due.length) this.loop.at(`${set.key}/${ns}/${name}`, new Date(Math.min(...due.map((d) => d.getTime()))));
  }

  private newPod(set: PodSetKind, rs: KObject): KObject {
    const t = clone(((rs.spec as Obj).template ?? {}) as Obj);
    const meta = t.metadata ?? {};
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name: `${rs.metadata.name}-${suffix()}`, namespace: rs.metadata.namespace,
        labels: meta.labels, annotations: meta.annotations, finalizers: meta.finalizers,
        ownerReferences: [{ apiVersion: set.apiVersion, kind: set.ownerKind, name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: t.spec ?? {},
    } as KObject;
  }

  private async writeStatus(kind: KindInfo, obj: KObject, status: Obj): Promise<void> {
    if (deepEqual(obj.status ?? {}, status)) return;
    await this.registry.update(kind, obj.metadata.namespace, obj.metadata.name!, { ...clone(obj), status } as KObject, { subresource: 'status', skipRvCheck: true });
  }

  private async syncDeployment(ns: string, name: string): Promise<void> {
    let d = this.registry.peek(this.deploy, ns, name);
    if (!d) return;
    const now = new Date();
    const uid = d.metadata.uid;
    await this.claim(d, 'Deployment', 'apps/v1', matcherOf((d.spec as Obj | undefined)?.selector), this.rs, this.registry.all(this.rs, ns), () => true);
    d = this.registry.peek(this.deploy, ns, name);
    if (!d || d.metadata.uid !== uid) return;
    const owned = () => this.registry.all(this.rs, ns).filter((r) => controllerOf(r)?.uid === uid);
    const rss = owned();
    const podsByRs: PodsByRs = {};
    for (const r of rss) podsByRs[r.metadata.name!] = replicaSetPods(r, this.podsOf(r), now);
    const plan = planDeployment(d, rss, podsByRs, now);
    const dep = d;
    const scaled = (rsName: string, from: number, to: number) => recordEvent(this.registry, dep, 'Normal', 'ScalingReplicaSet',
      `Scaled ${to > from ? 'up' : 'down'} replica set ${rsName} from ${from} to ${to}`, { component: 'deployment-controller' }, { apiVersion: 'apps/v1', kind: 'Deployment' });
    for (const a of plan.actions) {
      if (a.type === 'createReplicaSet') {
        const existing = this.registry.peek(this.rs, ns, a.replicaSet.metadata.name!);
        if (existing) {
          const ours = controllerOf(existing)?.uid === uid
            && templatesEqualIgnoringHash((existing.spec as Obj | undefined)?.template, (d.spec as Obj | undefined)?.template);
          if (ours) continue;
          // The name is taken by a ReplicaSet that is not this template's: as upstream, count the
          // collision; the next hash (and so the name) takes the count into account.
          log('replicaset name taken', { level: 'warn', namespace: ns, name: a.replicaSet.metadata.name });
          const status = { ...((d.status as Obj | undefined) ?? {}) };
          status.collisionCount = Number(status.collisionCount ?? 0) + 1;
          await this.registry.update(this.deploy, ns, name, { ...clone(d), status } as KObject, { subresource: 'status', skipRvCheck: true });
          this.add(`d/${ns}/${name}`);
          return;
        }
        const made = await this.registry.create(this.rs, ns, a.replicaSet);
        const replicas = Number((made.spec as Obj | undefined)?.replicas ?? 0);
        if (replicas > 0) scaled(made.metadata.name!, 0, replicas);
      } else if (a.type === 'deleteReplicaSet') {
        await this.registry.delete(this.rs, ns, a.name, { propagationPolicy: 'Background' }).catch((err) => {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        });
      } else {
        const cur = this.registry.peek(this.rs, ns, a.name);
        if (!cur) continue;
        const next = clone(cur) as Obj;
        next.metadata.annotations = { ...(next.metadata.annotations ?? {}), ...a.annotations };
        const was = Number((cur.spec as Obj | undefined)?.replicas ?? 0);
        if (a.type === 'scaleReplicaSet' && was !== a.replicas) scaled(a.name, was, a.replicas);
        if (a.type === 'scaleReplicaSet') next.spec.replicas = a.replicas;
        else next.spec.minReadySeconds = a.minReadySeconds;
        await this.registry.update(this.rs, ns, a.name, next as KObject, { skipRvCheck: true, fieldManager: MANAGER });
      }
    }
    d = this.registry.peek(this.deploy, ns, name);
    if (!d || d.metadata.uid !== uid) return;
    if (plan.revision && d.metadata.annotations?.[REVISION] !== plan.revision) {
      const next = clone(d);
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [REVISION]: plan.revision };
      d = (await this.registry.update(this.deploy, ns, name, next, { skipRvCheck: true, fieldManager: MANAGER })).object;
    }
    // Counts of the ReplicaSets as they are now (a new one has no pods yet).
    const after = owned();
    const counts: PodsByRs = {};
    for (const r of after) counts[r.metadata.name!] = replicaSetPods(r, this.podsOf(r), now);
    const status = deploymentStatus(d, after, counts, now, d.status as Obj | undefined, plan) as Obj;
    if (!status.terminatingReplicas) delete status.terminatingReplicas;
    await this.writeStatus(this.deploy, d, status);
    this.loop.at(`d/${ns}/${name}`, progressCheckAt(d, status as ReturnType<typeof deploymentStatus>));
  }
}

/** Starts both controllers when the API selection serves Deployments and ReplicaSets. */
export function startWorkloads(registry: Registry): WorkloadController | undefined {
  if (!registry.kinds.has('deployments.apps') || !registry.kinds.has('replicasets.apps') || !registry.kinds.has('pods')) return undefined;
  const c = new WorkloadController(registry);
  c.start();
  return c;
}
