import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../src/machinery/types.ts';
import {
  planDeployment, deploymentStatus, progressCheckAt, maxSurge, maxUnavailable, resolveFenceposts, getCondition,
  REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
} from '../../src/runtime/rollout/deployment.ts';
import type { DeploymentPlan, DeploymentStatus, PodsByRs } from '../../src/runtime/rollout/deployment.ts';
import { podTemplateHash } from '../../src/runtime/rollout/hash.ts';

type Obj = Record<string, any>;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function deployment(spec: Obj = {}): KObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-uid', generation: 1, annotations: {} },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
      ...spec,
    },
    status: {},
  };
}
function setImage(d: KObject, image: string): void {
  (d.spec as Obj).template.spec.containers[0].image = image;
  d.metadata.generation = (d.metadata.generation ?? 0) + 1;
}

/** A Deployment controller plus a ReplicaSet controller and a kubelet that only counts pods. */
class Sim {
  rss: KObject[] = [];
  pods: PodsByRs = {};
  clock = T0;
  last!: DeploymentPlan;
  constructor(public d: KObject) {}
  get now() { return new Date(this.clock); }
  get status() { return this.d.status as DeploymentStatus; }
  sync(): DeploymentPlan {
    const plan = planDeployment(this.d, this.rss, this.pods, this.now);
    for (const rs of plan.replicaSets) {
      rs.metadata.creationTimestamp ??= new Date(this.clock).toISOString();
      rs.metadata.generation ??= 1;
    }
    this.rss = plan.replicaSets;
    if (plan.revision) this.d.metadata.annotations = { ...this.d.metadata.annotations, [REVISION]: plan.revision };
    this.d.status = deploymentStatus(this.d, plan.replicaSets, this.pods, this.now, this.status, plan);
    this.last = plan;
    return plan;
  }
  /** ReplicaSet controller: new pods start unready; scale-down removes unready pods first. */
  reconcilePods(terminate = false): void {
    for (const rs of this.rss) {
      const p = (this.pods[rs.metadata.name!] ??= { total: 0, ready: 0, available: 0, terminating: 0 });
      const want = (rs.spec as Obj).replicas;
      if (p.total < want) p.total = want;
      if (p.total > want) {
        const drop = p.total - want;
        const readyDrop = Math.max(0, drop - (p.total - p.ready));
        p.ready -= readyDrop;
        p.available = Math.min(p.available, p.ready);
        if (terminate) p.terminating += drop;
        p.total = want;
      }
    }
  }
  readyAll(): void { for (const p of Object.values(this.pods)) p.ready = p.available = p.total; }
  readyOne(): boolean {
    for (const p of Object.values(this.pods)) {
      if (p.ready < p.total) { p.ready++; p.available++; return true; }
    }
    return false;
  }
  rs(name: string): KObject | undefined { return this.rss.find((r) => r.metadata.name === name); }
  replicas(name: string): number { return (this.rs(name)!.spec as Obj).replicas; }
  availableTotal(): number {
    return this.rss.reduce((n, rs) => n + Math.min(this.pods[rs.metadata.name!]?.available ?? 0, (rs.spec as Obj).replicas), 0);
  }
  podsTotal(): number { return Object.values(this.pods).reduce((n, p) => n + p.total, 0); }
  /** Run to a steady state, one pod turning ready between syncs, checking invariants each step. */
  converge(check: () => void, max = 200): void {
    for (let i = 0; i < max; i++) {
      this.clock += 1000;
      const plan = this.sync();
      this.reconcilePods();
      check();
      if (plan.actions.length === 0 && !this.readyOne()) return;
    }
    assert.fail('did not converge');
  }
}

function rollOut(sim: Sim): void {
  sim.sync(); sim.reconcilePods(); sim.readyAll(); sim.clock += 1000; sim.sync();
}

test('fenceposts: surge rounds up, unavailability rounds down, never both zero', () => {
  assert.deepEqual(resolveFenceposts('25%', '25%', 10), [3, 2]);
  assert.deepEqual(resolveFenceposts('25%', '25%', 1), [1, 0]);
  assert.deepEqual(resolveFenceposts(0, 0, 5), [0, 1]);
  assert.deepEqual(resolveFenceposts('0%', '10%', 5), [0, 1]);
  assert.equal(maxUnavailable(deployment({ replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 5 } } })), 2);
  assert.equal(maxSurge(deployment({ strategy: { type: 'Recreate' } })), 0);
  assert.equal(maxUnavailable(deployment({ strategy: { type: 'Recreate' } })), 0);
  assert.throws(() => resolveFenceposts('abc', 1, 3), /invalid value/);
});

