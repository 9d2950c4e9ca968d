// Strategies of PersistentVolumeClaim, PersistentVolume and StorageClass: the apiserver's
// defaulting and validation, plus what its admission plugins add (the default class, the
// protection finalizers, the resize check). Binding and provisioning are src/runtime/storage.ts.
import type { Config } from '../config.ts';
import type { Engine } from '../docker/engine.ts';
import { forbidden, type StatusCause } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import { goQuote, isDNS1123Subdomain, isLabelKey } from '../machinery/selectors.ts';
import type { Strategy, StrategyContext } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';
import { clone, deepEqual } from '../machinery/util.ts';
import { compareQuantity, tryParseQuantity } from '../translate/quantity.ts';
import {
  ANN, classOf, createVolumeEngine, defaultClass, PV_PROTECTION, PVC_PROTECTION, StorageController,
} from '../runtime/storage.ts';

type Obj = Record<string, any>;

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const PV_RECLAIM = ['Delete', 'Recycle', 'Retain'];
const SC_RECLAIM = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
/** Every PersistentVolumeSource member: exactly one must be set. */
const PV_SOURCES = ['gcePersistentDisk', 'awsElasticBlockStore', 'hostPath', 'glusterfs', 'nfs', 'rbd', 'iscsi', 'cinder',
  'cephfs', 'fc', 'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk',
  'portworxVolume', 'scaleIO', 'local', 'storageos', 'csi'];

const quoted = (list: string[]) => list.map(goQuote).join(', ');
const notSupported = (field: string, value: unknown, list: string[]): StatusCause =>
  ({ reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${goQuote(String(value))}: supported values: ${quoted(list)}` });
const required = (field: string, detail = ''): StatusCause =>
  ({ reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' });
const invalidValue = (field: string, value: unknown, detail: string): StatusCause =>
  ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${typeof value === 'string' ? goQuote(value) : JSON.stringify(value)}: ${detail}` });
