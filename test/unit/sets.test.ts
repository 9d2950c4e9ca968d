// The pure parts of StatefulSets, DaemonSets and their ControllerRevisions: defaulting and
// validation, what one controller sync decides, the status it writes, revision data and names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KObject } from '../../src/machinery/types.ts';
import { daemonSetCauses, daemonSets, defaultDaemonSet, defaultStatefulSet, statefulSetCauses } from '../../src/api/sets.ts';
import {
  claimOwnerRefs, newClaim, newStatefulSetPod, ordinalOf, planStatefulSet, statefulSetStatus,
} from '../../src/runtime/statefulsets.ts';
import { daemonSetStatus, newDaemonPod, nodeFits, planDaemonSet, type NodeInfo } from '../../src/runtime/daemonsets.ts';
import {
  canonicalJson, hashRevision, newRevision, revisionData, revisionsToTruncate, revisionTemplate, sortRevisions,
} from '../../src/runtime/revisions.ts';
import { STATEFULSET_STYLE } from '../../src/runtime/statefulsets.ts';

type Obj = Record<string, any>;
const NOW = new Date('2026-01-01T00:10:00Z');
const EARLIER = '2026-01-01T00:00:00Z';

function sts(spec: Obj = {}, status?: Obj): KObject {
  const o: KObject = {
    metadata: { name: 'web', namespace: 'ns', uid: 'sts-uid', generation: 2 },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'web' } }, serviceName: 'web',
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } },
      ...spec,
    },
  };
  defaultStatefulSet(o);
  if (status) o.status = status;
  return o;
}

function pod(name: string, opts: { ready?: boolean; rev?: string; terminating?: boolean; phase?: string; created?: string; uid?: string; labels?: Obj } = {}): KObject {
  const ready = opts.ready ?? true;
  return {
    metadata: {
      name, namespace: 'ns', uid: opts.uid ?? `${name}-uid`, creationTimestamp: opts.created ?? EARLIER,
      labels: { app: 'web', 'controller-revision-hash': opts.rev ?? 'web-old', ...(opts.labels ?? {}) },
      ...(opts.terminating ? { deletionTimestamp: EARLIER } : {}),
    },
    status: {
      phase: opts.phase ?? (ready ? 'Running' : 'Pending'),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: EARLIER }],
    },
  };
}

const names = (ps: KObject[]) => ps.map((p) => p.metadata.name);

// ---- StatefulSet strategy ------------------------------------------------------------------

test('StatefulSet defaults as apps/v1 (1.36)', () => {
  const o: KObject = { metadata: { name: 'x' }, spec: { volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: {} }], template: { spec: { containers: [] } } } };
  defaultStatefulSet(o);
  const s = o.spec as Obj;
  assert.equal(s.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(s.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 1 } });
  assert.deepEqual(s.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(s.replicas, 1);
  assert.equal(s.revisionHistoryLimit, 10);
  assert.equal(s.template.spec.restartPolicy, 'Always');
  assert.deepEqual(s.volumeClaimTemplates[0], { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'd' }, spec: { volumeMode: 'Filesystem' }, status: { phase: 'Pending' } });
  // OnDelete gets no rollingUpdate.
  const od: KObject = { metadata: { name: 'x' }, spec: { updateStrategy: { type: 'OnDelete' } } };
  defaultStatefulSet(od);
  assert.deepEqual((od.spec as Obj).updateStrategy, { type: 'OnDelete' });
});

