// PersistentVolumeClaims, PersistentVolumes and StorageClasses on one node: what the
// kube-controller-manager's PV binder, its PVC/PV protection controllers and a local provisioner
// do on a cluster, done here with Docker named volumes.
//
// Where the data lives: a claim of a class whose provisioner is `k2d.io/local` gets a Docker
// named volume `pvc-<claim uid>` (driver local) and a PV of the same name. The PV describes it as
// `local: {path: <the volume's mountpoint>}` with node affinity to this node, which is what
// `kubectl describe pv` shows and what it truly is (as local-path provisioners describe theirs);
// the annotation `pv.kubernetes.io/provisioned-by: k2d.io/local` is what marks the PV as ours, so
// only those volumes are ever deleted by a reclaim policy. A PV made by hand (hostPath, local or
// nfs) is mounted through a Docker volume with the local driver's bind or nfs options, named
// `k2d_pv_<pv uid>`; removing that binding never touches the data behind it.
//
// Event-driven: registry changes of claims, volumes, classes and pods, and the engine's container
// and volume events, queue work; a timer exists only as the back-off of a failed engine call.
import type { Engine } from '../docker/engine.ts';
import { dial } from '../docker/http.ts';
import { ensureVolume, isVolumeInUse, removeVolume } from '../docker/volumes.ts';
import { ApiError } from '../machinery/errors.ts';
import { recordEvent } from './events.ts';
import type { Registry } from '../machinery/registry.ts';
import { labelSelectorMatcher, type LabelSelector } from '../machinery/selectors.ts';
import type { KindInfo, KObject } from '../machinery/types.ts';
import { clone, deepEqual } from '../machinery/util.ts';
import { compareQuantity, tryParseQuantity } from '../translate/quantity.ts';
import { log } from '../log.ts';

type Obj = Record<string, any>;

export const LOCAL_CLASS = 'local';
export const LOCAL_PROVISIONER = 'k2d.io/local';
export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION = 'kubernetes.io/pv-protection';
export const ANN = {
  defaultClass: 'storageclass.kubernetes.io/is-default-class',
  betaDefaultClass: 'storageclass.beta.kubernetes.io/is-default-class',
  betaClass: 'volume.beta.kubernetes.io/storage-class',
  bindCompleted: 'pv.kubernetes.io/bind-completed',
  boundByController: 'pv.kubernetes.io/bound-by-controller',
  provisionedBy: 'pv.kubernetes.io/provisioned-by',
  provisioner: 'volume.kubernetes.io/storage-provisioner',
  betaProvisioner: 'volume.beta.kubernetes.io/storage-provisioner',
  selectedNode: 'volume.kubernetes.io/selected-node',
} as const;
export const VOLUME_LABELS = {
  instance: 'k2d.io/instance',
  pvcNamespace: 'k2d.io/pvc-namespace',
  pvcName: 'k2d.io/pvc-name',
  pv: 'k2d.io/pv',
} as const;

const spec = (o: KObject): Obj => (o.spec ?? {}) as Obj;
const status = (o: KObject): Obj => (o.status ?? {}) as Obj;
const rfc3339 = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The class a claim or volume asks for: the beta annotation still wins, as in the binder. */
export function classOf(o: KObject): string {
  return o.metadata.annotations?.[ANN.betaClass] ?? spec(o).storageClassName ?? '';
}

/** The default class as the DefaultStorageClass admission picks it: the newest of the defaults. */
export function defaultClass(classes: KObject[]): KObject | undefined {
  const defaults = classes.filter((c) => c.metadata.annotations?.[ANN.defaultClass] === 'true' || c.metadata.annotations?.[ANN.betaDefaultClass] === 'true');
  return defaults.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name! < b.metadata.name! ? -1 : 1))[0];
}

/** The StorageClass that always exists. */
export function localStorageClass(): KObject {
  return {
    apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
    metadata: { name: LOCAL_CLASS, annotations: { [ANN.defaultClass]: 'true' } },
    provisioner: LOCAL_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate',
  };
}

