import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../src/machinery/types.ts';
import {
  fnv32a, podTemplateHash, replicaSetName, safeEncode, selectorWithHash, templatesEqualIgnoringHash, withHashLabel,
} from '../../src/runtime/rollout/hash.ts';
import {
  planReplicaSet, replicaSetStatus, replicaSetPods, rankPodsForDeletion, isPodAvailable, podAvailableAt,
} from '../../src/runtime/rollout/replicaset.ts';

type Obj = Record<string, any>;
const NOW = new Date('2026-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString().replace('.000Z', 'Z');

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1', args: ['sleep', '1d'] }] } };

test('fnv32a and the safe alphabet match upstream', () => {
  assert.equal(fnv32a(new Uint8Array()), 0x811c9dc5);
  assert.equal(fnv32a(new TextEncoder().encode('a')), 0xe40c292c);
  assert.equal(fnv32a(new TextEncoder().encode('foobar')), 0xbf9cf968);
  // digits map through (code % 27): 0->4 ... 5->9, 6->b, 9->f
  assert.equal(safeEncode('0123456789'), '456789bcdf');
  // a real cluster's "nginx-deployment-66b6c48dd5" decodes to the decimal string of a uint32
  assert.equal(safeEncode('2262704881'), '66b6c48dd5');
});

test('podTemplateHash is stable, short, and ignores key order and the hash label', () => {
  const h = podTemplateHash(template);
  assert.match(h, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  const reordered = { spec: { containers: [{ args: ['sleep', '1d'], image: 'busybox:1', name: 'c' }] }, metadata: { labels: { app: 'web' } } };
  assert.equal(podTemplateHash(reordered), h);
  assert.equal(podTemplateHash(structuredClone(template)), h);
  const labelled = structuredClone(template) as Obj;
  labelled.metadata.labels['pod-template-hash'] = 'zzz';
  assert.equal(podTemplateHash(labelled), h);
  const changed = structuredClone(template) as Obj;
  changed.spec.containers[0].image = 'busybox:2';
  assert.notEqual(podTemplateHash(changed), h);
  assert.notEqual(podTemplateHash(template, 1), h, 'collisionCount perturbs the hash');
  assert.notEqual(podTemplateHash(template, 1), podTemplateHash(template, 2));
});

test('names, labels and selectors with the hash', () => {
  const d: KObject = { metadata: { name: 'web' } };
  assert.equal(replicaSetName(d, 'abc12'), 'web-abc12');
  assert.equal(replicaSetName('api', 'x'), 'api-x');
  const labels = { app: 'web' };
  assert.deepEqual(withHashLabel(labels, 'h'), { app: 'web', 'pod-template-hash': 'h' });
  assert.deepEqual(labels, { app: 'web' }, 'input untouched');
  const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }] };
  assert.deepEqual(selectorWithHash(sel, 'h'), {
    matchLabels: { app: 'web', 'pod-template-hash': 'h' },
    matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe'] }],
  });
  const withHash = { ...template, metadata: { labels: { app: 'web', 'pod-template-hash': 'h' } } };
  assert.ok(templatesEqualIgnoringHash(withHash, template));
  assert.ok(!templatesEqualIgnoringHash(withHash, { ...template, spec: {} }));
});

function rs(replicas: number, extra: Obj = {}): KObject {
  return {
    metadata: { name: 'web-h', generation: 4 },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', 'pod-template-hash': 'h' } } }, ...extra },
  };
}
interface PodOpts {
  node?: string; phase?: string; ready?: boolean; readySince?: number; created?: number; restarts?: number;
  deleting?: boolean; labels?: Record<string, string>; cost?: number; uid?: string;
}
function pod(name: string, o: PodOpts = {}): KObject {
  const conditions = o.ready === undefined ? [] : [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: ago(o.readySince ?? 100) }];
  return {
    metadata: {
      name, uid: o.uid ?? name, creationTimestamp: ago(o.created ?? 1000), labels: o.labels ?? { app: 'web', 'pod-template-hash': 'h' },
      ...(o.deleting ? { deletionTimestamp: ago(1) } : {}),
      ...(o.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(o.cost) } } : {}),
    },
    spec: { nodeName: o.node ?? 'k2d' },
    status: { phase: o.phase ?? 'Running', conditions, containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 }] },
  };
}