test('StatefulSet validation: selector, restartPolicy, and the fields an update may not change', () => {
  assert.deepEqual(statefulSetCauses(sts(), undefined), []);
  const noSel = sts();
  delete (noSel.spec as Obj).selector;
  assert.deepEqual(statefulSetCauses(noSel, undefined).map((c) => c.field), ['spec.selector']);
  const mismatch = sts({ selector: { matchLabels: { app: 'other' } } });
  const c = statefulSetCauses(mismatch, undefined);
  assert.equal(c[0].field, 'spec.template.metadata.labels');
  assert.match(c[0].message!, /`selector` does not match template `labels`/);
  const never = sts();
  (never.spec as Obj).template.spec.restartPolicy = 'Never';
  assert.deepEqual(statefulSetCauses(never, undefined), [{ reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "Never": supported values: "Always"' }]);
  const old = sts();
  const renamed = sts({ serviceName: 'other' });
  assert.deepEqual(statefulSetCauses(renamed, old), [{
    reason: 'FieldValueForbidden', field: 'spec',
    message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  }]);
  const newSel = sts({ selector: { matchLabels: { app: 'web', x: 'y' } } });
  (newSel.spec as Obj).template.metadata.labels.x = 'y';
  assert.equal(statefulSetCauses(newSel, old)[0].field, 'spec');
  const allowed = sts({ replicas: 5, minReadySeconds: 3, ordinals: { start: 2 }, revisionHistoryLimit: 1, updateStrategy: { type: 'OnDelete' } });
  (allowed.spec as Obj).template.spec.containers[0].image = 'other';
  assert.deepEqual(statefulSetCauses(allowed, old), []);
  const badPolicy = sts({ podManagementPolicy: 'Sometimes' });
  assert.equal(statefulSetCauses(badPolicy, undefined)[0].message, "Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'");
});

// ---- StatefulSet planning ------------------------------------------------------------------

test('OrderedReady creates one ordinal at a time, each after its predecessor is ready', () => {
  const set = sts();
  assert.deepEqual(planStatefulSet(set, [], 'web-new', NOW), { create: [{ ordinal: 0, revision: 'update' }], delete: [] });
  assert.deepEqual(planStatefulSet(set, [pod('web-0', { ready: false })], 'web-new', NOW), { create: [], delete: [] });
  assert.deepEqual(planStatefulSet(set, [pod('web-0', { rev: 'web-new' })], 'web-new', NOW).create, [{ ordinal: 1, revision: 'update' }]);
  // A terminating predecessor blocks too (its replacement keeps the name).
  assert.deepEqual(planStatefulSet(set, [pod('web-0', { terminating: true })], 'web-new', NOW), { create: [], delete: [] });
});

test('Parallel creates every missing ordinal at once, from ordinals.start', () => {
  const set = sts({ podManagementPolicy: 'Parallel', ordinals: { start: 5 } });
  assert.deepEqual(planStatefulSet(set, [], 'web-new', NOW).create.map((c) => c.ordinal), [5, 6, 7]);
  assert.equal(ordinalOf(set, pod('web-7')), 7);
  assert.equal(ordinalOf(set, pod('web-x7')), undefined);
  assert.equal(ordinalOf(set, pod('webby-1')), undefined);
});

test('minReadySeconds: a pod ready for less time blocks the next ordinal', () => {
  const set = sts({ minReadySeconds: 3600 });
  assert.deepEqual(planStatefulSet(set, [pod('web-0', { rev: 'web-new' })], 'web-new', NOW).create, []);
});

test('scale down deletes the highest ordinal first and waits for it to go', () => {
  const set = sts({ replicas: 1 });
  const pods = ['web-0', 'web-1', 'web-2'].map((n) => pod(n, { rev: 'web-new' }));
  assert.deepEqual(names(planStatefulSet(set, pods, 'web-new', NOW).delete), ['web-2']);
  const dying = [pods[0], pods[1], pod('web-2', { rev: 'web-new', terminating: true })];
  assert.deepEqual(planStatefulSet(set, dying, 'web-new', NOW), { create: [], delete: [] });
  // Parallel does not wait.
  const par = sts({ replicas: 0, podManagementPolicy: 'Parallel' });
  assert.deepEqual(names(planStatefulSet(par, pods, 'web-new', NOW).delete), ['web-2', 'web-1', 'web-0']);
});

test('a failed pod is deleted so that it is recreated under the same name', () => {
  const set = sts({ replicas: 1 });
  assert.deepEqual(names(planStatefulSet(set, [pod('web-0', { phase: 'Failed', ready: false })], 'web-new', NOW).delete), ['web-0']);
});

test('RollingUpdate replaces from the highest ordinal down to the partition, one unavailable at a time', () => {
  const set = sts();
  const old = ['web-0', 'web-1', 'web-2'].map((n) => pod(n));
  assert.deepEqual(names(planStatefulSet(set, old, 'web-new', NOW).delete), ['web-2']);
  // The replacement is not ready yet: wait.
  const rolling = [old[0], old[1], pod('web-2', { rev: 'web-new', ready: false })];
  assert.deepEqual(planStatefulSet(set, rolling, 'web-new', NOW), { create: [], delete: [] });
  const next = [old[0], old[1], pod('web-2', { rev: 'web-new' })];
  assert.deepEqual(names(planStatefulSet(set, next, 'web-new', NOW).delete), ['web-1']);
  // Partition 2: ordinals below stay at the current revision, and are recreated there.
  const part = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
  assert.deepEqual(planStatefulSet(part, next, 'web-new', NOW), { create: [], delete: [] });
  assert.deepEqual(planStatefulSet(part, [], 'web-new', NOW).create, [{ ordinal: 0, revision: 'current' }]);
  // OnDelete never deletes for an update.
  const od = sts({ updateStrategy: { type: 'OnDelete' } });
  assert.deepEqual(planStatefulSet(od, old, 'web-new', NOW), { create: [], delete: [] });
  // maxUnavailable 2 under Parallel: two at once.
  const par = sts({ podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } });
  assert.deepEqual(names(planStatefulSet(par, old, 'web-new', NOW).delete), ['web-2', 'web-1']);
});

test('status counts pods per revision and completes a rolling update', () => {
  const set = sts({}, { currentRevision: 'web-old' });
  const mid = [pod('web-0'), pod('web-1'), pod('web-2', { rev: 'web-new', ready: false })];
  assert.deepEqual(statefulSetStatus(set, mid, 'web-old', 'web-new', 0, NOW), {
    observedGeneration: 2, replicas: 3, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 1, availableReplicas: 2,
    currentRevision: 'web-old', updateRevision: 'web-new', collisionCount: 0,
  });
  const done = ['web-0', 'web-1', 'web-2'].map((n) => pod(n, { rev: 'web-new' }));
  const st = statefulSetStatus(set, done, 'web-old', 'web-new', 0, NOW);
  assert.equal(st.currentRevision, 'web-new');
  assert.equal(st.currentReplicas, 3);
  assert.equal(statefulSetStatus(sts(), [], 'web-a', 'web-a', 0, NOW).readyReplicas, undefined);
});

test('a StatefulSet pod: identity labels, hostname/subdomain, claims before other volumes', () => {
  const set = sts({ volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] });
  (set.spec as Obj).template.spec.volumes = [{ name: 'cfg', emptyDir: {} }, { name: 'data', emptyDir: {} }];
  const p = newStatefulSetPod(set, (set.spec as Obj).template, 4, 'web-abc');
  assert.equal(p.metadata.name, 'web-4');
  assert.deepEqual(p.metadata.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-4', 'apps.kubernetes.io/pod-index': '4', 'controller-revision-hash': 'web-abc' });
  assert.equal((p.spec as Obj).hostname, 'web-4');
  assert.equal((p.spec as Obj).subdomain, 'web');
  assert.deepEqual((p.spec as Obj).volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-4' } }, { name: 'cfg', emptyDir: {} }]);
  assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: true, blockOwnerDeletion: true }]);
  const claim = newClaim(set, { metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'] } }, 4);
  assert.deepEqual(claim.metadata, { name: 'data-web-4', namespace: 'ns', labels: { tier: 'db', app: 'web' } });
});

test('claim owner references follow persistentVolumeClaimRetentionPolicy', () => {
  const p = pod('web-2');
  const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'sts-uid' };
  const podRef = { apiVersion: 'v1', kind: 'Pod', name: 'web-2', uid: 'web-2-uid' };
  const policy = (whenDeleted: string, whenScaled: string) => sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted, whenScaled } });
  assert.deepEqual(claimOwnerRefs([setRef, podRef], policy('Retain', 'Retain'), p, false), []);
  assert.deepEqual(claimOwnerRefs(undefined, policy('Delete', 'Retain'), p, false), [setRef]);
  assert.deepEqual(claimOwnerRefs(undefined, policy('Retain', 'Delete'), p, false), [podRef]);
  assert.deepEqual(claimOwnerRefs([podRef], policy('Retain', 'Delete'), p, true), []);
  assert.deepEqual(claimOwnerRefs([setRef], policy('Delete', 'Delete'), p, false), [podRef]);
  assert.deepEqual(claimOwnerRefs([podRef], policy('Delete', 'Delete'), p, true), [setRef]);
});

