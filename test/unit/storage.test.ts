// PVC/PV/StorageClass without HTTP or Docker: the strategies' defaulting and validation, and the
// pure halves of the binder (matching, backing volumes, the provisioned PV).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pvcCauses, pvCauses, storageClassCauses } from '../../src/api/storage.ts';
import {
  backingOf, classOf, defaultClass, findMatchingVolume, localStorageClass, mismatch, podsUsing, provisionedVolume,
} from '../../src/runtime/storage.ts';
import type { KObject } from '../../src/machinery/types.ts';

const claim = (spec: Record<string, unknown>, extra: Partial<KObject['metadata']> = {}, status?: Record<string, unknown>): KObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim',
  metadata: { name: 'data', namespace: 'ns', uid: 'c-uid', ...extra },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', ...spec },
  ...(status ? { status } : {}),
});

const volume = (name: string, spec: Record<string, unknown>, extra: Partial<KObject['metadata']> = {}, phase = 'Available'): KObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume',
  metadata: { name, uid: `${name}-uid`, ...extra },
  spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '5Gi' }, hostPath: { path: `/srv/${name}` }, volumeMode: 'Filesystem', ...spec },
  status: { phase },
});

const messages = (causes: Array<{ field?: string; message?: string }>) => causes.map((c) => `${c.field}: ${c.message}`);

test('PVC validation: the apiserver\'s field errors', () => {
  assert.deepEqual(messages(pvcCauses({ metadata: { name: 'x' }, spec: {} })), [
    'spec.accessModes: Required value: at least 1 access mode is required',
    'spec.resources[storage]: Required value',
  ]);
  assert.deepEqual(messages(pvcCauses(claim({ accessModes: ['ReadWriteOncePod', 'ReadWriteOnce', 'Sometimes'], volumeMode: 'Raw', storageClassName: 'Bad_Name', resources: { requests: { storage: '0' } } }))), [
    'spec.accessModes: Unsupported value: "Sometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    'spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes',
    'spec.resources[storage]: Invalid value: "0": must be greater than zero',
    'spec.storageClassName: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
    'spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"',
  ]);
  assert.deepEqual(pvcCauses(claim({ storageClassName: '' })), [], 'an empty class means "no class" and is valid');
});

test('PVC update: spec is immutable except the binder\'s volumeName, a retroactive class and a bound claim\'s requests', () => {
  const old = claim({ storageClassName: 'local' }, {}, { phase: 'Pending' });
  const immutable = 'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims';
  assert.deepEqual(pvcCauses(claim({ storageClassName: 'local', volumeName: 'pv-1' }), old), [], 'the binder sets volumeName once');
  assert.deepEqual(messages(pvcCauses(claim({ storageClassName: 'local', accessModes: ['ReadWriteMany'] }), old)), [immutable]);
  assert.deepEqual(messages(pvcCauses(claim({ storageClassName: 'local', resources: { requests: { storage: '2Gi' } } }), old)), [immutable], 'an unbound claim cannot be resized');
  const bound = claim({ storageClassName: 'local', volumeName: 'pv-1' }, {}, { phase: 'Bound' });
  assert.deepEqual(pvcCauses(claim({ storageClassName: 'local', volumeName: 'pv-1', resources: { requests: { storage: '2Gi' } } }), bound), []);
  assert.deepEqual(messages(pvcCauses(claim({ storageClassName: 'local', volumeName: 'pv-1', resources: { requests: { storage: '500Mi' } } }), bound)),
    ['spec.resources.requests.storage: Forbidden: field can not be less than previous value']);
  assert.deepEqual(messages(pvcCauses(claim({ storageClassName: 'local', volumeName: 'pv-2' }), bound)), [immutable], 'a bound claim keeps its volume');
  assert.deepEqual(pvcCauses(claim({ storageClassName: 'late' }), claim({})), [], 'a claim without a class may get one later');
});

