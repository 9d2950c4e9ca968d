// The binder against a real Registry and a fake engine: provisioning, static binding, protection
// finalizers, reclaim policies, a volume still in use, and convergence after a restart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Registry } from '../../src/machinery/registry.ts';
import type { KindInfo, KObject } from '../../src/machinery/types.ts';
import { ApiError } from '../../src/machinery/errors.ts';
import { persistentVolumeClaims, persistentVolumes, storageClasses } from '../../src/api/storage.ts';
import { claimVolume, StorageController, type VolumeEngine } from '../../src/runtime/storage.ts';

const kinds = JSON.parse(readFileSync(new URL('../../generated/kinds.json', import.meta.url), 'utf8')) as KindInfo[];

class FakeVolumes implements VolumeEngine {
  vols = new Map<string, { labels: Record<string, string>; driverOpts?: Record<string, string> }>();
  inUse = new Set<string>();
  async ensure(name: string, labels: Record<string, string>, driverOpts?: Record<string, string>) {
    if (!this.vols.has(name)) this.vols.set(name, { labels, driverOpts });
    return { mountpoint: `/var/lib/docker/volumes/${name}/_data` };
  }
  async remove(name: string) {
    if (this.inUse.has(name)) return 'busy' as const;
    return this.vols.delete(name) ? 'removed' as const : 'gone' as const;
  }
  async nodeName() { return 'node1'; }
}

interface World {
  reg: Registry; vols: FakeVolumes; ctl: StorageController;
  pvc: KindInfo; pv: KindInfo; sc: KindInfo; pod: KindInfo; events: KindInfo;
}

async function world(seed?: (reg: Registry) => Promise<void>, reuse?: { reg: Registry; vols: FakeVolumes }): Promise<World> {
  const reg = reuse?.reg ?? new Registry(kinds, undefined, { objects: [], resourceVersion: 0 });
  const vols = reuse?.vols ?? new FakeVolumes();
  if (!reuse) {
    const ns = reg.kind('namespaces');
    for (const name of ['default', 'app']) await reg.create(ns, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  const ctl = new StorageController(reg, vols, 'test');
  reg.setStrategy('persistentvolumeclaims', persistentVolumeClaims(ctl));
  reg.setStrategy('persistentvolumes', persistentVolumes());
  reg.setStrategy('storageclasses.storage.k8s.io', storageClasses());
  await seed?.(reg);
  await ctl.start();
  return {
    reg, vols, ctl, pvc: reg.kind('persistentvolumeclaims'), pv: reg.kind('persistentvolumes'),
    sc: reg.kind('storageclasses.storage.k8s.io'), pod: reg.kind('pods'), events: reg.kind('events'),
  };
}

/** Lets queued work run until `fn` holds (the binder works off setImmediate). */
async function until<T>(fn: () => T, what: string): Promise<NonNullable<T>> {
  for (let i = 0; i < 2000; i++) {
    const v = fn();
    if (v) return v as NonNullable<T>;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

const pvcObj = (name: string, spec: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});
const podObj = (name: string, claim: string): KObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { nodeName: 'node1', containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] },
});
const hostPathPv = (name: string, extra: Record<string, unknown> = {}): KObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' }, hostPath: { path: `/srv/${name}` }, storageClassName: 'manual', ...extra },
});
const st = (o: KObject | undefined) => (o?.status ?? {}) as Record<string, any>;
const sp = (o: KObject | undefined) => (o?.spec ?? {}) as Record<string, any>;