// ---- revisions -----------------------------------------------------------------------------

test('revision data is the template-replacing patch in sorted-key JSON; the hash follows the data', () => {
  const set = sts();
  const data = revisionData(set);
  assert.equal(data.spec.template.$patch, 'replace');
  assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
  const rev = newRevision(set, STATEFULSET_STYLE, 1, 0);
  const hash = hashRevision(data, 0);
  assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(rev.metadata.name, `web-${hash}`);
  assert.deepEqual(rev.metadata.labels, { app: 'web', 'controller.kubernetes.io/hash': hash });
  assert.equal((rev as Obj).revision, 1);
  assert.deepEqual(revisionTemplate(rev), (set.spec as Obj).template);
  assert.notEqual(hashRevision(data, 1), hash, 'a collision count changes the name');
  const other = sts();
  (other.spec as Obj).template.spec.containers[0].image = 'other';
  assert.notEqual(newRevision(other, STATEFULSET_STYLE, 2, 0).metadata.name, rev.metadata.name);
});

test('history truncation keeps live revisions and the newest historic ones', () => {
  const r = (name: string, revision: number) => ({ metadata: { name, creationTimestamp: EARLIER }, revision }) as KObject;
  const revs = [r('a', 1), r('b', 2), r('c', 3), r('d', 4), r('e', 5)];
  assert.deepEqual(names(sortRevisions([...revs].reverse())), ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(names(revisionsToTruncate(revs, new Set(['e', 'a']), 2)), ['b']);
  assert.deepEqual(revisionsToTruncate(revs, new Set(['e']), 10), []);
});

// ---- DaemonSet ---------------------------------------------------------------------------

function ds(spec: Obj = {}): KObject {
  const o: KObject = {
    metadata: { name: 'agent', namespace: 'ns', uid: 'ds-uid', generation: 1, annotations: { 'deprecated.daemonset.template.generation': '2' } },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } }, ...spec },
  };
  defaultDaemonSet(o);
  return o;
}
const NODE: NodeInfo = { name: 'node1', labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/hostname': 'node1' }, taints: [] };

test('DaemonSet defaults, validation, and template generation', () => {
  const d = ds();
  assert.deepEqual((d.spec as Obj).updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal((d.spec as Obj).revisionHistoryLimit, 10);
  assert.deepEqual(daemonSetCauses(d, undefined), []);
  const moved = ds({ selector: { matchLabels: { app: 'web', x: '1' } } });
  (moved.spec as Obj).template.metadata.labels.x = '1';
  assert.deepEqual(daemonSetCauses(moved, d).map((c) => c.field), ['spec.selector']);
  assert.match(daemonSetCauses(moved, d)[0].message!, /field is immutable$/);
  const zero = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } });
  assert.equal(daemonSetCauses(zero, undefined)[0].message, 'Invalid value: 0: may not be 0 when `maxSurge` is 0');
  const strategy = daemonSets();
  const created: KObject = { metadata: { name: 'a' }, spec: clone((d.spec as Obj)) };
  strategy.prepareForCreate!(created, {} as never);
  assert.equal(created.metadata.annotations!['deprecated.daemonset.template.generation'], '1');
  const same: KObject = { metadata: { name: 'a' }, spec: clone((d.spec as Obj)) };
  strategy.prepareForUpdate!(same, created, {} as never);
  assert.equal(same.metadata.annotations!['deprecated.daemonset.template.generation'], '1');
  const changed: KObject = { metadata: { name: 'a' }, spec: clone((d.spec as Obj)) };
  (changed.spec as Obj).template.spec.containers[0].image = 'new';
  strategy.prepareForUpdate!(changed, same, {} as never);
  assert.equal(changed.metadata.annotations!['deprecated.daemonset.template.generation'], '2');
});