test('a new Deployment creates its first ReplicaSet with every replica, revision 1', () => {
  const sim = new Sim(deployment());
  const plan = sim.sync();
  assert.equal(plan.actions.length, 1);
  const a = plan.actions[0];
  assert.equal(a.type, 'createReplicaSet');
  if (a.type !== 'createReplicaSet') return;
  const hash = podTemplateHash((sim.d.spec as Obj).template);
  const rs = a.replicaSet;
  assert.equal(rs.metadata.name, `web-${hash}`);
  assert.deepEqual(rs.metadata.labels, { app: 'web', 'pod-template-hash': hash });
  assert.deepEqual((rs.spec as Obj).selector, { matchLabels: { app: 'web', 'pod-template-hash': hash } });
  assert.equal((rs.spec as Obj).template.metadata.labels['pod-template-hash'], hash);
  assert.equal((rs.spec as Obj).replicas, 3);
  assert.deepEqual(rs.metadata.annotations, { [REVISION]: '1', [DESIRED_REPLICAS]: '3', [MAX_REPLICAS]: '4' });
  assert.deepEqual(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }]);
  // the Deployment's own template is untouched
  assert.equal((sim.d.spec as Obj).template.metadata.labels['pod-template-hash'], undefined);
  assert.equal(plan.revision, '1');
  assert.equal(plan.created, true);
  const prog = getCondition(sim.status, 'Progressing')!;
  assert.equal(prog.reason, 'NewReplicaSetCreated');
  assert.equal(prog.message, `Created new replica set "web-${hash}"`);
  assert.equal(getCondition(sim.status, 'Available')!.reason, 'MinimumReplicasUnavailable');
  assert.equal(getCondition(sim.status, 'Available')!.status, 'False');
});

test('rolling update of 3 replicas, maxSurge 1 / maxUnavailable 0, step by step', () => {
  const d = deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
  const sim = new Sim(d);
  rollOut(sim);
  const first = sim.rss[0].metadata.name!;
  assert.equal(getCondition(sim.status, 'Progressing')!.reason, 'NewReplicaSetAvailable');

  setImage(d, 'busybox:2');
  sim.clock += 1000;
  let plan = sim.sync();
  assert.deepEqual(plan.actions.map((a) => a.type), ['createReplicaSet']);
  const second = plan.newReplicaSet!;
  assert.notEqual(second, first);
  assert.equal(sim.replicas(second), 1);
  assert.equal(sim.rs(second)!.metadata.annotations![REVISION], '2');
  assert.equal(plan.revision, '2');
  sim.reconcilePods();

  // the new pod is not ready: nothing may move
  plan = sim.sync();
  assert.deepEqual(plan.actions, []);
  assert.equal(sim.replicas(first), 3);

  // it turns ready: one old replica goes
  sim.readyOne();
  plan = sim.sync();
  assert.deepEqual(plan.actions.map((a) => [a.type, (a as Obj).name, (a as Obj).replicas]), [['scaleReplicaSet', first, 2]]);
  sim.reconcilePods();
  // then the new one grows by one
  plan = sim.sync();
  assert.deepEqual(plan.actions.map((a) => [a.type, (a as Obj).name, (a as Obj).replicas]), [['scaleReplicaSet', second, 2]]);
  assert.equal(getCondition(sim.status, 'Progressing')!.reason, 'ReplicaSetUpdated');
  assert.equal(getCondition(sim.status, 'Progressing')!.message, `ReplicaSet "${second}" is progressing.`);
  sim.reconcilePods();

  sim.converge(() => {
    assert.ok(sim.availableTotal() >= 3, `available ${sim.availableTotal()} < 3`);
    assert.ok(sim.podsTotal() <= 4, `pods ${sim.podsTotal()} > 4`);
  });
  assert.equal(sim.replicas(first), 0);
  assert.equal(sim.replicas(second), 3);
  assert.deepEqual({ ...sim.status, conditions: undefined }, {
    observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3,
    unavailableReplicas: 0, terminatingReplicas: 0, conditions: undefined,
  });
  assert.equal(getCondition(sim.status, 'Progressing')!.reason, 'NewReplicaSetAvailable');
  assert.equal(getCondition(sim.status, 'Progressing')!.message, `ReplicaSet "${second}" has successfully progressed.`);
});

