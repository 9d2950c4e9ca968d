import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { SchemaNav } from '../../src/machinery/schema.ts';
import { applyServerSide, updateManagedFields } from '../../src/machinery/patch/index.ts';
import { FieldSet, fieldPE, pathString, type Path } from '../../src/machinery/patch/fieldpath.ts';
import { ApiError } from '../../src/machinery/errors.ts';
import type { KObject, ManagedFieldsEntry } from '../../src/machinery/types.ts';
import { loadUpstream, upstreamPath } from '../../codegen/upstream.ts';

const nav = new SchemaNav(loadUpstream(upstreamPath(fileURLToPath(new URL('../..', import.meta.url)))).definitions);
const CM = nav.root('io.k8s.api.core.v1.ConfigMap');
const DEPLOY = nav.root('io.k8s.api.apps.v1.Deployment');

type Obj = Record<string, any>;
const T0 = '2024-05-01T10:00:00.123Z', T1 = '2024-05-01T10:01:00Z', T2 = '2024-05-01T10:02:00Z', T3 = '2024-05-01T10:03:00Z';
const fields = (o: KObject) => (o.metadata.managedFields ?? []).map((e) => [e.manager, e.operation, e.fieldsV1]);

function catchApi(fn: () => unknown): ApiError {
  try { fn(); } catch (e) { if (e instanceof ApiError) return e; throw e; }
  assert.fail('expected an ApiError');
}

const cm = (data: Obj, extra: Obj = {}): KObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', ...extra }, data });
const applyCM = (live: KObject | null, data: Obj, manager: string, now: string, force = false, extra: Obj = {}) =>
  applyServerSide({ live, applied: cm(data, extra), manager, force, node: CM, apiVersion: 'v1', kind: 'ConfigMap', now });
/** What the registry does on a create/update: store `after` with the managedFields computed. */
function write(before: KObject | null, after: KObject, manager: string, now: string, subresource?: string): KObject {
  const out = structuredClone(after);
  const mf = updateManagedFields({ before, after, manager, apiVersion: 'v1', now, node: CM, subresource });
  if (mf) out.metadata.managedFields = mf; else delete out.metadata.managedFields;
  out.metadata.uid ??= 'uid-1';
  return out;
}

// ------------------------------------------------------------------ FieldsV1 encoding

test('FieldsV1: upstream key order, `.` for a member that also has children, and a round trip', () => {
  const p = (...names: (string | [string, unknown][] | { v: unknown })[]): Path =>
    names.map((n) => (typeof n === 'string' ? fieldPE(n) : Array.isArray(n) ? { t: 'k', fields: n } : { t: 'v', value: n.v }));
  const s = FieldSet.of(
    p('spec', 'containers', [['name', 'web']]),
    p('spec', 'containers', [['name', 'web']], 'image'),
    p('spec', 'containers', [['name', 'a<b']]),
    p('metadata', 'finalizers', { v: 'x' }),
    p('spec', 'replicas'),
    p('data'),
  );
  const f = s.toFields() as Obj;
  assert.deepEqual(f, {
    'f:data': {},
    'f:metadata': { 'f:finalizers': { 'v:"x"': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"a\\u003cb"}': {}, 'k:{"name":"web"}': { '.': {}, 'f:image': {} } }, 'f:replicas': {} },
  });
  // key order is part of the format: fields before keys, sorted, members and children interleaved
  assert.deepEqual(Object.keys(f), ['f:data', 'f:metadata', 'f:spec']);
  assert.deepEqual(Object.keys(f['f:spec']['f:containers']), ['k:{"name":"a\\u003cb"}', 'k:{"name":"web"}']);
  assert.deepEqual(FieldSet.fromFields(f).toFields(), f);
  assert.equal(pathString(p('spec', 'containers', [['name', 'web']], 'image')), '.spec.containers[name="web"].image');
  assert.equal(pathString(p('spec', 'ports', [['containerPort', 80], ['protocol', 'TCP']])), '.spec.ports[containerPort=80,protocol="TCP"]');
});

// ------------------------------------------------------------------ Update (create/update/patch)

test('create records every field set, with `.` for maps the empty object lacks', () => {
  const o = write(null, cm({ a: '1' }, { labels: { app: 'web' } }), 'kubectl-create', T0);
  assert.deepEqual(o.metadata.managedFields, [{
    manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1',
    fieldsV1: { 'f:data': { '.': {}, 'f:a': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } },
  }]);
  // name, namespace, uid, resourceVersion, generation, creationTimestamp are never tracked
  const bare = write(null, cm(undefined as any, { uid: 'u', resourceVersion: '5', generation: 1, creationTimestamp: T1 }), 'x', T0);
  assert.equal(bare.metadata.managedFields, undefined);
});

test('Deployment create: containers by name, ports keyed with the defaulted protocol', () => {
  const d: KObject = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] } } },
    status: { replicas: 1 },
  };
  const mf = updateManagedFields({ after: d, manager: 'kubectl-create', apiVersion: 'apps/v1', now: T0, node: DEPLOY })!;
  assert.deepEqual(mf[0].fieldsV1, {
    'f:spec': {
      'f:replicas': {}, 'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {},
          'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } },
      },
    },
  }, 'no status on the main resource; selector is an atomic map');
  const st = updateManagedFields({ before: { ...d, metadata: { ...d.metadata, uid: 'u', managedFields: mf } },
    after: { ...d, status: { replicas: 2, readyReplicas: 2 } }, manager: 'kube-controller-manager', apiVersion: 'apps/v1', now: T1, node: DEPLOY, subresource: 'status' })!;
  assert.deepEqual(st.map((e) => [e.manager, e.subresource, e.fieldsV1]), [
    ['kubectl-create', undefined, mf[0].fieldsV1],
    ['kube-controller-manager', 'status', { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } }],
  ]);
});