const forbiddenField = (field: string, detail: string): StatusCause => ({ reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` });

function addFinalizer(obj: KObject, f: string): void {
  const list = obj.metadata.finalizers ?? [];
  if (!list.includes(f)) obj.metadata.finalizers = [...list, f];
}

function accessModeCauses(modes: unknown, field: string, requiredDetail: string): StatusCause[] {
  const list = Array.isArray(modes) ? (modes as string[]) : [];
  if (!list.length) return [required(field, requiredDetail)];
  const out = list.filter((m) => !ACCESS_MODES.includes(m)).map((m) => notSupported(field, m, ACCESS_MODES));
  if (list.includes('ReadWriteOncePod') && list.length > 1) out.push(forbiddenField(field, 'may not use ReadWriteOncePod with other access modes'));
  return out;
}

function classNameCauses(name: unknown, field: string): StatusCause[] {
  if (typeof name !== 'string' || name === '') return [];
  return isDNS1123Subdomain(name).map((m) => invalidValue(field, name, m));
}

// ---- PersistentVolumeClaim -----------------------------------------------------------------

export function pvcCauses(obj: KObject, old?: KObject): StatusCause[] {
  const s = (obj.spec ?? {}) as Obj;
  const out = accessModeCauses(s.accessModes, 'spec.accessModes', 'at least 1 access mode is required');
  const storage = s.resources?.requests?.storage;
  if (storage === undefined || storage === null) out.push(required('spec.resources[storage]'));
  else {
    const q = tryParseQuantity(storage);
    if (q && q.num <= 0n) out.push(invalidValue('spec.resources[storage]', String(storage), 'must be greater than zero'));
  }
  out.push(...classNameCauses(s.storageClassName, 'spec.storageClassName'));
  if (s.volumeMode !== undefined && !VOLUME_MODES.includes(s.volumeMode)) out.push(notSupported('spec.volumeMode', s.volumeMode, VOLUME_MODES));
  if (!old) return out;

  // ValidatePersistentVolumeClaimUpdate: the binder may set volumeName once, a missing class
  // may be filled in (retroactive default), a bound claim may change its requests.
  const was = clone((old.spec ?? {}) as Obj);
  const now = clone(s);
  const bound = (old.status as Obj | undefined)?.phase === 'Bound';
  if (!was.volumeName) was.volumeName = now.volumeName;
  if ((was.storageClassName === undefined || was.storageClassName === null) && !old.metadata.annotations?.[ANN.betaClass]) was.storageClassName = now.storageClassName;
  if (bound) was.resources = { ...was.resources, requests: now.resources?.requests };
  was.volumeAttributesClassName = now.volumeAttributesClassName;
  for (const o of [was, now]) for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  if (!deepEqual(was, now)) {
    out.push(forbiddenField('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  } else if (bound) {
    const before = tryParseQuantity((old.spec as Obj).resources?.requests?.storage);
    const after = tryParseQuantity(storage);
    if (before && after && compareQuantity(after, before) < 0) out.push(forbiddenField('spec.resources.requests.storage', 'field can not be less than previous value'));
  }
  return out;
}

export interface ClaimBinder {
  /** Resolves once the claim has been looked at by the binder (bound, or known to wait). */
  settle(namespace: string, name: string): Promise<void>;
}

/** How long a PVC create waits for its binding before answering anyway. */
const SETTLE_MS = 10_000;

export function persistentVolumeClaims(binder?: ClaimBinder): Strategy {
  const defaults = (obj: KObject) => {
    const s = (obj.spec ??= {}) as Obj;
    s.volumeMode ??= 'Filesystem';
  };
  return {
    prepareForCreate(obj: KObject, ctx: StrategyContext): void {
      defaults(obj);
      const s = obj.spec as Obj;
      // The DefaultStorageClass admission plugin: only an absent class gets the default ("" means none).
      const sc = ctx.registry.kinds.get('storageclasses.storage.k8s.io');
      if ((s.storageClassName === undefined || s.storageClassName === null) && !obj.metadata.annotations?.[ANN.betaClass] && sc) {
        const d = defaultClass(ctx.registry.all(sc));
        if (d) s.storageClassName = d.metadata.name;
      }
      addFinalizer(obj, PVC_PROTECTION);
      obj.status = { phase: 'Pending' };
    },
    prepareForUpdate(obj: KObject): void {
      defaults(obj);
    },
    validate(obj: KObject, old: KObject | undefined, ctx: StrategyContext): StatusCause[] {
      const out = pvcCauses(obj, old);
      if (!old || out.length) return out;
      // The PersistentVolumeClaimResize admission plugin.
      const before = tryParseQuantity((old.spec as Obj)?.resources?.requests?.storage);
      const after = tryParseQuantity((obj.spec as Obj)?.resources?.requests?.storage);
      if (before && after && compareQuantity(after, before) > 0) {
        const scKind = ctx.registry.kinds.get('storageclasses.storage.k8s.io');
        const sc = scKind && classOf(old) ? ctx.registry.peek(scKind, undefined, classOf(old)) : undefined;
        if (sc?.allowVolumeExpansion !== true) {
          throw forbidden(`persistentvolumeclaims "${obj.metadata.name}" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize`);
        }
      }
      return out;
    },
    async afterCreate(obj: KObject): Promise<void> {
      if (!binder) return;
      // Answer once bound, so a pod created right after the claim mounts it.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        binder.settle(obj.metadata.namespace!, obj.metadata.name!).catch(() => {}),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, SETTLE_MS); }),
      ]);
      clearTimeout(timer);
    },
  };
}

// ---- PersistentVolume ----------------------------------------------------------------------

export function pvCauses(obj: KObject, old?: KObject): StatusCause[] {
  const s = (obj.spec ?? {}) as Obj;
  const out = accessModeCauses(s.accessModes, 'spec.accessModes', '');
  const cap = (s.capacity ?? {}) as Obj;
  const keys = Object.keys(cap);
  if (!keys.length) out.push(required('spec.capacity'));
  if (!('storage' in cap) || keys.length > 1) {
    out.push({ reason: 'FieldValueNotSupported', field: 'spec.capacity', message: `Unsupported value: ${keys.length ? JSON.stringify(cap) : 'core.ResourceList(nil)'}: supported values: "storage"` });
  } else {
    const q = tryParseQuantity(cap.storage);
    if (q && q.num < 0n) out.push(invalidValue('spec.capacity[storage]', String(cap.storage), 'must be greater than or equal to 0'));
  }
  const sources = PV_SOURCES.filter((k) => s[k] !== undefined && s[k] !== null);
  if (!sources.length) out.push(required('spec', 'must specify a volume type'));
  for (const extra of sources.slice(1)) out.push(forbiddenField(`spec.${extra}`, 'may not specify more than 1 volume type'));
  if (sources.length === 1) {
    const src = s[sources[0]] as Obj;
    if (sources[0] === 'hostPath' && !src.path) out.push(required('spec.hostPath.path'));
    if (sources[0] === 'local') {
      if (!src.path) out.push(required('spec.local.path'));
      if (!s.nodeAffinity) out.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
    }
    if (sources[0] === 'nfs') {
      if (!src.server) out.push(required('spec.nfs.server'));
      if (!src.path) out.push(required('spec.nfs.path'));
      else if (!String(src.path).startsWith('/')) out.push(invalidValue('spec.nfs.path', src.path, 'must be an absolute path'));
    }
  }
  const policy = s.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !PV_RECLAIM.includes(policy)) out.push(notSupported('spec.persistentVolumeReclaimPolicy', policy, PV_RECLAIM));
  if (s.volumeMode !== undefined && !VOLUME_MODES.includes(s.volumeMode)) out.push(notSupported('spec.volumeMode', s.volumeMode, VOLUME_MODES));
  out.push(...classNameCauses(s.storageClassName, 'spec.storageClassName'));
  if (!old) return out;
  const was = (old.spec ?? {}) as Obj;
  const source = (o: Obj) => Object.fromEntries(PV_SOURCES.filter((k) => o[k] != null).map((k) => [k, o[k]]));
  if (!deepEqual(source(s), source(was))) out.push(forbiddenField('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  if ((s.volumeMode ?? 'Filesystem') !== (was.volumeMode ?? 'Filesystem')) out.push(invalidValue('volumeMode', s.volumeMode, 'field is immutable'));
  if (was.nodeAffinity && !deepEqual(s.nodeAffinity, was.nodeAffinity)) out.push(invalidValue('spec.nodeAffinity', s.nodeAffinity ?? null, 'field is immutable'));
  return out;
}

export function persistentVolumes(): Strategy {
  const defaults = (obj: KObject) => {
    const s = (obj.spec ??= {}) as Obj;
    s.persistentVolumeReclaimPolicy ??= 'Retain';
    s.volumeMode ??= 'Filesystem';
  };
  return {
    prepareForCreate(obj: KObject, ctx: StrategyContext): void {
      defaults(obj);
      addFinalizer(obj, PV_PROTECTION);
      obj.status = { phase: 'Pending', lastPhaseTransitionTime: ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z') };
    },
    prepareForUpdate(obj: KObject): void {
      defaults(obj);
    },
    validate(obj: KObject, old: KObject | undefined): StatusCause[] {
      return pvCauses(obj, old);
    },
  };
}

// ---- StorageClass --------------------------------------------------------------------------

export function storageClassCauses(obj: KObject, old?: KObject): StatusCause[] {
  const out: StatusCause[] = [];
  const p = obj.provisioner;
  if (typeof p !== 'string' || !p) out.push(required('provisioner'));
  else for (const m of isLabelKey(p.toLowerCase())) out.push(invalidValue('provisioner', p, m));
  if (obj.reclaimPolicy !== undefined && !SC_RECLAIM.includes(obj.reclaimPolicy as string)) out.push(notSupported('reclaimPolicy', obj.reclaimPolicy, SC_RECLAIM));
  if (obj.volumeBindingMode !== undefined && !BINDING_MODES.includes(obj.volumeBindingMode as string)) out.push(notSupported('volumeBindingMode', obj.volumeBindingMode, BINDING_MODES));
  if (!old) return out;
  if (!deepEqual(obj.parameters ?? {}, old.parameters ?? {})) out.push(forbiddenField('parameters', 'updates to parameters are forbidden.'));
  if (obj.provisioner !== old.provisioner) out.push(forbiddenField('provisioner', 'updates to provisioner are forbidden.'));
  if (obj.reclaimPolicy !== old.reclaimPolicy) out.push(forbiddenField('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  if (obj.volumeBindingMode !== old.volumeBindingMode) out.push(invalidValue('volumeBindingMode', obj.volumeBindingMode, 'field is immutable'));
  return out;
}

export function storageClasses(): Strategy {
  const defaults = (obj: KObject) => {
    obj.reclaimPolicy ??= 'Delete';
    obj.volumeBindingMode ??= 'Immediate';
  };
  return {
    prepareForCreate: defaults,
    prepareForUpdate: defaults,
    validate: (obj: KObject, old: KObject | undefined) => storageClassCauses(obj, old),
  };
}

// ---- wiring --------------------------------------------------------------------------------

/**
 * Serves the three kinds and starts the binder: the default class exists once this returns.
 * Undefined when the API selection (openapi/supported.yaml) leaves claims out.
 */
export async function setupStorage(registry: Registry, engine: Engine, cfg: Pick<Config, 'instance'>): Promise<StorageController | undefined> {
  if (!registry.kinds.has('persistentvolumeclaims') || !registry.kinds.has('persistentvolumes')) return undefined;
  const controller = new StorageController(registry, createVolumeEngine(engine), cfg.instance);
  registry.setStrategy('persistentvolumeclaims', persistentVolumeClaims(controller));
  registry.setStrategy('persistentvolumes', persistentVolumes());
  if (registry.kinds.has('storageclasses.storage.k8s.io')) registry.setStrategy('storageclasses.storage.k8s.io', storageClasses());
  engine.on('event', (ev) => controller.onEngineEvent(ev));
  engine.on('available', () => controller.resync());
  await controller.start();
  return controller;
}