test('minReadySeconds: ready but not yet available pods hold the rollout', () => {
  const d = deployment({ minReadySeconds: 30, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
  const sim = new Sim(d);
  rollOut(sim);
  const first = sim.rss[0].metadata.name!;
  assert.equal((sim.rss[0].spec as Obj).minReadySeconds, 30);
  setImage(d, 'busybox:2');
  const second = sim.sync().newReplicaSet!;
  sim.reconcilePods();
  sim.pods[second].ready = 1; // ready, available only after 30 s
  assert.deepEqual(sim.sync().actions, []);
  assert.equal(sim.status.readyReplicas, 4);
  assert.equal(sim.status.availableReplicas, 3);
  sim.pods[second].available = 1;
  assert.deepEqual(sim.sync().actions.map((a) => [(a as Obj).name, (a as Obj).replicas]), [[first, 2]]);
});

test('25%/25% defaults with 10 replicas: at most 13 pods, never fewer than 8 available', () => {
  const d = deployment({ replicas: 10 });
  const sim = new Sim(d);
  rollOut(sim);
  const first = sim.rss[0].metadata.name!;
  assert.equal(sim.rss[0].metadata.annotations![MAX_REPLICAS], '13');
  setImage(d, 'busybox:2');
  const plan = sim.sync();
  // create 3 (surge) and, in the same sync, drop 2 old (the allowed unavailability)
  assert.equal(plan.actions[0].type, 'createReplicaSet');
  assert.equal((plan.actions[0] as Obj).replicaSet.spec.replicas, 3);
  assert.deepEqual(plan.actions.slice(1).map((a) => [a.type, (a as Obj).name, (a as Obj).replicas]), [['scaleReplicaSet', first, 8]]);
  sim.reconcilePods();
  sim.converge(() => {
    assert.ok(sim.availableTotal() >= 8, `available ${sim.availableTotal()}`);
    assert.ok(sim.podsTotal() <= 13, `pods ${sim.podsTotal()}`);
  });
  assert.equal(sim.replicas(plan.newReplicaSet!), 10);
  assert.equal(sim.replicas(first), 0);
  assert.equal(getCondition(sim.status, 'Progressing')!.reason, 'NewReplicaSetAvailable');
});

test('unhealthy old replicas are scaled down first, without touching availability', () => {
  const d = deployment({ replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } });
  const sim = new Sim(d);
  rollOut(sim);
  const first = sim.rss[0].metadata.name!;
  sim.pods[first].ready = sim.pods[first].available = 2; // two old pods crash
  setImage(d, 'busybox:2');
  const plan = sim.sync();
  // no surge: the new RS starts at 0; old loses its 2 unavailable pods... but only down to
  // total - minAvailable(3) - newUnavailable(0) = 1 pod
  assert.equal((plan.actions[0] as Obj).replicaSet.spec.replicas, 0);
  assert.deepEqual(plan.actions.slice(1).map((a) => [(a as Obj).name, (a as Obj).replicas]), [[first, 3]]);
});

test('Recreate: old to zero, new only once no old pod runs', () => {
  const d = deployment({ strategy: { type: 'Recreate' } });
  const sim = new Sim(d);
  rollOut(sim);
  const first = sim.rss[0].metadata.name!;
  setImage(d, 'busybox:2');
  let plan = sim.sync();
  assert.deepEqual(plan.actions.map((a) => [a.type, (a as Obj).name, (a as Obj).replicas]), [['scaleReplicaSet', first, 0]]);
  assert.equal(plan.newReplicaSet, undefined);
  sim.reconcilePods(true);
  assert.equal(sim.pods[first].terminating, 3);
  plan = sim.sync();
  assert.deepEqual(plan.actions, [], 'terminating pods still run');
  assert.equal(getCondition(sim.status, 'Available')!.status, 'False');
  sim.pods[first].terminating = 0;
  plan = sim.sync();
  assert.deepEqual(plan.actions.map((a) => a.type), ['createReplicaSet']);
  assert.equal((plan.actions[0] as Obj).replicaSet.spec.replicas, 3);
  assert.equal((plan.actions[0] as Obj).replicaSet.metadata.annotations[MAX_REPLICAS], '3');
  sim.reconcilePods(); sim.readyAll(); sim.sync();
  assert.equal(getCondition(sim.status, 'Progressing')!.reason, 'NewReplicaSetAvailable');
  assert.equal(getCondition(sim.status, 'Available')!.status, 'True');
});

test('paused: no rollout, scaling still applies; resume starts the rollout', () => {
  const d = deployment();
  const sim = new Sim(d);
  rollOut(sim);
  const first = sim.rss[0].metadata.name!;
  (d.spec as Obj).paused = true;
  d.metadata.generation = 2;
  sim.clock += 1000;
  let plan = sim.sync();
  assert.deepEqual(plan.actions, []);
  assert.equal(plan.mode, 'sync');
  let prog = getCondition(sim.status, 'Progressing')!;
  assert.deepEqual([prog.status, prog.reason, prog.message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
  const pausedAt = prog.lastTransitionTime;

  setImage(d, 'busybox:2');
  (d.spec as Obj).replicas = 5;
  plan = sim.sync();
  assert.deepEqual(plan.actions.map((a) => [a.type, (a as Obj).name, (a as Obj).replicas]), [['scaleReplicaSet', first, 5]]);
  assert.deepEqual((plan.actions[0] as Obj).annotations, { [DESIRED_REPLICAS]: '5', [MAX_REPLICAS]: '7' });
  assert.equal(sim.rss.length, 1, 'no new ReplicaSet while paused');
  assert.equal(sim.status.observedGeneration, d.metadata.generation);
  assert.equal(getCondition(sim.status, 'Progressing')!.lastTransitionTime, pausedAt);
  sim.reconcilePods(); sim.readyAll(); sim.sync();

  (d.spec as Obj).paused = false;
  sim.clock += 5000;
  plan = sim.sync();
  assert.equal(plan.mode, 'rollout');
  assert.equal(plan.actions[0].type, 'createReplicaSet');
  prog = getCondition(sim.status, 'Progressing')!;
  assert.deepEqual([prog.status, prog.reason], ['True', 'NewReplicaSetCreated']);
  assert.equal(prog.lastTransitionTime, new Date(sim.clock).toISOString().replace('.000Z', 'Z'));
});

test('paused with resumed condition: DeploymentResumed, when no rollout follows', () => {
  const d = deployment({ paused: true });
  const sim = new Sim(d);
  d.status = { conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', lastUpdateTime: 'x', lastTransitionTime: 'x' }] };
  const st = deploymentStatus(d, [], {}, new Date(T0), undefined, { mode: 'sync', created: false });
  assert.equal(getCondition(st, 'Progressing')!.reason, 'DeploymentPaused');
  (d.spec as Obj).paused = false;
  d.status = st;
  const st2 = deploymentStatus(d, [], {}, new Date(T0 + 1000), undefined, { mode: 'sync', created: false });
  const c = getCondition(st2, 'Progressing')!;
  assert.deepEqual([c.status, c.reason, c.message], ['Unknown', 'DeploymentResumed', 'Deployment is resumed']);
  assert.equal(c.lastTransitionTime, getCondition(st, 'Progressing')!.lastTransitionTime, 'Unknown -> Unknown keeps the transition time');
  void sim;
});

test('scaling mid-rollout is proportional (upstream docs example: 10 -> 15, surge 3)', () => {
  const d = deployment({ replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } });
  const sim = new Sim(d);
  rollOut(sim);
  const first = sim.rss[0].metadata.name!;
  setImage(d, 'busybox:bad');
  const second = sim.sync().newReplicaSet!;
  sim.reconcilePods();
  sim.clock += 1000;
  sim.sync(); sim.reconcilePods();
  assert.equal(sim.replicas(first), 8);
  assert.equal(sim.replicas(second), 5);
  assert.equal(sim.pods[second].available, 0, 'the bad image never gets ready');

  (d.spec as Obj).replicas = 15;
  d.metadata.generation! += 1;
  const plan = sim.sync();
  assert.equal(plan.mode, 'sync');
  const sizes = Object.fromEntries(plan.actions.map((a) => [(a as Obj).name, (a as Obj).replicas]));
  assert.deepEqual(sizes, { [first]: 11, [second]: 7 });
  for (const a of plan.actions) assert.deepEqual((a as Obj).annotations, { [DESIRED_REPLICAS]: '15', [MAX_REPLICAS]: '18' });
  sim.reconcilePods();
  // the next sync is a rollout again and respects the new bounds
  assert.deepEqual(sim.sync().actions, []);

  // scale down to 5: at most 5 + 3 (surge) = 8 pods, taken away proportionally, larger first
  (d.spec as Obj).replicas = 5;
  const down = sim.sync();
  const after = Object.fromEntries(down.actions.map((a) => [(a as Obj).name, (a as Obj).replicas]));
  assert.equal(after[first] + after[second], 8);
  assert.deepEqual(after, { [first]: 5, [second]: 3 });
});

test('scaling with a single active ReplicaSet just resizes it', () => {
  const d = deployment();
  const sim = new Sim(d);
  rollOut(sim);
  (d.spec as Obj).replicas = 1;
  const plan = sim.sync();
  assert.equal(plan.mode, 'sync');
  assert.deepEqual(plan.actions.map((a) => [(a as Obj).name, (a as Obj).replicas]), [[sim.rss[0].metadata.name, 1]]);
  sim.reconcilePods(); sim.sync();
  assert.equal(sim.status.replicas, 1);
  assert.equal(getCondition(sim.status, 'Available')!.status, 'True');
});

test('rollback reuses the old ReplicaSet by template and gives it the next revision', () => {
  const d = deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
  d.metadata.annotations = { 'kubernetes.io/change-cause': 'v1', 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
  const sim = new Sim(d);
  rollOut(sim);
  const first = sim.rss[0].metadata.name!;
  assert.equal(sim.rs(first)!.metadata.annotations!['kubernetes.io/change-cause'], 'v1');
  assert.equal(sim.rs(first)!.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  setImage(d, 'busybox:2');
  d.metadata.annotations['kubernetes.io/change-cause'] = 'v2';
  sim.converge(() => {});
  const second = sim.last.newReplicaSet!;
  assert.equal(sim.rs(second)!.metadata.annotations![REVISION], '2');
  assert.equal(sim.replicas(first), 0);

  // kubectl rollout undo writes revision 1's template back
  setImage(d, 'busybox:1');
  d.metadata.annotations['kubernetes.io/change-cause'] = 'v1';
  const plan = sim.sync();
  assert.equal(plan.newReplicaSet, first);
  assert.equal(plan.created, false);
  assert.ok(!plan.actions.some((a) => a.type === 'createReplicaSet'));
  assert.deepEqual(plan.actions[0], {
    type: 'updateReplicaSet', name: first, minReadySeconds: 0,
    annotations: { [REVISION]: '3', [REVISION_HISTORY]: '1' },
  });
  assert.deepEqual(plan.actions[1], { type: 'scaleReplicaSet', name: first, from: 0, replicas: 1, annotations: { [DESIRED_REPLICAS]: '3', [MAX_REPLICAS]: '4' } });
  assert.equal(plan.revision, '3');
  assert.equal(sim.d.metadata.annotations![REVISION], '3');
  sim.reconcilePods();
  sim.converge(() => assert.ok(sim.availableTotal() >= 3));
  assert.equal(sim.replicas(first), 3);
  assert.equal(sim.replicas(second), 0);
  assert.equal(getCondition(sim.status, 'Progressing')!.message, `ReplicaSet "${first}" has successfully progressed.`);
});

test('revisionHistoryLimit: oldest scaled-down ReplicaSets are deleted once the rollout is complete', () => {
  const d = deployment({ revisionHistoryLimit: 2 });
  const sim = new Sim(d);
  rollOut(sim);
  const names: string[] = [sim.rss[0].metadata.name!];
  for (let v = 2; v <= 5; v++) {
    setImage(d, `busybox:${v}`);
    sim.converge(() => {});
    names.push(sim.last.newReplicaSet!);
    sim.clock += 1000;
  }
  assert.equal(sim.status.updatedReplicas, 3);
  assert.equal(sim.rss.length, 5, 'no cleanup before a complete status was recorded');
  // the status write that records completion triggers one more sync, which cleans up
  const cleanup = sim.sync();
  assert.deepEqual(cleanup.actions, [{ type: 'deleteReplicaSet', name: names[0] }, { type: 'deleteReplicaSet', name: names[1] }]);
  const left = sim.rss.map((r) => r.metadata.name).sort();
  assert.deepEqual(left, [names[2], names[3], names[4]].sort());
  assert.deepEqual(sim.rss.map((r) => r.metadata.annotations![REVISION]).sort(), ['3', '4', '5']);

  // an old ReplicaSet that still has replicas is never deleted
  const d2 = deployment({ revisionHistoryLimit: 0 });
  const tmpl = (rev: number, image: string) => ({ metadata: { labels: { app: 'web', 'pod-template-hash': `h${rev}` } }, spec: { containers: [{ name: 'c', image }] } });
  const rs = (rev: number, replicas: number, image: string): KObject => ({
    metadata: { name: `web-h${rev}`, creationTimestamp: new Date(T0 + rev * 1000).toISOString(), annotations: { [REVISION]: String(rev), [DESIRED_REPLICAS]: '3' } },
    spec: { replicas, template: tmpl(rev, image) },
  });
  (d2.spec as Obj).template.spec.containers[0].image = 'busybox:3';
  d2.status = { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3 };
  const pods = { 'web-h1': { total: 1, ready: 1, available: 1, terminating: 0 }, 'web-h3': { total: 3, ready: 3, available: 3, terminating: 0 } };
  const plan = planDeployment(d2, [rs(1, 0, 'busybox:1'), rs(2, 0, 'busybox:2'), rs(3, 3, 'busybox:3')], pods, new Date(T0));
  assert.deepEqual(plan.actions, [{ type: 'deleteReplicaSet', name: 'web-h2' }], 'web-h1 still has a pod');
});

test('progress deadline exceeded, and the way back', () => {
  const d = deployment({ progressDeadlineSeconds: 60, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
  const sim = new Sim(d);
  rollOut(sim);
  setImage(d, 'busybox:bad');
  sim.clock += 1000;
  const start = sim.clock;
  const second = sim.sync().newReplicaSet!;
  sim.reconcilePods();
  assert.equal(getCondition(sim.status, 'Progressing')!.reason, 'NewReplicaSetCreated');
  assert.equal(progressCheckAt(d, sim.status)!.getTime(), start + 61_000);
  // the new (never ready) pod appearing counts as progress: updatedReplicas went up
  sim.clock = start + 1000;
  sim.sync();
  const updated = getCondition(sim.status, 'Progressing')!;
  assert.equal(updated.reason, 'ReplicaSetUpdated');
  assert.equal(progressCheckAt(d, sim.status)!.getTime(), start + 62_000);

  sim.clock = start + 30_000;
  sim.sync();
  assert.deepEqual(getCondition(sim.status, 'Progressing'), updated, 'no progress is no update');
  sim.clock = start + 61_000;
  sim.sync();
  assert.deepEqual(getCondition(sim.status, 'Progressing'), updated, 'deadline is strictly after');
  sim.clock = start + 62_000;
  sim.sync();
  const c = getCondition(sim.status, 'Progressing')!;
  assert.deepEqual([c.status, c.reason, c.message], ['False', 'ProgressDeadlineExceeded', `ReplicaSet "${second}" has timed out progressing.`]);
  assert.equal(c.lastTransitionTime, new Date(start + 62_000).toISOString().replace('.000Z', 'Z'));
  assert.equal(getCondition(sim.status, 'Available')!.status, 'True', 'old pods keep serving');
  assert.equal(progressCheckAt(d, sim.status), undefined);

  // later syncs keep the timeout as it was
  sim.clock += 10_000;
  sim.sync();
  assert.deepEqual(getCondition(sim.status, 'Progressing'), c);

  // the pod finally gets ready: progress again, new transition
  sim.readyOne();
  sim.clock += 1000;
  sim.sync();
  const back = getCondition(sim.status, 'Progressing')!;
  assert.deepEqual([back.status, back.reason], ['True', 'ReplicaSetUpdated']);
  assert.equal(back.lastTransitionTime, new Date(sim.clock).toISOString().replace('.000Z', 'Z'));
});

test('ReplicaSetUpdated refreshes lastUpdateTime but keeps lastTransitionTime', () => {
  const d = deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
  const sim = new Sim(d);
  rollOut(sim);
  setImage(d, 'busybox:2');
  sim.clock += 1000;
  sim.sync(); sim.reconcilePods();
  const created = getCondition(sim.status, 'Progressing')!;
  const times: string[] = [];
  for (let i = 0; i < 3; i++) {
    sim.clock += 10_000;
    sim.readyOne(); sim.sync(); sim.reconcilePods();
    const c = getCondition(sim.status, 'Progressing')!;
    assert.equal(c.reason, 'ReplicaSetUpdated');
    assert.equal(c.lastTransitionTime, created.lastTransitionTime);
    times.push(c.lastUpdateTime!);
  }
  assert.equal(new Set(times).size, 3);
});

test('status as kstatus and Helm 3 read it once a rollout is done', () => {
  const d = deployment();
  const sim = new Sim(d);
  sim.sync();
  const created = getCondition(sim.status, 'Progressing')!;
  sim.reconcilePods(); sim.readyAll();
  sim.clock += 5000;
  sim.sync();
  const st = sim.status;
  assert.equal(st.observedGeneration, d.metadata.generation);
  assert.deepEqual([st.replicas, st.updatedReplicas, st.readyReplicas, st.availableReplicas, st.unavailableReplicas], [3, 3, 3, 3, 0]);
  const av = getCondition(st, 'Available')!;
  assert.deepEqual([av.status, av.reason, av.message], ['True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.']);
  const pr = getCondition(st, 'Progressing')!;
  assert.deepEqual([pr.status, pr.reason], ['True', 'NewReplicaSetAvailable']);
  assert.equal(pr.lastTransitionTime, created.lastTransitionTime);
  assert.equal(pr.lastUpdateTime, '2026-01-01T00:00:05Z');
  assert.match(pr.lastTransitionTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // steady state: nothing changes any more, so nothing needs writing
  sim.clock += 60_000;
  const before = structuredClone(sim.status);
  assert.deepEqual(sim.sync().actions, []);
  assert.deepEqual(sim.status, before);
  assert.equal(progressCheckAt(d, sim.status), undefined);
});

test('no progressDeadlineSeconds: no Progressing condition at all', () => {
  const d = deployment({ progressDeadlineSeconds: 2147483647 });
  const sim = new Sim(d);
  rollOut(sim);
  assert.equal(getCondition(sim.status, 'Progressing'), undefined);
  assert.equal(getCondition(sim.status, 'Available')!.status, 'True');
});

test('an existing ReplicaSet without a Progressing condition is Found; a deleting Deployment only reports', () => {
  const d = deployment();
  const sim = new Sim(d);
  rollOut(sim);
  const name = sim.rss[0].metadata.name!;
  d.status = { ...sim.status, conditions: [] };
  sim.sync();
  assert.equal(getCondition(sim.status, 'Progressing')!.reason, 'NewReplicaSetAvailable');
  const st = deploymentStatus(d, sim.rss, sim.pods, new Date(T0), { conditions: [] }, { mode: 'status', created: false });
  assert.equal(getCondition(st, 'Progressing')!.message, `Found new replica set "${name}"`);
  d.metadata.deletionTimestamp = new Date(T0).toISOString();
  (d.spec as Obj).replicas = 7;
  const plan = planDeployment(d, sim.rss, sim.pods, new Date(T0));
  assert.equal(plan.mode, 'status');
  assert.deepEqual(plan.actions, []);
});

test('a ReplicaSet failing to create pods shows as ReplicaFailure, and the condition goes when it clears', () => {
  const d = deployment();
  const sim = new Sim(d);
  sim.sync();
  sim.rss[0].status = { conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
  sim.sync();
  const f = getCondition(sim.status, 'ReplicaFailure')!;
  assert.deepEqual([f.status, f.reason, f.message, f.lastUpdateTime], ['True', 'FailedCreate', 'quota', '2026-01-01T00:00:00Z']);
  sim.rss[0].status = {};
  sim.sync();
  assert.equal(getCondition(sim.status, 'ReplicaFailure'), undefined);
});