test('planReplicaSet creates the missing pods, ignoring finished and terminating ones', () => {
  const pods = [pod('a', { ready: true }), pod('b', { phase: 'Failed' }), pod('c', { deleting: true, ready: true })];
  assert.deepEqual(planReplicaSet(rs(3), pods, NOW), { create: 2, delete: [] });
  assert.deepEqual(planReplicaSet(rs(1), pods, NOW), { create: 0, delete: [] });
  assert.equal(planReplicaSet(rs(900), [], NOW).create, 500, 'burst cap');
  assert.equal(planReplicaSet({ ...rs(3), metadata: { name: 'x', deletionTimestamp: ago(1) } }, [], NOW).create, 0);
  assert.equal(planReplicaSet({ metadata: { name: 'x' }, spec: {} }, [], NOW).create, 1, 'replicas defaults to 1');
});

test('scale-down picks pods in upstream order', () => {
  const pods = [
    pod('old-ready', { ready: true, readySince: 5000, created: 6000 }),
    pod('restarty', { ready: true, readySince: 5000, created: 6000, restarts: 5 }),
    pod('unready', { ready: false, created: 7000 }),
    pod('pending', { phase: 'Pending', created: 8000 }),
    pod('unscheduled', { phase: 'Pending', node: '', created: 9000 }),
    pod('fresh-ready', { ready: true, readySince: 3, created: 10 }),
    pod('precious', { ready: false, created: 7000, cost: 100 }),
  ];
  assert.deepEqual(rankPodsForDeletion(pods, NOW).map((p) => p.metadata.name), [
    'unscheduled', 'pending', 'unready', 'precious', 'fresh-ready', 'restarty', 'old-ready',
  ]);
  const plan = planReplicaSet(rs(4), pods, NOW);
  assert.equal(plan.create, 0);
  assert.deepEqual(plan.delete.map((p) => p.metadata.name), ['unscheduled', 'pending', 'unready']);
});

test('newer pods go first; ages in the same power-of-two bucket fall back to uid', () => {
  const a = pod('a', { created: 10, uid: 'u2' });
  const b = pod('b', { created: 5000, uid: 'u1' });
  assert.deepEqual(rankPodsForDeletion([b, a], NOW).map((p) => p.metadata.name), ['a', 'b']);
  // 100 s and 101 s ago share a log2 bucket: decided by uid
  const c = pod('c', { created: 100, uid: 'u9' });
  const e = pod('e', { created: 101, uid: 'u1' });
  assert.deepEqual(rankPodsForDeletion([c, e], NOW).map((p) => p.metadata.name), ['e', 'c']);
});

test('replicaSetStatus counts replicas, labels, readiness and availability with minReadySeconds', () => {
  const set = rs(4, { minReadySeconds: 30 });
  const pods = [
    pod('long-ready', { ready: true, readySince: 60 }),
    pod('just-ready', { ready: true, readySince: 10 }),
    pod('unready', { ready: false }),
    pod('mislabelled', { ready: true, readySince: 60, labels: { app: 'web' } }),
    pod('going', { ready: true, readySince: 60, deleting: true }),
    pod('done', { phase: 'Succeeded' }),
  ];
  assert.deepEqual(replicaSetStatus(set, pods, NOW), {
    replicas: 4, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 2, terminatingReplicas: 1, observedGeneration: 4,
  });
  assert.deepEqual(replicaSetPods(set, pods, NOW), { total: 4, ready: 3, available: 2, terminating: 1 });
  assert.equal(replicaSetStatus(rs(4), pods, NOW).availableReplicas, 3, 'no minReadySeconds: ready is available');
  // exactly minReadySeconds is not yet available (strictly after)
  assert.equal(isPodAvailable(pod('x', { ready: true, readySince: 30 }), 30, NOW), false);
  assert.equal(isPodAvailable(pod('x', { ready: true, readySince: 31 }), 30, NOW), true);
  assert.equal(podAvailableAt(pod('x', { ready: true, readySince: 10 }), 30)!.getTime(), NOW.getTime() + 20_000 + 1);
  assert.equal(podAvailableAt(pod('x', { ready: false }), 30), undefined);
});
