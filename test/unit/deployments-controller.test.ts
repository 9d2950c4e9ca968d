// The Deployment and ReplicaSet controllers driven in-process against a real Registry (no HTTP,
// no Docker: pods stay stored objects). Adoption and release of orphans, foreground and orphan
// deletion, and collisionCount, as upstream's ControllerRefManager and deployment controller.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Registry } from '../../src/machinery/registry.ts';
import type { KindInfo, KObject } from '../../src/machinery/types.ts';
import { setupWorkloads } from '../../src/api/workloads.ts';
import type { WorkloadController } from '../../src/runtime/deployments.ts';

const kinds = JSON.parse(readFileSync(new URL('../../generated/kinds.json', import.meta.url), 'utf8')) as KindInfo[];
type Obj = Record<string, any>;

interface Env { reg: Registry; c: WorkloadController; deploy: KindInfo; rs: KindInfo; pod: KindInfo }

async function env(): Promise<Env> {
  const reg = new Registry(kinds, undefined, { objects: [], resourceVersion: 0 });
  await reg.create(reg.kind('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const c = setupWorkloads(reg)!;
  assert.ok(c);
  return { reg, c, deploy: reg.kind('deployments.apps'), rs: reg.kind('replicasets.apps'), pod: reg.kind('pods') };
}

/** Waits for the controller to go quiet, then for setImmediate work (finalizers) to settle. */
async function settle(e: Env): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await e.c.idle();
    await new Promise((r) => setTimeout(r, 10));
  }
  await e.c.idle();
}

const template = (app: string, image = 'busybox:latest') => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: 'main', image, command: ['sleep', '3600'] }] },
});

const deployment = (name: string, replicas: number): KObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name) },
} as KObject);

const replicaSet = (name: string, app: string, replicas: number): KObject => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, labels: { app } },
  spec: { replicas, selector: { matchLabels: { app } }, template: template(app) },
} as KObject);

const controllerRef = (o: KObject) => o.metadata.ownerReferences?.find((r) => r.controller);
const pods = (e: Env, app: string) => e.reg.all(e.pod, 'default').filter((p) => p.metadata.labels?.app === app);

test('a Deployment creates its ReplicaSet and pods; status is written', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  await e.reg.create(e.deploy, 'default', deployment('web', 3));
  await settle(e);
  const rss = e.reg.all(e.rs, 'default');
  assert.equal(rss.length, 1);
  assert.equal(controllerRef(rss[0])?.kind, 'Deployment');
  assert.equal(pods(e, 'web').length, 3);
  const d = e.reg.peek(e.deploy, 'default', 'web')!;
  assert.equal((d.status as Obj).replicas, 3);
  assert.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
});

test('delete --cascade=orphan then re-create: the same ReplicaSet is adopted, no new pods', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  await e.reg.create(e.deploy, 'default', deployment('web', 2));
  await settle(e);
  const [rs] = e.reg.all(e.rs, 'default');
  const before = pods(e, 'web').map((p) => p.metadata.uid).sort();
  assert.equal(before.length, 2);

  await e.reg.delete(e.deploy, 'default', 'web', { propagationPolicy: 'Orphan' });
  await settle(e);
  assert.equal(e.reg.peek(e.deploy, 'default', 'web'), undefined, 'the Deployment is gone once orphaning is done');
  const orphan = e.reg.peek(e.rs, 'default', rs.metadata.name!)!;
  assert.ok(orphan, 'the ReplicaSet stays');
  assert.equal(orphan.metadata.ownerReferences, undefined);
  assert.deepEqual(pods(e, 'web').map((p) => p.metadata.uid).sort(), before, 'its pods stay');

  const d2 = await e.reg.create(e.deploy, 'default', deployment('web', 2));
  await settle(e);
  const rss = e.reg.all(e.rs, 'default');
  assert.equal(rss.length, 1, 'no second ReplicaSet');
  assert.equal(rss[0].metadata.uid, rs.metadata.uid);
  assert.deepEqual(controllerRef(rss[0]), { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: d2.metadata.uid, controller: true, blockOwnerDeletion: true });
  assert.deepEqual(pods(e, 'web').map((p) => p.metadata.uid).sort(), before, 'no pod replaced');
  const st = e.reg.peek(e.deploy, 'default', 'web')!.status as Obj;
  assert.equal(st.replicas, 2);
  assert.equal(st.collisionCount, undefined);
});