/** The Docker volume behind a PV; `owned`: its data is ours to delete (a provisioned volume). */
export interface Backing { name: string; owned: boolean; driverOpts?: Record<string, string> }

export function backingOf(pv: KObject): Backing | undefined {
  const s = spec(pv);
  if (pv.metadata.annotations?.[ANN.provisionedBy] === LOCAL_PROVISIONER) return { name: pv.metadata.name!, owned: true };
  const name = `k2d_pv_${pv.metadata.uid}`;
  const path = s.local?.path ?? s.hostPath?.path;
  if (path) return { name, owned: false, driverOpts: { type: 'none', o: 'bind', device: path } };
  if (s.nfs?.server && s.nfs?.path) {
    const o = [`addr=${s.nfs.server}`, ...(s.nfs.readOnly ? ['ro'] : []), ...((s.mountOptions ?? []) as string[])];
    return { name, owned: false, driverOpts: { type: 'nfs', o: o.join(','), device: `:${s.nfs.path}` } };
  }
  return undefined;
}

/** What a provisioned PV looks like: the claim's request and modes, the class's policy. */
export function provisionedVolume(claim: KObject, sc: KObject, mountpoint: string, node: string): KObject {
  const c = spec(claim);
  const name = `pvc-${claim.metadata.uid}`;
  const pvSpec: Obj = {
    accessModes: c.accessModes,
    capacity: { storage: c.resources?.requests?.storage },
    claimRef: claimRef(claim),
    local: { path: mountpoint || `/var/lib/docker/volumes/${name}/_data` },
    nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } },
    persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
    storageClassName: sc.metadata.name,
    volumeMode: c.volumeMode ?? 'Filesystem',
  };
  if (Array.isArray(sc.mountOptions) && sc.mountOptions.length) pvSpec.mountOptions = sc.mountOptions;
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN.provisionedBy]: LOCAL_PROVISIONER } },
    spec: pvSpec,
  };
}

function claimRef(claim: KObject): Obj {
  return {
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name,
    uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion,
  };
}

const refersTo = (ref: Obj | undefined, claim: KObject) => !!ref && ref.namespace === claim.metadata.namespace && ref.name === claim.metadata.name;

/** Why a PV cannot serve a claim, or undefined when it can (the binder's checkVolumeSatisfyClaim). */
export function mismatch(pv: KObject, claim: KObject): string | undefined {
  const want = tryParseQuantity(spec(claim).resources?.requests?.storage);
  const have = tryParseQuantity(spec(pv).capacity?.storage);
  if (!want || !have || compareQuantity(have, want) < 0) return 'requested PV is too small';
  if (classOf(pv) !== classOf(claim)) return 'storageClassName does not match';
  if ((spec(pv).volumeMode ?? 'Filesystem') !== (spec(claim).volumeMode ?? 'Filesystem')) return 'incompatible volumeMode';
  const modes = new Set<string>(spec(pv).accessModes ?? []);
  if (!((spec(claim).accessModes ?? []) as string[]).every((m) => modes.has(m))) return 'incompatible accessMode';
  return undefined;
}

/**
 * The binder's findMatchingVolume: a volume pre-bound to the claim first, otherwise the smallest
 * available one that satisfies it (class, size, mode, access modes, selector).
 */
export function findMatchingVolume(pvs: KObject[], claim: KObject): KObject | undefined {
  const sel = spec(claim).selector as LabelSelector | undefined;
  const matches = sel ? labelSelectorMatcher(sel) : () => true;
  let best: KObject | undefined;
  for (const pv of pvs) {
    if (pv.metadata.deletionTimestamp) continue;
    const ref = spec(pv).claimRef as Obj | undefined;
    if (ref && !(refersTo(ref, claim) && (!ref.uid || ref.uid === claim.metadata.uid))) continue;
    if (ref) {
      const want = tryParseQuantity(spec(claim).resources?.requests?.storage);
      const have = tryParseQuantity(spec(pv).capacity?.storage);
      if (want && have && compareQuantity(have, want) >= 0) return pv;
      continue;
    }
    if (status(pv).phase && status(pv).phase !== 'Available' && status(pv).phase !== 'Pending') continue;
    if (mismatch(pv, claim) || !matches(pv.metadata.labels)) continue;
    if (!best || compareQuantity(tryParseQuantity(spec(pv).capacity.storage)!, tryParseQuantity(spec(best).capacity.storage)!) < 0) best = pv;
  }
  return best;
}