test('the local class exists after start, once, and is the default a claim gets', async () => {
  const w = await world();
  const sc = w.reg.peek(w.sc, undefined, 'local')!;
  assert.equal(sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');
  assert.equal(sc.provisioner, 'k2d.io/local');
  const again = await world(undefined, { reg: w.reg, vols: w.vols });
  assert.equal(again.reg.all(again.sc).length, 1);
  const created = await w.reg.create(w.pvc, 'app', pvcObj('plain'));
  assert.equal(sp(created).storageClassName, 'local');
  assert.deepEqual(created.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  assert.equal(sp(created).volumeMode, 'Filesystem');
  const none = await w.reg.create(w.pvc, 'app', pvcObj('none', { storageClassName: '' }));
  assert.equal(sp(none).storageClassName, '', 'an explicit "" means no class');
  assert.equal(st(w.reg.peek(w.pvc, 'app', 'none')).phase, 'Pending');
  w.ctl.stop(); again.ctl.stop();
});

test('a claim of the local class is bound before its create answers: Docker volume, PV and both sides annotated', async () => {
  const w = await world();
  await w.reg.create(w.pvc, 'app', pvcObj('data', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '3Gi' } } }));
  const claim = w.reg.peek(w.pvc, 'app', 'data')!;
  const pvName = `pvc-${claim.metadata.uid}`;
  assert.equal(sp(claim).volumeName, pvName);
  assert.deepEqual(st(claim), { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '3Gi' } });
  assert.deepEqual(claim.metadata.annotations, {
    'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes',
    'volume.beta.kubernetes.io/storage-provisioner': 'k2d.io/local', 'volume.kubernetes.io/storage-provisioner': 'k2d.io/local',
  });
  const pv = w.reg.peek(w.pv, undefined, pvName)!;
  assert.equal(st(pv).phase, 'Bound');
  assert.match(st(pv).lastPhaseTransitionTime, /Z$/);
  assert.equal(sp(pv).claimRef.uid, claim.metadata.uid);
  assert.equal(sp(pv).persistentVolumeReclaimPolicy, 'Delete');
  assert.equal(sp(pv).local.path, `/var/lib/docker/volumes/${pvName}/_data`);
  assert.deepEqual(pv.metadata.finalizers, ['kubernetes.io/pv-protection']);
  assert.deepEqual(w.vols.vols.get(pvName)?.labels, { 'k2d.io/instance': 'test', 'k2d.io/pvc-namespace': 'app', 'k2d.io/pvc-name': 'data', 'k2d.io/pv': pvName });
  assert.equal(claimVolume(w.reg, 'app', 'data'), pvName);
  assert.equal(claimVolume(w.reg, 'app', 'absent'), undefined);
  const ev = w.reg.all(w.events, 'app').map((e) => `${e.reason}: ${e.message}`);
  assert.ok(ev.includes(`ProvisioningSucceeded: Successfully provisioned volume ${pvName}`), ev.join('\n'));
  w.ctl.stop();
});

test('pvc-protection: a claim used by a pod stays until the pod is gone; then Delete removes the PV and the volume', async () => {
  const w = await world();
  await w.reg.create(w.pvc, 'app', pvcObj('data'));
  const pvName = sp(w.reg.peek(w.pvc, 'app', 'data')).volumeName;
  await w.reg.create(w.pod, 'app', podObj('user', 'data'));
  const del = await w.reg.delete(w.pvc, 'app', 'data');
  assert.equal(del.finished, false);
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  const held = w.reg.peek(w.pvc, 'app', 'data');
  assert.ok(held?.metadata.deletionTimestamp, 'Terminating while the pod exists');
  assert.deepEqual(held.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  assert.equal(claimVolume(w.reg, 'app', 'data'), pvName, 'a running pod keeps its volume while the claim terminates');
  await w.reg.delete(w.pod, 'app', 'user');
  await until(() => !w.reg.peek(w.pvc, 'app', 'data'), 'the claim to go');
  await until(() => !w.reg.peek(w.pv, undefined, pvName), 'the PV to go');
  assert.equal(w.vols.vols.has(pvName), false);
  w.ctl.stop();
});

test('a volume a container still refers to is removed on the engine event that frees it', async () => {
  const w = await world();
  await w.reg.create(w.pvc, 'app', pvcObj('data'));
  const pvName = sp(w.reg.peek(w.pvc, 'app', 'data')).volumeName;
  w.vols.inUse.add(pvName);
  await w.reg.delete(w.pvc, 'app', 'data');
  await until(() => st(w.reg.peek(w.pv, undefined, pvName)).phase === 'Released', 'Released');
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.ok(w.reg.peek(w.pv, undefined, pvName), 'the PV waits for its volume');
  assert.ok(w.vols.vols.has(pvName));
  w.ctl.onEngineEvent({ Type: 'container', Action: 'destroy' });
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.ok(w.reg.peek(w.pv, undefined, pvName), 'still in use: still there');
  w.vols.inUse.clear();
  w.ctl.onEngineEvent({ Type: 'container', Action: 'destroy' });
  await until(() => !w.reg.peek(w.pv, undefined, pvName), 'the PV to go');
  assert.equal(w.vols.vols.has(pvName), false);
  w.ctl.stop();
});

test('Retain: the PV goes Released and keeps its volume; clearing claimRef makes it Available again', async () => {
  const w = await world();
  await w.reg.create(w.sc, undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'keep' }, provisioner: 'k2d.io/local', reclaimPolicy: 'Retain' });
  await w.reg.create(w.pvc, 'app', pvcObj('data', { storageClassName: 'keep' }));
  const pvName = sp(w.reg.peek(w.pvc, 'app', 'data')).volumeName;
  assert.equal(sp(w.reg.peek(w.pv, undefined, pvName)).persistentVolumeReclaimPolicy, 'Retain');
  await w.reg.delete(w.pvc, 'app', 'data');
  const pv = await until(() => { const p = w.reg.peek(w.pv, undefined, pvName); return st(p).phase === 'Released' ? p : undefined; }, 'Released');
  assert.equal(sp(pv).claimRef.name, 'data');
  assert.ok(w.vols.vols.has(pvName), 'the data stays');
  const { claimRef: _gone, ...rest } = sp(pv);
  await w.reg.update(w.pv, undefined, pvName, { ...pv, spec: rest });
  await until(() => st(w.reg.peek(w.pv, undefined, pvName)).phase === 'Available', 'Available');
  // A new claim of that class takes the retained volume (static binding) instead of a new one.
  await w.reg.create(w.pvc, 'app', pvcObj('again', { storageClassName: 'keep' }));
  assert.equal(sp(w.reg.peek(w.pvc, 'app', 'again')).volumeName, pvName);
  w.ctl.stop();
});