test('a ReplicaSet adopts orphan pods that match its selector and fit its replicas', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  await e.reg.create(e.rs, 'default', replicaSet('solo', 'solo', 2));
  await settle(e);
  const before = pods(e, 'solo').map((p) => p.metadata.uid).sort();
  assert.equal(before.length, 2);
  await e.reg.delete(e.rs, 'default', 'solo', { propagationPolicy: 'Orphan' });
  await settle(e);
  assert.equal(e.reg.peek(e.rs, 'default', 'solo'), undefined);
  for (const p of pods(e, 'solo')) assert.equal(p.metadata.ownerReferences, undefined);

  // Three replicas now: the two orphans are adopted and one pod is added.
  const rs2 = await e.reg.create(e.rs, 'default', replicaSet('solo', 'solo', 3));
  await settle(e);
  const after = pods(e, 'solo');
  assert.equal(after.length, 3);
  for (const p of after) assert.equal(controllerRef(p)?.uid, rs2.metadata.uid);
  for (const uid of before) assert.ok(after.some((p) => p.metadata.uid === uid), 'orphan kept');
  assert.equal((e.reg.peek(e.rs, 'default', 'solo')!.status as Obj).replicas, 3);
});

test('pods the selector no longer takes are released; terminal or hand-run pods are not adopted', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  await e.reg.create(e.rs, 'default', replicaSet('keep', 'keep', 1));
  await settle(e);
  const [p] = pods(e, 'keep');
  const relabelled = structuredClone(p);
  relabelled.metadata.labels = { app: 'debug' };
  await e.reg.update(e.pod, 'default', p.metadata.name!, relabelled);
  await settle(e);
  const released = e.reg.peek(e.pod, 'default', p.metadata.name!)!;
  assert.equal(released.metadata.ownerReferences, undefined, 'released');
  assert.equal(pods(e, 'keep').length, 1, 'a replacement was made');

  const orphan = (name: string, extra: Obj = {}): KObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'keep' }, ...extra },
    spec: { containers: [{ name: 'main', image: 'busybox:latest' }] },
  } as KObject);
  await e.reg.create(e.pod, 'default', orphan('by-hand', { annotations: { 'k2d.io/adopted-container': 'abc' } }));
  // Finished before its labels match: never adopted.
  const done = await e.reg.create(e.pod, 'default', orphan('done', { labels: { app: 'other' } }));
  const { object: finished } = await e.reg.update(e.pod, 'default', 'done', { ...done, status: { phase: 'Succeeded' } } as KObject, { subresource: 'status' });
  await e.reg.update(e.pod, 'default', 'done', { ...finished, metadata: { ...finished.metadata, labels: { app: 'keep' } } });
  await settle(e);
  assert.equal(e.reg.peek(e.pod, 'default', 'by-hand')!.metadata.ownerReferences, undefined);
  assert.equal(e.reg.peek(e.pod, 'default', 'done')!.metadata.ownerReferences, undefined);
});

test('delete --cascade=foreground: the Deployment waits with its finalizer until ReplicaSets and pods are gone', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  const d = await e.reg.create(e.deploy, 'default', deployment('fg', 2));
  await settle(e);
  const { object } = await e.reg.delete(e.deploy, 'default', 'fg', { propagationPolicy: 'Foreground' });
  assert.ok(object.metadata.deletionTimestamp);
  assert.deepEqual(object.metadata.finalizers, ['foregroundDeletion']);
  await settle(e);
  assert.equal(e.reg.peek(e.deploy, 'default', 'fg'), undefined);
  assert.equal(e.reg.all(e.rs, 'default').filter((r) => controllerRef(r)?.uid === d.metadata.uid).length, 0);
  assert.equal(pods(e, 'fg').length, 0, 'no pod re-created while the Deployment was being deleted');
});