test('an update takes the fields it changes from other managers; an unchanged write changes nothing', () => {
  const a = write(null, cm({ a: '1', b: '2' }), 'creator', T0);
  const b = write(a, { ...a, data: { a: '1', b: '3', c: '4' } }, 'editor', T1);
  assert.deepEqual(fields(b), [
    ['creator', 'Update', { 'f:data': { '.': {}, 'f:a': {} } }],
    ['editor', 'Update', { 'f:data': { 'f:b': {}, 'f:c': {} } }],
  ]);
  const same = write(b, b, 'editor', T2);
  assert.deepEqual(same.metadata.managedFields, b.metadata.managedFields, 'times unchanged too');
  const removed = write(b, { ...b, data: { a: '1' } }, 'third', T2);
  assert.deepEqual(fields(removed), [['creator', 'Update', { 'f:data': { '.': {}, 'f:a': {} } }]], 'empty entries are dropped');
});

test('objects without managedFields stay untracked; a client may reset them with []', () => {
  const legacy = { ...cm({ a: '1' }), metadata: { name: 'c', uid: 'u' } } as KObject;
  assert.equal(updateManagedFields({ before: legacy, after: { ...legacy, data: { a: '2' } }, manager: 'm', apiVersion: 'v1', now: T0, node: CM }), undefined);
  const tracked = write(null, cm({ a: '1' }), 'creator', T0);
  const reset = structuredClone(tracked);
  reset.metadata.managedFields = [];
  assert.equal(updateManagedFields({ before: tracked, after: reset, manager: 'm', apiVersion: 'v1', now: T1, node: CM }), undefined);
  const sent = structuredClone(tracked);
  sent.metadata.managedFields = [{ manager: 'other', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }];
  assert.deepEqual(updateManagedFields({ before: tracked, after: sent, manager: 'm', apiVersion: 'v1', now: T1, node: CM })!.map((e) => e.manager), ['other'],
    'managedFields sent by the client replace the stored ones');
});

test('more than ten Update managers fold the oldest into ancient-changes', () => {
  let o = write(null, cm({ k0: '0' }), 'm0', '2024-01-01T00:00:00Z');
  for (let i = 1; i <= 11; i++) {
    o = write(o, { ...o, data: { ...o.data as Obj, [`k${i}`]: String(i) } }, `m${i}`, `2024-01-01T00:${String(i).padStart(2, '0')}:00Z`);
  }
  const mf = o.metadata.managedFields as ManagedFieldsEntry[];
  assert.equal(mf.length, 10);
  const ancient = mf.find((e) => e.manager === 'ancient-changes')!;
  assert.deepEqual(ancient.fieldsV1, { 'f:data': { '.': {}, 'f:k0': {}, 'f:k1': {}, 'f:k2': {} } });
  assert.equal(ancient.time, '2024-01-01T00:02:00Z');
});

// ------------------------------------------------------------------ server-side apply