test('static binding: a hand-made hostPath PV is bound through a bind-mounted Docker volume; Delete on it fails as upstream', async () => {
  const w = await world();
  await w.reg.create(w.pv, undefined, hostPathPv('small', { persistentVolumeReclaimPolicy: 'Delete' }));
  await w.reg.create(w.pv, undefined, hostPathPv('large', { capacity: { storage: '20Gi' } }));
  await until(() => st(w.reg.peek(w.pv, undefined, 'small')).phase === 'Available', 'Available');
  await w.reg.create(w.pvc, 'app', pvcObj('data', { storageClassName: 'manual' }));
  const claim = w.reg.peek(w.pvc, 'app', 'data')!;
  assert.equal(sp(claim).volumeName, 'small');
  assert.deepEqual(st(claim).capacity, { storage: '2Gi' });
  const pv = w.reg.peek(w.pv, undefined, 'small')!;
  assert.equal(pv.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], 'yes');
  const backing = `k2d_pv_${pv.metadata.uid}`;
  assert.equal(claimVolume(w.reg, 'app', 'data'), backing);
  assert.deepEqual(w.vols.vols.get(backing)?.driverOpts, { type: 'none', o: 'bind', device: '/srv/small' });
  await w.reg.delete(w.pvc, 'app', 'data');
  const failed = await until(() => { const p = w.reg.peek(w.pv, undefined, 'small'); return st(p).phase === 'Failed' ? p : undefined; }, 'Failed');
  assert.equal(st(failed).message, 'error getting deleter volume plugin for volume "small": no deletable volume plugin matched');
  // Deleting the PV object removes only our Docker binding.
  await w.reg.delete(w.pv, undefined, 'small');
  await until(() => !w.reg.peek(w.pv, undefined, 'small'), 'the PV to go');
  await until(() => !w.vols.vols.has(backing), 'the binding to go');
  w.ctl.stop();
});

test('a claim naming its volume binds to it, a mismatch waits with an event; a bound PV is protected', async () => {
  const w = await world();
  await w.reg.create(w.pv, undefined, hostPathPv('mine'));
  await w.reg.create(w.pvc, 'app', pvcObj('big', { storageClassName: 'manual', volumeName: 'mine', resources: { requests: { storage: '5Gi' } } }));
  assert.equal(st(w.reg.peek(w.pvc, 'app', 'big')).phase, 'Pending');
  assert.ok(w.reg.all(w.events, 'app').some((e) => e.reason === 'VolumeMismatch' && e.message === 'Cannot bind to requested volume "mine": requested PV is too small'));
  await w.reg.create(w.pvc, 'app', pvcObj('fits', { storageClassName: 'manual', volumeName: 'mine' }));
  const claim = w.reg.peek(w.pvc, 'app', 'fits')!;
  assert.equal(st(claim).phase, 'Bound');
  assert.equal(claim.metadata.annotations?.['pv.kubernetes.io/bound-by-controller'], undefined, 'the user chose the volume');
  await w.reg.delete(w.pv, undefined, 'mine');
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.ok(w.reg.peek(w.pv, undefined, 'mine')?.metadata.deletionTimestamp, 'pv-protection holds a bound PV');
  await w.reg.delete(w.pvc, 'app', 'fits');
  await until(() => !w.reg.peek(w.pv, undefined, 'mine'), 'the released PV to go');
  w.ctl.stop();
});