test('a ReplicaSet name taken by another template bumps collisionCount and a new name is used', async (t) => {
  const e = await env();
  t.after(() => e.c.stop());
  await e.reg.create(e.deploy, 'default', deployment('col', 1));
  await settle(e);
  const [first] = e.reg.all(e.rs, 'default');
  await e.reg.delete(e.deploy, 'default', 'col', { propagationPolicy: 'Background' });
  await settle(e);
  assert.equal(e.reg.all(e.rs, 'default').length, 0);
  // A ReplicaSet of another app squats the name the Deployment's template hashes to.
  await e.reg.create(e.rs, 'default', { ...replicaSet(first.metadata.name!, 'squatter', 0) });
  await e.reg.create(e.deploy, 'default', deployment('col', 1));
  await settle(e);
  const d = e.reg.peek(e.deploy, 'default', 'col')!;
  assert.equal((d.status as Obj).collisionCount, 1);
  const mine = e.reg.all(e.rs, 'default').filter((r) => controllerRef(r)?.uid === d.metadata.uid);
  assert.equal(mine.length, 1);
  assert.notEqual(mine[0].metadata.name, first.metadata.name);
  assert.equal(mine[0].metadata.labels?.['pod-template-hash'], mine[0].metadata.name!.slice('col-'.length));
  const squatter = e.reg.peek(e.rs, 'default', first.metadata.name!)!;
  assert.equal(squatter.metadata.ownerReferences, undefined, 'the squatter is left alone');
  assert.equal(pods(e, 'col').length, 1);
});

// ---- HorizontalPodAutoscaler: autoscaling/v1 is a view of the stored autoscaling/v2 objects ----

test('HPA: v1 and v2 share one storage; v2 defaults; v1 converts as upstream', async () => {
  const reg = new Registry(kinds, undefined, { objects: [], resourceVersion: 0 });
  await reg.create(reg.kind('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const { setupAutoscaling } = await import('../../src/api/autoscaling.ts');
  setupAutoscaling(reg);
  const v2 = reg.kind('horizontalpodautoscalers.autoscaling');
  const v1 = reg.kind('horizontalpodautoscalers.v1.autoscaling');
  assert.equal(v2.version, 'v2');
  assert.equal(v1.version, 'v1');
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

  // kubectl 1.31 `autoscale --max=4` (no --cpu-percent, no --min)
  const made = await reg.create(v1, 'default', { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'a' }, spec: { scaleTargetRef: ref, maxReplicas: 4 } } as KObject);
  assert.equal(made.apiVersion, 'autoscaling/v1');
  assert.equal((made.spec as Obj).minReplicas, 1);
  const asV2 = await reg.get(v2, 'default', 'a');
  assert.equal(asV2.apiVersion, 'autoscaling/v2');
  assert.deepEqual((asV2.spec as Obj).metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  assert.equal((await reg.get(v1, 'default', 'a')).spec && ((await reg.get(v1, 'default', 'a')).spec as Obj).targetCPUUtilizationPercentage, 80);
  assert.equal(reg.all(v2, 'default').length, 1);
  assert.equal(reg.all(v1, 'default').length, 1);

  // A v2 object with a metric v1 has no field for: kept in v1's annotation and restored.
  const mem = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };
  await reg.create(v2, 'default', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'b' },
    spec: { scaleTargetRef: ref, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }, mem],
      behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } } } as KObject);
  const b2 = reg.peek(v2, 'default', 'b')!.spec as Obj;
  assert.deepEqual(b2.behavior, {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
    scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
  });
  const b1 = await reg.get(v1, 'default', 'b');
  assert.equal((b1.spec as Obj).targetCPUUtilizationPercentage, 60);
  assert.deepEqual(JSON.parse(b1.metadata.annotations!['autoscaling.alpha.kubernetes.io/metrics']), [mem]);
  // An update through v1 keeps what only v2 can say.
  await reg.update(v1, 'default', 'b', { ...b1, spec: { ...(b1.spec as Obj), maxReplicas: 6 } } as KObject);
  const after = reg.peek(v2, 'default', 'b')!;
  assert.equal((after.spec as Obj).maxReplicas, 6);
  assert.deepEqual((after.spec as Obj).metrics[1], mem);
  assert.deepEqual((after.spec as Obj).behavior, b2.behavior);
  assert.equal(after.metadata.annotations, undefined);

  await assert.rejects(reg.create(v2, 'default', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'c' }, spec: { scaleTargetRef: ref, minReplicas: 3, maxReplicas: 2 } } as KObject),
    (e: any) => e.code === 422 && /spec\.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`/.test(e.message));
  await assert.rejects(reg.create(v1, 'default', { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'd' }, spec: { scaleTargetRef: { kind: 'Deployment' }, maxReplicas: 0 } } as KObject),
    (e: any) => e.code === 422 && /spec\.maxReplicas/.test(e.message) && /spec\.scaleTargetRef\.name/.test(e.message));
});