test('apply creates an object owned by the applier', () => {
  const r = applyCM(null, { a: '1' }, 'kubectl', T0, false, { labels: { app: 'web' } });
  assert.equal(r.changed, true);
  assert.deepEqual(r.object.data, { a: '1' });
  assert.deepEqual(r.object.metadata.managedFields, [{
    manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1',
    fieldsV1: { 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:app': {} } } },
  }]);
});

test('two managers: a conflict without force, ownership moves with force', () => {
  const live = write(null, cm({ a: '1', keep: 'x' }), 'kubectl-client-side-apply', T0);
  const e = catchApi(() => applyCM(live, { a: '2', b: '3' }, 'kubectl', T1));
  assert.equal(e.code, 409);
  assert.equal(e.reason, 'Conflict');
  assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.a');
  assert.deepEqual(e.toStatus().details, {
    causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using v1', field: '.data.a' }],
  });

  const r = applyCM(live, { a: '2', b: '3' }, 'kubectl', T1, true);
  assert.deepEqual(r.conflicts, [{ manager: 'kubectl-client-side-apply', field: '.data.a' }]);
  assert.deepEqual(r.object.data, { a: '2', keep: 'x', b: '3' });
  assert.deepEqual(fields(r.object), [
    ['kubectl', 'Apply', { 'f:data': { 'f:a': {}, 'f:b': {} } }],
    ['kubectl-client-side-apply', 'Update', { 'f:data': { '.': {}, 'f:keep': {} } }],
  ]);
  // the same value is no conflict: both appliers own the field. The object does not change,
  // so upstream records no time for the new applier (and sorts it first).
  const shared = applyCM(r.object, { a: '2' }, 'helm', T2);
  assert.equal(shared.changed, false);
  const helm = shared.object.metadata.managedFields![0];
  assert.deepEqual([helm.manager, helm.time, helm.fieldsV1], ['helm', undefined, { 'f:data': { 'f:a': {} } }]);
  assert.deepEqual(fields(shared.object)[1], fields(r.object)[0]);
});

test('conflicts with several managers are listed per manager, sorted', () => {
  let live = applyCM(null, { a: '1' }, 'alpha', T0).object;
  live = applyCM(live, { b: '1', c: '1' }, 'beta', T1).object;
  const e = catchApi(() => applyCM(live, { a: '2', b: '2', c: '2' }, 'gamma', T2));
  assert.equal(e.message, 'Apply failed with 3 conflicts: conflicts with "alpha":\n- .data.a\nconflicts with "beta":\n- .data.b\n- .data.c');
  assert.deepEqual(e.details?.causes?.map((c) => [c.message, c.field]), [
    ['conflict with "alpha"', '.data.a'], ['conflict with "beta"', '.data.b'], ['conflict with "beta"', '.data.c']]);
});

test('a field the applier drops is removed, unless another manager owns it', () => {
  const one = applyCM(null, { a: '1', b: '2', c: '3' }, 'apply-one', T0).object;
  const two = applyCM(one, { c: '3', d: '4' }, 'apply-two', T1).object;
  const r = applyCM(two, { a: '1' }, 'apply-one', T2);
  assert.deepEqual(r.object.data, { a: '1', c: '3', d: '4' });
  assert.deepEqual(fields(r.object), [
    ['apply-two', 'Apply', { 'f:data': { 'f:c': {}, 'f:d': {} } }],
    ['apply-one', 'Apply', { 'f:data': { 'f:a': {} } }],
  ]);
  // a field an Update manager also set stays when the applier drops it
  const edited = write(r.object, { ...r.object, data: { ...r.object.data as Obj, a: '1', e: '5' } }, 'editor', T3);
  const again = applyCM(edited, { a: '1', e: '5' }, 'apply-one', T3);
  const dropped = applyCM(again.object, { a: '1' }, 'apply-one', T3);
  assert.equal((dropped.object.data as Obj).e, '5');
});

test('list-map items keep their place; another applier\'s items are untouched', () => {
  const dep = (containers: Obj[]) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } } });
  const apply = (live: KObject | null, containers: Obj[], manager: string) =>
    applyServerSide({ live, applied: dep(containers), manager, node: DEPLOY, apiVersion: 'apps/v1', now: T1 }).object;
  let o = apply(null, [{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }], 'one');
  o = apply(o, [{ name: 'side', image: 's' }], 'two');
  o = apply(o, [{ name: 'a', image: 'a2' }], 'one');
  assert.deepEqual((o.spec as Obj).template.spec.containers, [{ name: 'a', image: 'a2' }, { name: 'side', image: 's' }]);
  const e = catchApi(() => apply(o, [{ name: 'a', image: 'a2' }, { name: 'side', image: 'other' }], 'one'));
  assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "two": .spec.template.spec.containers[name="side"].image');
});