test('PV validation: capacity, access modes, exactly one source, local needs node affinity', () => {
  assert.deepEqual(messages(pvCauses({ metadata: { name: 'x' }, spec: {} })), [
    'spec.accessModes: Required value',
    'spec.capacity: Required value',
    'spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage"',
    'spec: Required value: must specify a volume type',
  ]);
  assert.deepEqual(messages(pvCauses(volume('a', { nfs: { server: 'srv', path: 'rel' }, persistentVolumeReclaimPolicy: 'Burn' }))), [
    'spec.nfs: Forbidden: may not specify more than 1 volume type',
    'spec.persistentVolumeReclaimPolicy: Unsupported value: "Burn": supported values: "Delete", "Recycle", "Retain"',
  ]);
  assert.deepEqual(messages(pvCauses(volume('a', { hostPath: undefined, local: { path: '/mnt/x' } }))), ['spec.nodeAffinity: Required value: Local volume requires node affinity']);
  assert.deepEqual(messages(pvCauses(volume('a', { hostPath: undefined, nfs: { server: 'srv', path: 'rel' } }))), ['spec.nfs.path: Invalid value: "rel": must be an absolute path']);
  assert.deepEqual(messages(pvCauses(volume('a', { hostPath: { path: '/srv/b' } }), volume('a', {}))), ['spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation']);
  assert.deepEqual(pvCauses(volume('a', { capacity: { storage: '9Gi' }, persistentVolumeReclaimPolicy: 'Delete' }), volume('a', {})), [], 'capacity and policy may change');
});