function clone<T>(v: T): T { return structuredClone(v); }

test('node fit: nodeSelector, required node affinity, taints', () => {
  assert.ok(nodeFits({}, NODE));
  assert.ok(nodeFits({ nodeSelector: { 'kubernetes.io/os': 'linux' } }, NODE));
  assert.ok(!nodeFits({ nodeSelector: { disk: 'ssd' } }, NODE));
  const affinity = (exprs: Obj[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: exprs }] } } } });
  assert.ok(nodeFits(affinity([{ key: 'kubernetes.io/os', operator: 'In', values: ['linux', 'windows'] }]), NODE));
  assert.ok(!nodeFits(affinity([{ key: 'kubernetes.io/os', operator: 'NotIn', values: ['linux'] }]), NODE));
  assert.ok(nodeFits({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node1'] }] }] } } } }, NODE));
  const tainted = { ...NODE, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] };
  assert.ok(!nodeFits({}, tainted));
  assert.ok(nodeFits({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }, tainted));
  assert.ok(nodeFits({}, { ...NODE, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }));
});

const dpod = (name: string, hash: string, opts: { ready?: boolean; created?: string; terminating?: boolean } = {}) =>
  pod(name, { ready: opts.ready, created: opts.created, terminating: opts.terminating, rev: hash });