test('set lists are owned per value', () => {
  const fin = (f: string[]) => applyServerSide({ live: null, manager: 'm', node: CM, apiVersion: 'v1', now: T0,
    applied: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', finalizers: f } } });
  assert.deepEqual(fin(['example.com/a']).object.metadata.managedFields![0].fieldsV1,
    { 'f:metadata': { 'f:finalizers': { 'v:"example.com/a"': {} } } });
});

test('a no-op apply keeps the object and the applier\'s time', () => {
  const first = applyCM(null, { a: '1' }, 'kubectl', T0).object;
  const r = applyCM(first, { a: '1' }, 'kubectl', T2);
  assert.equal(r.changed, false);
  assert.deepEqual(r.object, first);
});

test('moving from client-side to server-side apply: the last-applied fields are no conflict', () => {
  const manifest = cm({ a: '1' });
  const annotation = JSON.stringify(manifest);
  const live = write(null, cm({ a: '1' }, { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': annotation } }),
    'kubectl-client-side-apply', T0);
  const r = applyCM(live, { a: '2' }, 'kubectl', T1);
  assert.deepEqual(r.object.data, { a: '2' });
  assert.equal((r.object.metadata.annotations as Obj)['kubectl.kubernetes.io/last-applied-configuration'],
    '{"apiVersion":"v1","data":{"a":"2"},"kind":"ConfigMap","metadata":{"name":"c","namespace":"default"}}\n');
  // another manager name gets the conflict
  assert.equal(catchApi(() => applyCM(live, { a: '2' }, 'helm', T1)).code, 409);
});

test('objects without managedFields: existing fields go to before-first-apply', () => {
  const legacy = { ...cm({ a: '1', b: '2' }), metadata: { name: 'c', namespace: 'default', uid: 'u' } } as KObject;
  const r = applyCM(legacy, { a: '1' }, 'kubectl', T1);
  assert.deepEqual(fields(r.object), [
    ['kubectl', 'Apply', { 'f:data': { 'f:a': {} } }],
    ['before-first-apply', 'Update', { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} } }],
  ]);
});

test('apply errors the apiserver returns', () => {
  let e = catchApi(() => applyServerSide({ live: null, applied: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'c' } }, manager: 'm', node: CM, apiVersion: 'v1', kind: 'ConfigMap', now: T0 }));
  assert.deepEqual([e.code, e.reason, e.message], [400, 'BadRequest', 'invalid object type: /v1, Kind=Secret']);
  e = catchApi(() => applyServerSide({ live: null, applied: { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'c' } }, manager: 'm', node: CM, apiVersion: 'v1', kind: 'ConfigMap', now: T0 }));
  assert.equal(e.message, 'invalid object type: apps/v1, Kind=ConfigMap');
  e = catchApi(() => applyCM(null, { a: '1' }, 'm', T0, false, { managedFields: [] }));
  assert.deepEqual([e.code, e.message], [400, 'metadata.managedFields must be nil']);
  e = catchApi(() => applyServerSide({ live: null, applied: { ...cm({ a: '1' }), datas: {} }, manager: 'm', node: CM, apiVersion: 'v1', now: T0 }));
  assert.deepEqual([e.code, e.reason, e.message], [500, '', 'failed to create typed patch object (default/c; /v1, Kind=ConfigMap): .datas: field not declared in schema']);
  e = catchApi(() => applyServerSide({ live: null, manager: 'm', node: DEPLOY, apiVersion: 'apps/v1', now: T0,
    applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ name: 'x' }, { name: 'x' }] } } } } }));
  assert.equal(e.message, 'failed to create typed patch object (/d; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name="x"]');
});

test('inputs are not mutated', () => {
  const live = write(null, cm({ a: '1' }), 'x', T0);
  const copy = structuredClone(live);
  const applied = cm({ b: '2' });
  applyCM(live, { b: '2' }, 'kubectl', T1);
  updateManagedFields({ before: live, after: live, manager: 'y', apiVersion: 'v1', now: T1, node: CM });
  assert.deepEqual(live, copy);
  assert.deepEqual(applied, cm({ b: '2' }));
});

test('type errors in an applied configuration are worded as upstream words them', () => {
  const bad = (spec: Obj) => catchApi(() => applyServerSide({ live: null, manager: 'm', node: DEPLOY, apiVersion: 'apps/v1', now: T0,
    applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' }, spec } })).message;
  const pre = 'failed to create typed patch object (ns/d; apps/v1, Kind=Deployment): ';
  assert.equal(bad({ replicas: 'two' }), pre + '.spec.replicas: expected numeric (int or float), got string');
  assert.equal(bad({ paused: 'yes' }), pre + '.spec.paused: expected boolean, got &{yes}');
  assert.equal(bad({ template: { spec: { containers: [{ name: 'x', image: 1 }] } } }),
    pre + '.spec.template.spec.containers[name="x"].image: expected string, got &value.valueUnstructured{Value:1}');
  // IntOrString and Quantity accept numbers and strings
  assert.doesNotThrow(() => applyServerSide({ live: null, manager: 'm', node: DEPLOY, apiVersion: 'apps/v1', now: T0,
    applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { strategy: { rollingUpdate: { maxSurge: 1 } },
      template: { spec: { containers: [{ name: 'x', resources: { limits: { cpu: 1, memory: '1Gi' } } }] } } } } }));
});