test('StorageClass validation: provisioner required and qualified; parameters, provisioner, reclaimPolicy and binding mode fixed', () => {
  assert.deepEqual(messages(storageClassCauses({ metadata: { name: 'x' } })), ['provisioner: Required value']);
  assert.deepEqual(messages(storageClassCauses({ metadata: { name: 'x' }, provisioner: 'k2d.io/local', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' })), [
    'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
    'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
  ]);
  assert.equal(storageClassCauses({ metadata: { name: 'x' }, provisioner: 'a/b/c' }).length, 1);
  const old = localStorageClass();
  assert.deepEqual(messages(storageClassCauses({ ...old, provisioner: 'other.io/x', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', parameters: { a: 'b' } }, old)), [
    'parameters: Forbidden: updates to parameters are forbidden.',
    'provisioner: Forbidden: updates to provisioner are forbidden.',
    'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
    'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
  ]);
  assert.deepEqual(storageClassCauses({ ...old, allowVolumeExpansion: true, metadata: { ...old.metadata, labels: { a: 'b' } } }, old), []);
});

test('the default class: the newest annotated one; the local class is it', () => {
  const local: KObject = { ...localStorageClass(), metadata: { ...localStorageClass().metadata, creationTimestamp: '2026-01-01T00:00:00Z' } };
  assert.equal(local.provisioner, 'k2d.io/local');
  assert.equal(local.reclaimPolicy, 'Delete');
  assert.equal(local.volumeBindingMode, 'Immediate');
  const newer: KObject = { metadata: { name: 'fast', creationTimestamp: '2026-02-01T00:00:00Z', annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'true' } } };
  const plain: KObject = { metadata: { name: 'plain', creationTimestamp: '2026-03-01T00:00:00Z' } };
  assert.equal(defaultClass([local, plain])?.metadata.name, 'local');
  assert.equal(defaultClass([local, newer, plain])?.metadata.name, 'fast');
  assert.equal(defaultClass([plain]), undefined);
  assert.equal(classOf(claim({ storageClassName: 'a' }, { annotations: { 'volume.beta.kubernetes.io/storage-class': 'b' } })), 'b');
  assert.equal(classOf(claim({ storageClassName: undefined })), '');
});

test('static matching: the smallest fitting available volume; a pre-bound one first; selectors and modes count', () => {
  const c = claim({ storageClassName: 'manual' });
  const big = volume('big', { capacity: { storage: '10Gi' }, storageClassName: 'manual' });
  const small = volume('small', { capacity: { storage: '2Gi' }, storageClassName: 'manual' });
  const tiny = volume('tiny', { capacity: { storage: '512Mi' }, storageClassName: 'manual' });
  const other = volume('other', { capacity: { storage: '1Gi' }, storageClassName: 'fast' });
  const rwx = volume('rwx', { capacity: { storage: '1Gi' }, storageClassName: 'manual', accessModes: ['ReadWriteMany'] });
  const taken = volume('taken', { capacity: { storage: '1Gi' }, storageClassName: 'manual', claimRef: { namespace: 'ns', name: 'else', uid: 'x' } }, {}, 'Bound');
  assert.equal(findMatchingVolume([big, small, tiny, other, rwx, taken], c)?.metadata.name, 'small');
  assert.equal(mismatch(tiny, c), 'requested PV is too small');
  assert.equal(mismatch(other, c), 'storageClassName does not match');
  assert.equal(mismatch(rwx, c), 'incompatible accessMode');
  const pre = volume('pre', { capacity: { storage: '20Gi' }, storageClassName: 'manual', claimRef: { namespace: 'ns', name: 'data' } });
  assert.equal(findMatchingVolume([small, pre], c)?.metadata.name, 'pre', 'a volume pre-bound to the claim by name wins');
  const labelled = volume('labelled', { capacity: { storage: '3Gi' }, storageClassName: 'manual' }, { labels: { tier: 'gold' } });
  assert.equal(findMatchingVolume([small, labelled], claim({ storageClassName: 'manual', selector: { matchLabels: { tier: 'gold' } } }))?.metadata.name, 'labelled');
  assert.equal(findMatchingVolume([small], claim({ storageClassName: 'manual', volumeMode: 'Block' })), undefined);
  assert.equal(findMatchingVolume([{ ...small, metadata: { ...small.metadata, deletionTimestamp: 'now' } }], c), undefined);
});

test('backing volumes: provisioned ones are ours by name; hand-made ones are bound or NFS-mounted Docker volumes', () => {
  const pv = provisionedVolume(claim({ storageClassName: 'local', accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] }, { resourceVersion: '7' }), localStorageClass(), '/var/lib/docker/volumes/pvc-c-uid/_data', 'node1');
  assert.deepEqual(pv, {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name: 'pvc-c-uid', annotations: { 'pv.kubernetes.io/provisioned-by': 'k2d.io/local' } },
    spec: {
      accessModes: ['ReadWriteOnce', 'ReadOnlyMany'],
      capacity: { storage: '1Gi' },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data', uid: 'c-uid', resourceVersion: '7' },
      local: { path: '/var/lib/docker/volumes/pvc-c-uid/_data' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node1'] }] }] } },
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'local',
      volumeMode: 'Filesystem',
    },
  });
  assert.deepEqual(pvCauses(pv), [], 'what we provision passes our own validation');
  assert.deepEqual(backingOf({ ...pv, metadata: { ...pv.metadata, uid: 'u' } }), { name: 'pvc-c-uid', owned: true });
  assert.deepEqual(backingOf(volume('h', {})), { name: 'k2d_pv_h-uid', owned: false, driverOpts: { type: 'none', o: 'bind', device: '/srv/h' } });
  assert.deepEqual(backingOf(volume('n', { hostPath: undefined, nfs: { server: '10.0.0.2', path: '/export', readOnly: true }, mountOptions: ['nfsvers=4.1'] })),
    { name: 'k2d_pv_n-uid', owned: false, driverOpts: { type: 'nfs', o: 'addr=10.0.0.2,ro,nfsvers=4.1', device: ':/export' } });
  assert.equal(backingOf(volume('c', { hostPath: undefined, csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-1' } })), undefined, 'nothing here can mount it');
});

test('a claim is in use by every scheduled pod of its namespace that names it', () => {
  const pod = (name: string, ns: string, claimName: string, nodeName = 'node1'): KObject => ({ metadata: { name, namespace: ns }, spec: { nodeName, volumes: [{ name: 'v', persistentVolumeClaim: { claimName } }] } });
  const c = claim({});
  assert.deepEqual(podsUsing([pod('a', 'ns', 'data'), pod('b', 'other', 'data'), pod('c', 'ns', 'else'), pod('d', 'ns', 'data', '')], c).map((p) => p.metadata.name), ['a']);
});
