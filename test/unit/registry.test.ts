// The generic registry without HTTP: resourceVersions, conflicts, generateName, finalizers,
// garbage collection, watch replay and streaming-list order.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Registry } from '../../src/machinery/registry.ts';
import type { KindInfo, KObject } from '../../src/machinery/types.ts';
import { ApiError } from '../../src/machinery/errors.ts';
import { negotiate, acceptsAggregatedDiscovery } from '../../src/server/negotiate.ts';

const kinds = JSON.parse(readFileSync(new URL('../../generated/kinds.json', import.meta.url), 'utf8')) as KindInfo[];

function fresh(): { reg: Registry; cm: KindInfo; ns: KindInfo } {
  const reg = new Registry(kinds, undefined, { objects: [], resourceVersion: 0 });
  return { reg, cm: reg.kind('configmaps'), ns: reg.kind('namespaces') };
}

async function withNs(): Promise<ReturnType<typeof fresh>> {
  const f = fresh();
  await f.reg.create(f.ns, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  return f;
}

const cmObj = (name: string, extra: Partial<KObject> = {}): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...extra });

test('create assigns uid, creationTimestamp and a growing resourceVersion', async () => {
  const { reg, cm } = await withNs();
  const a = await reg.create(cm, 'default', cmObj('a'));
  const b = await reg.create(cm, 'default', cmObj('b'));
  assert.match(a.metadata.uid!, /^[0-9a-f-]{36}$/);
  assert.match(a.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
  assert.equal(a.metadata.generation, undefined, 'ConfigMaps have no generation');
  await assert.rejects(reg.create(cm, 'default', cmObj('a')), (e: ApiError) => e.code === 409 && e.reason === 'AlreadyExists');
});

test('generateName makes a name; a missing namespace is a 404', async () => {
  const { reg, cm } = await withNs();
  const o = await reg.create(cm, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
  assert.match(o.metadata.name!, /^gen-[a-z0-9]{5}$/);
  await assert.rejects(reg.create(cm, 'nope', cmObj('x')), (e: ApiError) => e.code === 404 && /namespaces "nope" not found/.test(e.message));
});

test('update with a stale resourceVersion is a 409; a no-op keeps the resourceVersion', async () => {
  const { reg, cm } = await withNs();
  const a = await reg.create(cm, 'default', cmObj('a', { data: { k: '1' } }));
  const { object: u } = await reg.update(cm, 'default', 'a', { ...a, data: { k: '2' } });
  assert.ok(Number(u.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
  await assert.rejects(reg.update(cm, 'default', 'a', { ...a, data: { k: '3' } }), (e: ApiError) => e.code === 409 && e.reason === 'Conflict');
  const { object: same } = await reg.update(cm, 'default', 'a', u);
  assert.equal(same.metadata.resourceVersion, u.metadata.resourceVersion);
});

test('dry run stores nothing', async () => {
  const { reg, cm } = await withNs();
  const rv = reg.resourceVersion;
  await reg.create(cm, 'default', cmObj('dry'), { dryRun: true });
  assert.equal(reg.resourceVersion, rv);
  await assert.rejects(reg.get(cm, 'default', 'dry'), (e: ApiError) => e.code === 404);
});

test('finalizers keep the object with a deletionTimestamp until removed', async () => {
  const { reg, cm } = await withNs();
  const a = await reg.create(cm, 'default', cmObj('f', { metadata: { name: 'f', finalizers: ['x/y'] } }));
  const d = await reg.delete(cm, 'default', 'f');
  assert.equal(d.finished, false);
  const held = await reg.get(cm, 'default', 'f');
  assert.ok(held.metadata.deletionTimestamp);
  await reg.update(cm, 'default', 'f', { ...held, metadata: { ...held.metadata, finalizers: [] } });
  await assert.rejects(reg.get(cm, 'default', 'f'), (e: ApiError) => e.code === 404);
  void a;
});

test('background deletion collects dependents; orphan strips the owner reference', async () => {
  const { reg, cm } = await withNs();
  const owner = await reg.create(cm, 'default', cmObj('owner'));
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid! };
  await reg.create(cm, 'default', cmObj('dep', { metadata: { name: 'dep', ownerReferences: [ref] } }));
  await reg.delete(cm, 'default', 'owner');
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(reg.get(cm, 'default', 'dep'), (e: ApiError) => e.code === 404);
  const o2 = await reg.create(cm, 'default', cmObj('owner2'));
  await reg.create(cm, 'default', cmObj('dep2', { metadata: { name: 'dep2', ownerReferences: [{ ...ref, name: 'owner2', uid: o2.metadata.uid! }] } }));
  await reg.delete(cm, 'default', 'owner2', { propagationPolicy: 'Orphan' });
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(reg.get(cm, 'default', 'owner2'), (e: ApiError) => e.code === 404);
  const dep2 = await reg.get(cm, 'default', 'dep2');
  assert.equal(dep2.metadata.ownerReferences, undefined);
});

test('list pages with limit/continue and filters by labels and fields', async () => {
  const { reg, cm } = await withNs();
  for (let i = 0; i < 5; i++) await reg.create(cm, 'default', cmObj(`c${i}`, { metadata: { name: `c${i}`, labels: { odd: String(i % 2) } } }));
  const p1 = await reg.list(cm, 'default', { limit: 2 });
  assert.deepEqual(p1.items.map((o) => o.metadata.name), ['c0', 'c1']);
  assert.equal(p1.remainingItemCount, 3);
  const p2 = await reg.list(cm, 'default', { limit: 2, continue: p1.continue });
  assert.deepEqual(p2.items.map((o) => o.metadata.name), ['c2', 'c3']);
  const odd = await reg.list(cm, 'default', { labelSelector: 'odd=1' });
  assert.deepEqual(odd.items.map((o) => o.metadata.name), ['c1', 'c3']);
  const named = await reg.list(cm, undefined, { fieldSelector: 'metadata.name=c4' });
  assert.deepEqual(named.items.map((o) => o.metadata.name), ['c4']);
  assert.throws(() => reg.matcher(cm, { continue: undefined, labelSelector: 'a in (' } as never), (e: ApiError) => e.code === 400);
});

test('watch replays from a resourceVersion and turns label changes into ADDED/DELETED', async () => {
  const { reg, cm } = await withNs();
  const start = String(reg.resourceVersion);
  await reg.create(cm, 'default', cmObj('w', { metadata: { name: 'w', labels: { a: '1' } } }));
  const w = await reg.get(cm, 'default', 'w');
  await reg.update(cm, 'default', 'w', { ...w, metadata: { ...w.metadata, labels: { a: '2' } } });
  const seen: string[] = [];
  const stop = reg.watch(cm, 'default', { resourceVersion: start, labelSelector: 'a=1' }, (e) => seen.push(e.type));
  stop();
  assert.deepEqual(seen, ['ADDED', 'DELETED']);
});

test('streaming list: initial ADDED events, then the initial-events-end bookmark', async () => {
  const { reg, cm } = await withNs();
  await reg.create(cm, 'default', cmObj('s1'));
  await reg.create(cm, 'default', cmObj('s2'));
  const seen: Array<{ type: string; object: any }> = [];
  const stop = reg.watch(cm, 'default', { sendInitialEvents: true, allowBookmarks: true }, (e) => seen.push(e));
  await reg.create(cm, 'default', cmObj('s3'));
  stop();
  assert.deepEqual(seen.map((e) => e.type), ['ADDED', 'ADDED', 'BOOKMARK', 'ADDED']);
  assert.equal(seen[2].object.metadata.annotations['k8s.io/initial-events-end'], 'true');
});

test('content negotiation: Table, YAML, protobuf-only and aggregated discovery', () => {
  assert.deepEqual(negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json'), { format: 'json', as: 'Table', version: 'v1' });
  assert.deepEqual(negotiate('application/yaml'), { format: 'yaml' });
  assert.deepEqual(negotiate('application/vnd.kubernetes.protobuf,application/json'), { format: 'json' });
  assert.throws(() => negotiate('application/vnd.kubernetes.protobuf'), (e: ApiError) => e.code === 406);
  assert.equal(acceptsAggregatedDiscovery('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'), 'v2beta1');
  assert.equal(acceptsAggregatedDiscovery('application/json'), undefined);
});

test('events are bounded in number and age, pruned on write', async () => {
  const { coreEvents } = await import('../../src/api/cluster.ts');
  const { reg } = await withNs();
  reg.setStrategy('events', coreEvents(reg));
  const ev = reg.kind('events');
  const now = Date.now();
  const mk = (name: string, at: number) => ({
    apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' }, involvedObject: { kind: 'ConfigMap', name: 'x', namespace: 'default' },
    reason: 'R', message: name, lastTimestamp: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  }) as KObject;
  await reg.create(ev, 'default', mk('old', now - 2 * 3600_000));
  for (let i = 0; i < 1005; i++) await reg.create(ev, 'default', mk(`e${i}`, now - (1005 - i) * 10));
  await new Promise((r) => setTimeout(r, 10));
  const all = reg.all(ev, 'default');
  assert.ok(all.length <= 1000, `${all.length} events kept`);
  assert.ok(!all.some((e) => e.metadata.name === 'old'), 'an event older than an hour is gone');
  assert.ok(all.some((e) => e.metadata.name === 'e1004'), 'the newest is kept');
  assert.ok(!all.some((e) => e.metadata.name === 'e0'), 'the oldest beyond the cap is gone');
});