test('DaemonSet planning: one pod when the node fits, none otherwise; RollingUpdate with and without surge; OnDelete', () => {
  const d = ds();
  assert.deepEqual(planDaemonSet(d, NODE, [], 'h2', NOW), { create: true, delete: [] });
  assert.deepEqual(planDaemonSet(d, undefined, [], 'h2', NOW), { create: false, delete: [] });
  const off = ds({ template: { metadata: { labels: { app: 'web' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [] } } });
  assert.deepEqual(names(planDaemonSet(off, NODE, [dpod('agent-a', 'h2')], 'h2', NOW).delete), ['agent-a']);
  // Up to date: nothing; two pods: the newer goes.
  assert.deepEqual(planDaemonSet(d, NODE, [dpod('agent-a', 'h2')], 'h2', NOW), { create: false, delete: [] });
  assert.deepEqual(names(planDaemonSet(d, NODE, [dpod('agent-b', 'h2', { created: '2026-01-01T00:05:00Z' }), dpod('agent-a', 'h2')], 'h2', NOW).delete), ['agent-b']);
  // maxSurge 0: the outdated pod goes first; its replacement comes with the next sync.
  assert.deepEqual(names(planDaemonSet(d, NODE, [dpod('agent-a', 'h1')], 'h2', NOW).delete), ['agent-a']);
  // While it terminates, the new one is created.
  assert.deepEqual(planDaemonSet(d, NODE, [dpod('agent-a', 'h1', { terminating: true })], 'h2', NOW), { create: true, delete: [] });
  // maxSurge 1: create the new one first, delete the old once the new is available.
  const surge = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
  assert.deepEqual(planDaemonSet(surge, NODE, [dpod('agent-a', 'h1')], 'h2', NOW), { create: true, delete: [] });
  const pending = [dpod('agent-a', 'h1'), dpod('agent-b', 'h2', { ready: false, created: '2026-01-01T00:05:00Z' })];
  assert.deepEqual(planDaemonSet(surge, NODE, pending, 'h2', NOW), { create: false, delete: [] });
  const up = [dpod('agent-a', 'h1'), dpod('agent-b', 'h2', { created: '2026-01-01T00:05:00Z' })];
  assert.deepEqual(names(planDaemonSet(surge, NODE, up, 'h2', NOW).delete), ['agent-a']);
  const onDelete = ds({ updateStrategy: { type: 'OnDelete' } });
  assert.deepEqual(planDaemonSet(onDelete, NODE, [dpod('agent-a', 'h1')], 'h2', NOW), { create: false, delete: [] });
});

test('DaemonSet status and pod', () => {
  const d = ds();
  assert.deepEqual(daemonSetStatus(d, NODE, [dpod('agent-a', 'h2')], 'h2', 0, NOW), {
    currentNumberScheduled: 1, numberMisscheduled: 0, desiredNumberScheduled: 1, numberReady: 1, observedGeneration: 1,
    updatedNumberScheduled: 1, numberAvailable: 1,
  });
  assert.deepEqual(daemonSetStatus(d, NODE, [dpod('agent-a', 'h1', { ready: false })], 'h2', 0, NOW), {
    currentNumberScheduled: 1, numberMisscheduled: 0, desiredNumberScheduled: 1, numberReady: 0, observedGeneration: 1, numberUnavailable: 1,
  });
  const off = ds({ template: { metadata: { labels: { app: 'web' } }, spec: { nodeSelector: { disk: 'ssd' }, containers: [] } } });
  assert.deepEqual(daemonSetStatus(off, NODE, [], 'h2', 0, NOW), { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0, observedGeneration: 1 });
  const p = newDaemonPod(d, 'h2', 'node1');
  assert.equal(p.metadata.generateName, 'agent-');
  assert.deepEqual(p.metadata.labels, { app: 'web', 'controller-revision-hash': 'h2', 'pod-template-generation': '2' });
  assert.deepEqual((p.spec as Obj).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0], { key: 'metadata.name', operator: 'In', values: ['node1'] });
  assert.ok(((p.spec as Obj).tolerations as Obj[]).some((t) => t.key === 'node.kubernetes.io/unschedulable'));
});