/** The Docker volume a pod mounts for a claim: only once the claim is bound (PlanEnv.pvcVolume). */
export function claimVolume(registry: Registry, namespace: string, claim: string): string | undefined {
  const pvcKind = registry.kinds.get('persistentvolumeclaims');
  const pvKind = registry.kinds.get('persistentvolumes');
  if (!pvcKind || !pvKind) return undefined;
  const c = registry.peek(pvcKind, namespace, claim);
  if (!c || status(c).phase !== 'Bound' || !spec(c).volumeName) return undefined;
  const pv = registry.peek(pvKind, undefined, spec(c).volumeName);
  if (!pv || spec(pv).claimRef?.uid !== c.metadata.uid) return undefined;
  return backingOf(pv)?.name;
}

/** Pods that keep a claim in use (the pvc-protection controller's podUsesPVC). */
export function podsUsing(pods: KObject[], claim: KObject): KObject[] {
  return pods.filter((p) => p.metadata.namespace === claim.metadata.namespace && spec(p).nodeName
    && ((spec(p).volumes ?? []) as Obj[]).some((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name));
}

/** The engine side: Docker volumes. */
export interface VolumeEngine {
  /** Creates the volume unless it exists; its mountpoint on the engine's host. */
  ensure(name: string, labels: Record<string, string>, driverOpts?: Record<string, string>): Promise<{ mountpoint: string }>;
  /** 'busy': a container (running or stopped) still refers to it. */
  remove(name: string): Promise<'removed' | 'gone' | 'busy'>;
  /** This node's name (the engine's), for the PV's node affinity. */
  nodeName(): Promise<string>;
}

export function createVolumeEngine(engine: Engine): VolumeEngine {
  let node: string | undefined;
  return {
    async ensure(name, labels, driverOpts) {
      return { mountpoint: (await ensureVolume(engine, name, labels, driverOpts)).Mountpoint };
    },
    async remove(name) {
      try {
        return (await removeVolume(engine, name)) ? 'removed' : 'gone';
      } catch (err) {
        if (isVolumeInUse(err)) return 'busy';
        throw err;
      }
    },
    async nodeName() {
      return (node ??= (await dial<{ Name: string }>(engine, { method: 'GET', path: '/info' })).Name);
    },
  };
}

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

export class StorageController {
  private pvc: KindInfo;
  private pv: KindInfo;
  private sc?: KindInfo;
  private pods?: KindInfo;
  /** key -> the callers waiting for its next sync; keys: `pvc:<ns>/<name>`, `pv:<name>`, `vol:<docker volume>` */
  private pending = new Map<string, Array<() => void>>();
  private running = false;
  private stopped = false;
  /** keys whose Docker volume is still used by a container: retried on the engine's container/volume events */
  private busy = new Set<string>();
  private retries = new Map<string, { timer: NodeJS.Timeout; delay: number }>();
  private stops: Array<() => void> = [];

  constructor(private registry: Registry, private volumes: VolumeEngine, private instance: string) {
    this.pvc = registry.kind('persistentvolumeclaims');
    this.pv = registry.kind('persistentvolumes');
    this.sc = registry.kinds.get('storageclasses.storage.k8s.io');
    this.pods = registry.kinds.get('pods');
  }

  /** Creates the default class when absent, subscribes, and converges every claim and volume. */
  async start(): Promise<void> {
    if (this.sc && !this.registry.peek(this.sc, undefined, LOCAL_CLASS)) {
      await this.registry.create(this.sc, undefined, localStorageClass(), { fieldManager: 'k2d' });
    }
    const hub = this.registry.hub;
    this.stops.push(hub.add({ resource: 'persistentvolumeclaims', onChange: (c) => { void this.enqueue(claimKey(c.object)); } }));
    this.stops.push(hub.add({
      resource: 'persistentvolumes',
      onChange: (c) => {
        void this.enqueue(`pv:${c.object.metadata.name}`);
        if (c.type === 'DELETED') {
          const b = backingOf(c.object);
          if (b && !b.owned) void this.enqueue(`vol:${b.name}`);
          const ref = spec(c.object).claimRef as Obj | undefined;
          if (ref?.name) void this.enqueue(`pvc:${ref.namespace ?? ''}/${ref.name}`);
        }
        if (c.type === 'ADDED' || (status(c.object).phase === 'Available' && status(c.old ?? c.object).phase !== 'Available' ) || c.type === 'DELETED') this.unboundClaims();
      },
    }));
    if (this.sc) this.stops.push(hub.add({ resource: 'storageclasses.storage.k8s.io', onChange: (c) => { if (c.type === 'ADDED') this.unboundClaims(); } }));
    if (this.pods) {
      this.stops.push(hub.add({
        resource: 'pods',
        onChange: (c) => {
          if (c.type === 'MODIFIED') return;
          for (const v of (spec(c.object).volumes ?? []) as Obj[]) {
            if (v.persistentVolumeClaim?.claimName) void this.enqueue(`pvc:${c.object.metadata.namespace}/${v.persistentVolumeClaim.claimName}`);
          }
        },
      }));
    }
    for (const c of this.registry.all(this.pvc)) void this.enqueue(claimKey(c));
    for (const v of this.registry.all(this.pv)) void this.enqueue(`pv:${v.metadata.name}`);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.stops) s();
    for (const r of this.retries.values()) clearTimeout(r.timer);
    this.retries.clear();
    for (const waiters of this.pending.values()) for (const w of waiters) w();
    this.pending.clear();
  }

  /** An engine event: a container or volume reference went away, so a busy volume may go now. */
  onEngineEvent(ev: { Type?: string; Action?: string }): void {
    if (!this.busy.size) return;
    if ((ev.Type === 'container' && ev.Action === 'destroy') || (ev.Type === 'volume' && (ev.Action === 'unmount' || ev.Action === 'destroy'))) {
      for (const k of this.busy) void this.enqueue(k);
    }
  }

  /** The engine is back: whatever waited on it is tried again. */
  resync(): void {
    this.unboundClaims();
    for (const k of [...this.busy, ...this.retries.keys()]) void this.enqueue(k);
  }

  /** Resolves once the claim has been synced after now (a PVC create answers after its binding). */
  settle(namespace: string, name: string): Promise<void> {
    return this.enqueue(`pvc:${namespace}/${name}`);
  }

  private unboundClaims(): void {
    for (const c of this.registry.all(this.pvc)) {
      if (!spec(c).volumeName && !c.metadata.deletionTimestamp) void this.enqueue(claimKey(c));
    }
  }

  /** One worker, one key at a time: binding decisions never race each other. */
  private enqueue(key: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const waiters = this.pending.get(key);
      if (waiters) waiters.push(resolve);
      else this.pending.set(key, [resolve]);
      if (!this.running) {
        this.running = true;
        // Never inside the registry's publish loop: our writes would reach watchers out of order.
        setImmediate(() => { void this.work(); });
      }
    });
  }

  private async work(): Promise<void> {
    while (this.pending.size && !this.stopped) {
      const [key, waiters] = this.pending.entries().next().value as [string, Array<() => void>];
      this.pending.delete(key);
      try {
        await this.sync(key);
        const r = this.retries.get(key);
        if (r) { clearTimeout(r.timer); this.retries.delete(key); }
      } catch (err) {
        log('storage sync failed', { level: 'warn', key, error: (err as Error).message });
        this.retryLater(key);
      }
      for (const w of waiters) w();
    }
    this.running = false;
  }

  private retryLater(key: string): void {
    const old = this.retries.get(key);
    if (old) clearTimeout(old.timer);
    const delay = old ? Math.min(old.delay * 2, RETRY_MAX_MS) : RETRY_FIRST_MS;
    const timer = setTimeout(() => { void this.enqueue(key); }, delay);
    timer.unref();
    this.retries.set(key, { timer, delay });
  }

  private async sync(key: string): Promise<void> {
    const colon = key.indexOf(':');
    const kind = key.slice(0, colon);
    const rest = key.slice(colon + 1);
    if (kind === 'pvc') {
      const slash = rest.indexOf('/');
      await this.syncClaim(rest.slice(0, slash), rest.slice(slash + 1));
    } else if (kind === 'pv') {
      await this.syncVolume(rest);
    } else if (kind === 'vol') {
      await this.removeBacking(key, rest);
    }
  }

  // ---- claims ------------------------------------------------------------------------------

  private async syncClaim(ns: string, name: string): Promise<void> {
    const claim = this.registry.peek(this.pvc, ns, name);
    if (!claim) {
      // Gone: the volumes it held are released.
      for (const pv of this.registry.all(this.pv)) {
        const ref = spec(pv).claimRef as Obj | undefined;
        if (ref?.namespace === ns && ref?.name === name) void this.enqueue(`pv:${pv.metadata.name}`);
      }
      return;
    }
    if (claim.metadata.deletionTimestamp) {
      if ((claim.metadata.finalizers ?? []).includes(PVC_PROTECTION) && !this.users(claim).length) {
        await this.dropFinalizer(this.pvc, claim, PVC_PROTECTION);
      }
      return;
    }
    if (spec(claim).volumeName) return this.syncBoundClaim(claim);

    const cls = classOf(claim);
    const sc = cls && this.sc ? this.registry.peek(this.sc, undefined, cls) : undefined;
    if (sc?.volumeBindingMode === 'WaitForFirstConsumer' && !this.users(claim).length) {
      this.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return;
    }
    const match = findMatchingVolume(this.registry.all(this.pv), claim);
    if (match) return this.bind(claim, match, sc);
    if (!cls) {
      this.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (!sc) {
      this.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${cls}" not found`);
      return;
    }
    if (sc.provisioner !== LOCAL_PROVISIONER) {
      await this.annotate(this.pvc, claim, { [ANN.provisioner]: sc.provisioner as string, [ANN.betaProvisioner]: sc.provisioner as string });
      this.event(claim, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
      return;
    }
    const refusal = provisionRefusal(claim);
    if (refusal) {
      this.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${cls}": ${refusal}`, LOCAL_PROVISIONER);
      return;
    }
    await this.provision(claim, sc);
  }

  private async provision(claim: KObject, sc: KObject): Promise<void> {
    const name = `pvc-${claim.metadata.uid}`;
    let pv = this.registry.peek(this.pv, undefined, name);
    if (!pv) {
      const ref = `${claim.metadata.namespace}/${claim.metadata.name}`;
      this.event(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${ref}"`, LOCAL_PROVISIONER);
      let mountpoint: string;
      let node: string;
      try {
        mountpoint = (await this.volumes.ensure(name, {
          [VOLUME_LABELS.instance]: this.instance, [VOLUME_LABELS.pvcNamespace]: claim.metadata.namespace!,
          [VOLUME_LABELS.pvcName]: claim.metadata.name!, [VOLUME_LABELS.pv]: name,
        })).mountpoint;
        node = await this.volumes.nodeName();
      } catch (err) {
        this.event(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${(err as Error).message}`, LOCAL_PROVISIONER);
        throw err;
      }
      // The claim may have gone while the engine answered.
      const live = this.registry.peek(this.pvc, claim.metadata.namespace, claim.metadata.name!);
      if (!live || live.metadata.uid !== claim.metadata.uid || live.metadata.deletionTimestamp) {
        await this.volumes.remove(name);
        return;
      }
      pv = await this.registry.create(this.pv, undefined, provisionedVolume(live, sc, mountpoint, node), { fieldManager: 'k2d' });
      this.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`, LOCAL_PROVISIONER);
    }
    const live = this.registry.peek(this.pvc, claim.metadata.namespace, claim.metadata.name!);
    if (live) await this.bind(live, pv, sc);
  }

  private async syncBoundClaim(claim: KObject): Promise<void> {
    const volumeName = spec(claim).volumeName as string;
    const pv = this.registry.peek(this.pv, undefined, volumeName);
    const phase = status(claim).phase;
    if (!pv) {
      if (phase === 'Bound') {
        await this.claimPhase(claim, 'Lost');
        this.event(claim, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      }
      return;
    }
    const ref = spec(pv).claimRef as Obj | undefined;
    if (ref?.uid === claim.metadata.uid) return this.bind(claim, pv, this.classObject(claim));
    if (!ref || (refersTo(ref, claim) && !ref.uid)) {
      const why = mismatch(pv, claim);
      if (why) {
        this.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${volumeName}": ${why}`);
        return;
      }
      return this.bind(claim, pv, this.classObject(claim));
    }
    if (phase === 'Bound') {
      await this.claimPhase(claim, 'Lost');
      this.event(claim, 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
      return;
    }
    this.event(claim, 'Warning', 'FailedBinding', `volume "${volumeName}" already bound to a different claim.`);
  }

  private classObject(claim: KObject): KObject | undefined {
    const cls = classOf(claim);
    return cls && this.sc ? this.registry.peek(this.sc, undefined, cls) : undefined;
  }

  /** Completes both sides of a binding; each step is idempotent, so a restart mid-way converges. */
  private async bind(claim: KObject, pv: KObject, sc: KObject | undefined): Promise<void> {
    const pvName = pv.metadata.name!;
    const claimDone = status(claim).phase === 'Bound' && spec(claim).volumeName === pvName;
    if (!claimDone || status(pv).phase !== 'Bound') {
      // A volume made by hand needs its Docker binding before any pod can mount the claim.
      const b = backingOf(pv);
      if (b && !b.owned) {
        await this.volumes.ensure(b.name, {
          [VOLUME_LABELS.instance]: this.instance, [VOLUME_LABELS.pv]: pvName,
          [VOLUME_LABELS.pvcNamespace]: claim.metadata.namespace!, [VOLUME_LABELS.pvcName]: claim.metadata.name!,
        }, b.driverOpts);
      }
    }

    // The volume's side: claimRef with the claim's uid, then phase Bound.
    let live = this.registry.peek(this.pv, undefined, pvName);
    if (!live) return;
    const ref = spec(live).claimRef as Obj | undefined;
    if (ref?.uid !== claim.metadata.uid) {
      const next = clone(live);
      spec(next).claimRef = claimRef(claim);
      if (!ref) next.metadata.annotations = { ...next.metadata.annotations, [ANN.boundByController]: 'yes' };
      await this.registry.update(this.pv, undefined, pvName, next, { skipRvCheck: true, fieldManager: 'k2d' });
      live = this.registry.peek(this.pv, undefined, pvName)!;
    }
    await this.volumePhase(live, 'Bound');

    // The claim's side: volumeName and the binder's annotations, then status.
    let c = this.registry.peek(this.pvc, claim.metadata.namespace, claim.metadata.name!);
    if (!c || c.metadata.uid !== claim.metadata.uid) return;
    const next = clone(c);
    const ann: Record<string, string> = { ...next.metadata.annotations, [ANN.bindCompleted]: 'yes' };
    if (!spec(next).volumeName) {
      spec(next).volumeName = pvName;
      ann[ANN.boundByController] = 'yes';
    }
    const provisioner = live.metadata.annotations?.[ANN.provisionedBy];
    if (provisioner) { ann[ANN.provisioner] = provisioner; ann[ANN.betaProvisioner] = provisioner; }
    if (sc?.volumeBindingMode === 'WaitForFirstConsumer' && !ann[ANN.selectedNode]) ann[ANN.selectedNode] = await this.volumes.nodeName();
    next.metadata.annotations = ann;
    if (!deepEqual(next, c)) {
      await this.registry.update(this.pvc, next.metadata.namespace, next.metadata.name!, next, { skipRvCheck: true, fieldManager: 'k2d' });
      c = this.registry.peek(this.pvc, claim.metadata.namespace, claim.metadata.name!)!;
    }
    // A class that allows expansion: nothing limits a Docker volume's size, so a larger request is granted at once.
    const want = tryParseQuantity(spec(c).resources?.requests?.storage);
    const have = tryParseQuantity(spec(live).capacity?.storage);
    if (want && have && compareQuantity(want, have) > 0 && sc?.allowVolumeExpansion === true && provisioner === LOCAL_PROVISIONER) {
      const grown = clone(live);
      spec(grown).capacity = { ...spec(grown).capacity, storage: spec(c).resources.requests.storage };
      await this.registry.update(this.pv, undefined, pvName, grown, { skipRvCheck: true, fieldManager: 'k2d' });
      live = this.registry.peek(this.pv, undefined, pvName)!;
    }
    const st = { ...status(c), phase: 'Bound', accessModes: spec(live).accessModes, capacity: spec(live).capacity };
    if (!deepEqual(st, c.status)) {
      await this.registry.update(this.pvc, c.metadata.namespace, c.metadata.name!, { ...c, status: st }, { subresource: 'status', skipRvCheck: true, fieldManager: 'k2d' });
    }
  }

  private users(claim: KObject): KObject[] {
    return this.pods ? podsUsing(this.registry.all(this.pods, claim.metadata.namespace), claim) : [];
  }

  // ---- volumes -----------------------------------------------------------------------------

  private async syncVolume(name: string): Promise<void> {
    const pv = this.registry.peek(this.pv, undefined, name);
    if (!pv) return;
    await this.syncVolumePhase(pv);
    // pv-protection: a volume being deleted stays while it is bound.
    const live = this.registry.peek(this.pv, undefined, name);
    if (live?.metadata.deletionTimestamp && (live.metadata.finalizers ?? []).includes(PV_PROTECTION) && status(live).phase !== 'Bound') {
      await this.dropFinalizer(this.pv, live, PV_PROTECTION);
    }
  }

  private async syncVolumePhase(pv: KObject): Promise<void> {
    const name = pv.metadata.name!;
    const ref = spec(pv).claimRef as Obj | undefined;
    if (!ref?.uid) {
      await this.volumePhase(pv, 'Available');
      if (ref?.name) void this.enqueue(`pvc:${ref.namespace ?? ''}/${ref.name}`);
      return;
    }
    const claim = this.registry.peek(this.pvc, ref.namespace, ref.name);
    if (claim && claim.metadata.uid === ref.uid) {
      const bound = spec(claim).volumeName;
      if (!bound || bound === name) {
        await this.volumePhase(pv, 'Bound');
        if (!bound || status(claim).phase !== 'Bound') void this.enqueue(claimKey(claim));
        return;
      }
      // The claim went to another volume: undo a binding we made, as the binder does.
      if (pv.metadata.annotations?.[ANN.boundByController] === 'yes') {
        const next = clone(pv);
        delete spec(next).claimRef;
        const { [ANN.boundByController]: _drop, ...ann } = next.metadata.annotations ?? {};
        next.metadata.annotations = ann;
        await this.registry.update(this.pv, undefined, name, next, { skipRvCheck: true, fieldManager: 'k2d' });
      }
      return;
    }
    // Its claim is gone: released, then the reclaim policy decides.
    if (status(pv).phase === 'Failed') return;
    await this.volumePhase(pv, 'Released');
    await this.reclaim(this.registry.peek(this.pv, undefined, name)!);
  }

  private async reclaim(pv: KObject): Promise<void> {
    const name = pv.metadata.name!;
    const policy = spec(pv).persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Retain') return;
    if (policy === 'Recycle') {
      await this.volumePhase(pv, 'Failed', 'No recycler plugin found for the volume!');
      this.event(pv, 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
      return;
    }
    const b = backingOf(pv);
    if (!b?.owned) {
      const msg = `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched`;
      await this.volumePhase(pv, 'Failed', msg);
      this.event(pv, 'Warning', 'VolumeFailedDelete', msg);
      return;
    }
    const key = `pv:${name}`;
    const r = await this.volumes.remove(b.name);
    if (r === 'busy') {
      if (!this.busy.has(key)) this.event(pv, 'Normal', 'VolumeDeleteDeferred', `Docker volume ${b.name} is still used by a container; it is deleted once no container uses it`);
      this.busy.add(key);
      return;
    }
    this.busy.delete(key);
    try {
      await this.registry.delete(this.pv, undefined, name);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  /** The Docker binding of a hand-made PV, once the PV is gone (the data behind it stays). */
  private async removeBacking(key: string, name: string): Promise<void> {
    if ((await this.volumes.remove(name)) === 'busy') this.busy.add(key);
    else this.busy.delete(key);
  }

  // ---- writes ------------------------------------------------------------------------------

  private async volumePhase(pv: KObject, phase: string, message?: string): Promise<void> {
    const live = this.registry.peek(this.pv, undefined, pv.metadata.name!);
    if (!live) return;
    const st = status(live);
    if (st.phase === phase && st.message === message) return;
    const next: Obj = { ...st, phase };
    if (message) next.message = message; else delete next.message;
    if (st.phase !== phase) next.lastPhaseTransitionTime = rfc3339();
    await this.registry.update(this.pv, undefined, live.metadata.name!, { ...live, status: next }, { subresource: 'status', skipRvCheck: true, fieldManager: 'k2d' });
  }

  private async claimPhase(claim: KObject, phase: string): Promise<void> {
    const live = this.registry.peek(this.pvc, claim.metadata.namespace, claim.metadata.name!);
    if (!live || status(live).phase === phase) return;
    await this.registry.update(this.pvc, live.metadata.namespace, live.metadata.name!, { ...live, status: { ...status(live), phase } }, { subresource: 'status', skipRvCheck: true, fieldManager: 'k2d' });
  }

  private async annotate(kind: KindInfo, obj: KObject, add: Record<string, string>): Promise<void> {
    const live = this.registry.peek(kind, obj.metadata.namespace, obj.metadata.name!);
    if (!live || Object.entries(add).every(([k, v]) => live.metadata.annotations?.[k] === v)) return;
    const next = clone(live);
    next.metadata.annotations = { ...next.metadata.annotations, ...add };
    await this.registry.update(kind, live.metadata.namespace, live.metadata.name!, next, { skipRvCheck: true, fieldManager: 'k2d' });
  }

  private async dropFinalizer(kind: KindInfo, obj: KObject, finalizer: string): Promise<void> {
    const live = this.registry.peek(kind, obj.metadata.namespace, obj.metadata.name!);
    if (!live || !(live.metadata.finalizers ?? []).includes(finalizer)) return;
    const next = clone(live);
    next.metadata.finalizers = next.metadata.finalizers!.filter((f) => f !== finalizer);
    if (!next.metadata.finalizers.length) delete next.metadata.finalizers;
    await this.registry.update(kind, live.metadata.namespace, live.metadata.name!, next, { skipRvCheck: true, fieldManager: 'k2d' });
  }

  /** An Event about a claim or volume. */
  private event(obj: KObject, type: string, reason: string, message: string, component = 'persistentvolume-controller'): void {
    recordEvent(this.registry, obj, type as 'Normal' | 'Warning', reason, message, { component },
      { apiVersion: 'v1', kind: obj.metadata.namespace ? 'PersistentVolumeClaim' : 'PersistentVolume' });
  }
}

const claimKey = (c: KObject) => `pvc:${c.metadata.namespace}/${c.metadata.name}`;

/** What the local provisioner cannot make; the claim then waits (as on a cluster). */
function provisionRefusal(claim: KObject): string | undefined {
  const s = spec(claim);
  if (s.volumeMode === 'Block') return 'k2d.io/local provides Filesystem volumes only';
  if (s.selector) return 'claim Selector is not supported';
  if (s.dataSource || s.dataSourceRef) return 'k2d.io/local cannot populate a volume from a data source';
  return undefined;
}