test('WaitForFirstConsumer waits for a pod; an unknown provisioner leaves the claim to it', async () => {
  const w = await world();
  await w.reg.create(w.sc, undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'late' }, provisioner: 'k2d.io/local', volumeBindingMode: 'WaitForFirstConsumer' });
  await w.reg.create(w.pvc, 'app', pvcObj('data', { storageClassName: 'late' }));
  assert.equal(st(w.reg.peek(w.pvc, 'app', 'data')).phase, 'Pending');
  assert.ok(w.reg.all(w.events, 'app').some((e) => e.reason === 'WaitForFirstConsumer'));
  await w.reg.create(w.pod, 'app', podObj('user', 'data'));
  const bound = await until(() => { const c = w.reg.peek(w.pvc, 'app', 'data'); return st(c).phase === 'Bound' ? c : undefined; }, 'Bound');
  assert.equal(bound.metadata.annotations?.['volume.kubernetes.io/selected-node'], 'node1');

  await w.reg.create(w.sc, undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'ebs' }, provisioner: 'ebs.csi.aws.com' });
  await w.reg.create(w.pvc, 'app', pvcObj('cloud', { storageClassName: 'ebs' }));
  const waiting = w.reg.peek(w.pvc, 'app', 'cloud')!;
  assert.equal(st(waiting).phase, 'Pending');
  assert.equal(waiting.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], 'ebs.csi.aws.com');
  assert.ok(w.reg.all(w.events, 'app').some((e) => e.reason === 'ExternalProvisioning' && String(e.message).includes("external provisioner 'ebs.csi.aws.com'")));
  w.ctl.stop();
});

test('resizing: refused for a class without allowVolumeExpansion, granted at once for one with it', async () => {
  const w = await world();
  await w.reg.create(w.pvc, 'app', pvcObj('fixed'));
  const fixed = w.reg.peek(w.pvc, 'app', 'fixed')!;
  await assert.rejects(w.reg.update(w.pvc, 'app', 'fixed', { ...fixed, spec: { ...sp(fixed), resources: { requests: { storage: '2Gi' } } } }),
    (e: ApiError) => e.code === 403 && e.message === 'persistentvolumeclaims "fixed" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
  await w.reg.create(w.sc, undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'grow' }, provisioner: 'k2d.io/local', allowVolumeExpansion: true });
  await w.reg.create(w.pvc, 'app', pvcObj('elastic', { storageClassName: 'grow' }));
  const elastic = w.reg.peek(w.pvc, 'app', 'elastic')!;
  await w.reg.update(w.pvc, 'app', 'elastic', { ...elastic, spec: { ...sp(elastic), resources: { requests: { storage: '4Gi' } } } });
  await until(() => st(w.reg.peek(w.pvc, 'app', 'elastic')).capacity?.storage === '4Gi', 'the new capacity');
  assert.equal(sp(w.reg.peek(w.pv, undefined, sp(elastic).volumeName)).capacity.storage, '4Gi');
  w.ctl.stop();
});

test('after a restart mid-binding (PV made, claim not yet bound) the binder completes it; a lost PV makes the claim Lost', async () => {
  const first = await world();
  await first.reg.create(first.pvc, 'app', pvcObj('data'));
  const claim = first.reg.peek(first.pvc, 'app', 'data')!;
  const pvName = sp(claim).volumeName;
  first.ctl.stop();
  // Undo the claim's side, as if the process died between the PV and the claim writes.
  const { volumeName: _v, ...spec } = sp(claim);
  first.reg.setStrategy('persistentvolumeclaims', {});
  await first.reg.update(first.pvc, 'app', 'data', { ...claim, spec, metadata: { ...claim.metadata, annotations: {} } });
  await first.reg.update(first.pvc, 'app', 'data', { ...first.reg.peek(first.pvc, 'app', 'data')!, status: { phase: 'Pending' } }, { subresource: 'status' });
  const second = await world(undefined, { reg: first.reg, vols: first.vols });
  const bound = await until(() => { const c = second.reg.peek(second.pvc, 'app', 'data'); return st(c).phase === 'Bound' ? c : undefined; }, 'Bound again');
  assert.equal(sp(bound).volumeName, pvName, 'the same volume, no second one');
  assert.equal(second.vols.vols.size, 1);
  // The PV vanishes (forced out of the store): the claim is Lost.
  await second.reg.purge(second.pv, undefined, pvName);
  await until(() => st(second.reg.peek(second.pvc, 'app', 'data')).phase === 'Lost', 'Lost');
  assert.equal(claimVolume(second.reg, 'app', 'data'), undefined);
  second.ctl.stop();
});
