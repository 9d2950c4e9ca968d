// The generic registry: every verb written once for every kind, specialised by a small Strategy.
import { randomUUID } from 'node:crypto';
import {
  ApiError, alreadyExists, badRequest, conflict, gone, invalid, notFound, staleConflict,
  type StatusCause,
} from './errors.ts';
import type { Strategy, StrategyContext } from './strategy.ts';
import type { KindInfo, KObject, ManagedFieldsEntry } from './types.ts';
import { WatchHub, type Change } from './watch.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { ObjectStore } from '../store/store.ts';
import { clone, deepEqual } from './util.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  subresource?: string;
  now?: Date;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult { items: KObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number }

export interface Hooks {
  /** Computes managedFields for an ordinary write (provided by the patch/apply machinery). */
  managedFields?(kind: KindInfo, before: KObject | undefined, after: KObject, manager: string, now: Date, subresource?: string): ManagedFieldsEntry[] | undefined;
  /** ObjectMeta rules (names, labels, annotations), checked once name and namespace are final. */
  validateMeta?(kind: KindInfo, obj: KObject): StatusCause[];
}

export const resourceKey = (k: { plural: string; group: string }) => (k.group ? `${k.plural}.${k.group}` : k.plural);
/**
 * The registry's key of a resource served in a further version (autoscaling/v1
 * HorizontalPodAutoscaler beside v2): `<plural>.<version>.<group>`. Its strategy gives it a view
 * over the preferred version's storage.
 */
export const versionedResourceKey = (k: { plural: string; group: string; version: string }) => `${k.plural}.${k.version}.${k.group}`;
const objKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;
const apiVersionOf = (k: KindInfo) => (k.group ? `${k.group}/${k.version}` : k.version);

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const GENERATE_SUFFIX = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += GENERATE_SUFFIX[Math.floor(Math.random() * GENERATE_SUFFIX.length)];
  return s;
}

interface Continue { rv: number; start: string }
function encodeContinue(c: Continue): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: c.rv, start: c.start })).toString('base64');
}
function decodeContinue(s: string): Continue {
  try {
    const j = JSON.parse(Buffer.from(s, 'base64').toString());
    if (typeof j.rv !== 'number' || typeof j.start !== 'string') throw new Error('bad');
    return { rv: j.rv, start: j.start };
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data or incorrect format');
  }
}

export class Registry {
  readonly kinds = new Map<string, KindInfo>();
  private strategies = new Map<string, Strategy>();
  private data = new Map<string, Map<string, KObject>>();
  private rv: number;
  readonly hub: WatchHub;

  constructor(kinds: KindInfo[], private store: ObjectStore | undefined, initial: { objects: Array<{ key: string; obj: KObject }>; resourceVersion: number }, public hooks: Hooks = {}) {
    // The first listed version of a resource is its preferred one and has the plain key.
    for (const k of kinds) this.kinds.set(this.kinds.has(resourceKey(k)) ? versionedResourceKey(k) : resourceKey(k), k);
    this.rv = initial.resourceVersion;
    for (const { key, obj } of initial.objects) {
      const slash = key.indexOf('/');
      const res = key.slice(0, slash);
      this.bucket(res).set(objKey(obj.metadata.namespace, obj.metadata.name!), obj);
      const r = Number(obj.metadata.resourceVersion);
      if (r > this.rv) this.rv = r;
    }
    this.hub = new WatchHub(this.rv);
  }

  setStrategy(resource: string, s: Strategy): void {
    this.strategies.set(resource, s);
  }

  strategyOf(kind: KindInfo): Strategy {
    return this.strategies.get(this.keyOf(kind)) ?? {};
  }

  /** The key of a kind in `kinds` (and of its strategy). */
  keyOf(kind: KindInfo): string {
    const plain = resourceKey(kind);
    const k = this.kinds.get(plain);
    return !k || k.version === kind.version ? plain : versionedResourceKey(kind);
  }

  kind(resource: string): KindInfo {
    const k = this.kinds.get(resource);
    if (!k) throw new Error(`unknown resource ${resource}`);
    return k;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  private bucket(resource: string): Map<string, KObject> {
    let b = this.data.get(resource);
    if (!b) this.data.set(resource, (b = new Map()));
    return b;
  }

  /** Storage key for a kind: a view (events.k8s.io Event) shares another resource's storage. */
  private storageOf(kind: KindInfo): string {
    return this.strategyOf(kind).view?.storage ?? this.keyOf(kind);
  }

  private ctx(kind: KindInfo, dryRun = false, now = new Date()): StrategyContext {
    return { registry: this, kind, dryRun, now };
  }

  private toView(kind: KindInfo, obj: KObject): KObject {
    const v = this.strategyOf(kind).view;
    return v ? v.toView(obj) : obj;
  }

  private fromView(kind: KindInfo, obj: KObject): KObject {
    const v = this.strategyOf(kind).view;
    return v ? v.fromView(obj) : obj;
  }

  // ---- reads -------------------------------------------------------------------------------

  /** The stored object itself (not a copy): callers must not mutate it. */
  peek(kind: KindInfo, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.bucket(this.storageOf(kind)).get(objKey(kind.namespaced ? namespace : undefined, name));
    return o && this.toView(kind, o);
  }

  async get(kind: KindInfo, namespace: string | undefined, name: string): Promise<KObject> {
    const strategy = this.strategyOf(kind);
    await strategy.beforeRead?.(this.ctx(kind));
    const o = strategy.computed ? (await strategy.computed(kind.namespaced ? namespace : undefined, name)).find((x) => x.metadata.name === name) : this.peek(kind, namespace, name);
    if (!o) throw notFound(kind.plural, kind.group, name);
    return this.withTypeMeta(kind, clone(o));
  }

  withTypeMeta(kind: KindInfo, o: KObject): KObject {
    const { apiVersion: _a, kind: _k, ...rest } = o;
    return { apiVersion: apiVersionOf(kind), kind: kind.kind, ...rest } as KObject;
  }

  /** Every stored object of a kind (optionally in one namespace), sorted by namespace/name. */
  all(kind: KindInfo, namespace?: string): KObject[] {
    const out: KObject[] = [];
    const entries = [...this.bucket(this.storageOf(kind)).entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [, o] of entries) {
      if (namespace && o.metadata.namespace !== namespace) continue;
      out.push(this.toView(kind, o));
    }
    return out;
  }

  matcher(kind: KindInfo, opts: { labelSelector?: string; fieldSelector?: string }): (o: KObject) => boolean {
    const lab = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : undefined;
    const fld = opts.fieldSelector ? parseFieldSelector(opts.fieldSelector, ['metadata.name', 'metadata.namespace', ...kind.selectableFields]) : undefined;
    return (o) => (!lab || lab(o.metadata.labels)) && (!fld || fld(o));
  }

  async list(kind: KindInfo, namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
    const strategy = this.strategyOf(kind);
    await strategy.beforeRead?.(this.ctx(kind));
    const match = this.matcher(kind, opts);
    let rv = this.rv;
    let start = '';
    if (opts.continue) {
      const c = decodeContinue(opts.continue);
      rv = c.rv; start = c.start;
    }
    const items: KObject[] = [];
    const all = strategy.computed ? sortByKey(await strategy.computed(kind.namespaced ? namespace : undefined)) : this.all(kind, kind.namespaced ? namespace : undefined);
    let i = 0;
    for (; i < all.length; i++) {
      const o = all[i];
      if (start && objKey(o.metadata.namespace, o.metadata.name!) <= start) continue;
      if (!match(o)) continue;
      if (opts.limit && opts.limit > 0 && items.length >= opts.limit) break;
      items.push(clone(o));
    }
    const res: ListResult = { items, resourceVersion: String(rv) };
    if (i < all.length) {
      const last = items[items.length - 1];
      // Only offer a continue when something after the page still matches.
      let remaining = 0;
      for (let j = i; j < all.length; j++) if (match(all[j])) remaining++;
      if (remaining > 0 && last) {
        res.continue = encodeContinue({ rv, start: objKey(last.metadata.namespace, last.metadata.name!) });
        res.remainingItemCount = remaining;
      }
    }
    return res;
  }

  // ---- writes ------------------------------------------------------------------------------

  private nextRv(): string {
    return String(++this.rv);
  }

  private persist(kind: KindInfo, type: Change['type'], obj: KObject, old?: KObject): void {
    const storage = this.storageOf(kind);
    const key = objKey(obj.metadata.namespace, obj.metadata.name!);
    const b = this.bucket(storage);
    if (type === 'DELETED') {
      b.delete(key);
      this.store?.delete(`${storage}/${key}`, Number(obj.metadata.resourceVersion));
    } else {
      b.set(key, obj);
      this.store?.put(`${storage}/${key}`, obj);
    }
    this.hub.publish({ rv: Number(obj.metadata.resourceVersion), resource: storage, type, object: obj, old });
    if (type === 'DELETED') for (const fn of [...this.deleteListeners]) fn();
  }

  private requireNamespace(kind: KindInfo, namespace: string | undefined, forCreate: boolean): void {
    if (!kind.namespaced) return;
    if (!namespace) throw badRequest('the namespace of the object must be specified');
    const nsKind = this.kinds.get('namespaces');
    if (!nsKind) return;
    const ns = this.peek(nsKind, undefined, namespace);
    if (!ns) throw notFound('namespaces', '', namespace);
    if (forCreate && ns.metadata.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `${kind.plural}${kind.group ? '.' + kind.group : ''} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, { kind: kind.plural, group: kind.group || undefined, causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }] });
    }
  }

  private checkTypeMeta(kind: KindInfo, obj: KObject): void {
    const want = apiVersionOf(kind);
    if (obj.apiVersion !== undefined && obj.apiVersion !== want) {
      throw badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${want})`);
    }
    if (obj.kind !== undefined && obj.kind !== kind.kind) {
      throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${kind.kind})`);
    }
  }

  private hasSpec(obj: KObject): boolean {
    return 'spec' in obj;
  }

  private spec(obj: KObject): unknown {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
    return rest;
  }

  private finishMeta(kind: KindInfo, obj: KObject, manager: string | undefined, before: KObject | undefined, now: Date, subresource?: string): void {
    if (!manager || !this.hooks.managedFields) return;
    const mf = this.hooks.managedFields(kind, before, obj, manager, now, subresource);
    if (mf && mf.length) obj.metadata.managedFields = mf;
    else delete obj.metadata.managedFields;
  }

  private strategyCauses(kind: KindInfo, obj: KObject, old: KObject | undefined, ctx: StrategyContext): void {
    const causes: StatusCause[] = [...(this.hooks.validateMeta?.(kind, obj) ?? []), ...(this.strategyOf(kind).validate?.(obj, old, ctx) ?? [])];
    if (causes.length) throw invalid(kind.kind, kind.group, obj.metadata.name ?? obj.metadata.generateName ?? '', causes);
  }

  /** POST. The object has been decoded, shape-validated and checked against the URL. */
  async create(kind: KindInfo, namespace: string | undefined, input: KObject, opts: WriteOptions = {}): Promise<KObject> {
    const now = opts.now ?? new Date();
    const ctx = this.ctx(kind, !!opts.dryRun, now);
    this.checkTypeMeta(kind, input);
    const strategy = this.strategyOf(kind);
    let obj = clone(input);
    obj.metadata ??= {};
    if (kind.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = namespace ?? obj.metadata.namespace;
    } else {
      delete obj.metadata.namespace;
    }
    if (strategy.createOnly) {
      return this.withTypeMeta(kind, strategy.createOnly(obj, ctx));
    }
    if (!obj.metadata.name) {
      if (obj.metadata.generateName) {
        obj.metadata.name = obj.metadata.generateName + randomSuffix();
      } else {
        throw invalid(kind.kind, kind.group, '', [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);
      }
    }
    this.requireNamespace(kind, obj.metadata.namespace, true);
    // As the apiserver's strategies do: a new object's status is the server's to set.
    if (kind.subresources.includes('status')) delete obj.status;
    strategy.prepareForCreate?.(obj, ctx);
    this.strategyCauses(kind, obj, undefined, ctx);
    const name = obj.metadata.name;
    if (this.peek(kind, obj.metadata.namespace, name)) {
      if (input.metadata?.generateName && !input.metadata?.name) {
        throw new ApiError(409, 'AlreadyExists', `${kind.plural} "${name}" already exists, the server was not able to generate a unique name for the object`, { name, kind: kind.plural });
      }
      throw alreadyExists(kind.plural, kind.group, name);
    }
    const m = obj.metadata;
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339(now);
    delete m.deletionTimestamp; delete m.deletionGracePeriodSeconds; delete m.selfLink;
    if (this.hasSpec(obj)) m.generation = 1; else delete m.generation;
    this.finishMeta(kind, obj, opts.fieldManager, undefined, now);
    obj = this.withTypeMeta(kind, obj);
    if (opts.dryRun) {
      obj.metadata.resourceVersion = String(this.rv);
      return obj;
    }
    obj.metadata.resourceVersion = this.nextRv();
    this.persist(kind, 'ADDED', this.fromView(kind, obj));
    await strategy.afterCreate?.(obj, ctx);
    return clone(obj);
  }

  /**
   * PUT (also the end of every PATCH). `input` is the full new object. With a subresource of
   * 'status' only the status changes; on the main resource the status is kept.
   */
  async update(kind: KindInfo, namespace: string | undefined, name: string, input: KObject, opts: WriteOptions & { allowCreate?: boolean; skipRvCheck?: boolean } = {}): Promise<{ object: KObject; created: boolean }> {
    const now = opts.now ?? new Date();
    const ctx = this.ctx(kind, !!opts.dryRun, now);
    this.checkTypeMeta(kind, input);
    const obj = clone(input);
    obj.metadata ??= {};
    // managedFields set to one empty entry strips them all, as the apiserver's field manager does.
    const mfReset = Array.isArray(obj.metadata.managedFields) && obj.metadata.managedFields.length === 1
      && deepEqual(obj.metadata.managedFields[0], {}) && !opts.subresource;
    if (mfReset) delete obj.metadata.managedFields;
    if (obj.metadata.name && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    if (kind.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = namespace;
    } else delete obj.metadata.namespace;
    const old = this.peek(kind, namespace, name);
    if (!old) {
      if (opts.subresource || !opts.allowCreate) throw notFound(kind.plural, kind.group, name);
      if (obj.metadata.resourceVersion) throw notFound(kind.plural, kind.group, name);
      return { object: await this.create(kind, namespace, obj, opts), created: true };
    }
    if (!opts.skipRvCheck && obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw staleConflict(kind.plural, kind.group, name);
    }
    if (obj.metadata.uid && obj.metadata.uid !== old.metadata.uid) {
      throw conflict(kind.plural, kind.group, name, `Precondition failed: UID in precondition: ${obj.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    let next: KObject;
    const hasStatusSub = kind.subresources.includes('status');
    const part = opts.subresource ? this.strategyOf(kind).subresources?.[opts.subresource] : undefined;
    if (opts.subresource === 'status') {
      next = clone(old);
      if ('status' in obj) next.status = obj.status; else delete next.status;
      // The status subresource may change labels/annotations? No: the real server keeps metadata too.
    } else if (part) {
      next = clone(old);
      part.update(next, obj);
    } else {
      next = obj;
      if (hasStatusSub) {
        if ('status' in old) next.status = clone(old.status); else delete next.status;
      }
      const m = next.metadata, om = old.metadata;
      m.uid = om.uid;
      m.creationTimestamp = om.creationTimestamp;
      if (om.deletionTimestamp) { m.deletionTimestamp = om.deletionTimestamp; m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds; }
      else { delete m.deletionTimestamp; delete m.deletionGracePeriodSeconds; }
      if (om.generation !== undefined) m.generation = om.generation; else delete m.generation;
      if (om.deletionTimestamp && (m.finalizers ?? []).some((f) => !(om.finalizers ?? []).includes(f))) {
        throw invalid(kind.kind, kind.group, name, [{ reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: 'Forbidden: no new finalizers can be added if the object is being deleted' }]);
      }
      this.strategyOf(kind).prepareForUpdate?.(next, old, ctx);
    }
    if (part) {
      const causes = part.validate(next, old);
      if (causes.length) throw invalid(kind.kind, kind.group, name, causes);
    } else this.strategyCauses(kind, next, old, ctx);
    if (next.metadata.generation !== undefined && !deepEqual(this.spec(next), this.spec(old))) {
      next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    if (mfReset) delete next.metadata.managedFields;
    else if (opts.fieldManager) this.finishMeta(kind, next, opts.fieldManager, old, now, opts.subresource);
    else if (old.metadata.managedFields && !next.metadata.managedFields) next.metadata.managedFields = clone(old.metadata.managedFields);
    const typed = this.withTypeMeta(kind, next);
    const oldTyped = this.withTypeMeta(kind, clone(old));
    if (deepEqual(this.withoutManagedTimes(typed), this.withoutManagedTimes(oldTyped))) {
      // A no-op write changes nothing, not even the resourceVersion (as on Kubernetes).
      return { object: oldTyped, created: false };
    }
    if (opts.dryRun) return { object: typed, created: false };
    typed.metadata.resourceVersion = this.nextRv();
    // Finalizers emptied on an object being deleted: now it goes.
    if (typed.metadata.deletionTimestamp && !(typed.metadata.finalizers ?? []).length) {
      this.persist(kind, 'DELETED', this.fromView(kind, typed), old);
      await this.afterRemoval(kind, typed);
      return { object: clone(typed), created: false };
    }
    this.persist(kind, 'MODIFIED', this.fromView(kind, typed), old);
    return { object: clone(typed), created: false };
  }

  private withoutManagedTimes(o: KObject): KObject {
    if (!o.metadata.managedFields) return o;
    const c = { ...o, metadata: { ...o.metadata } };
    c.metadata.managedFields = o.metadata.managedFields.map((e) => ({ ...e, time: undefined }));
    return c;
  }

  /**
   * DELETE. Finalizers and a strategy's deletion phase keep the object, marked with a
   * deletionTimestamp; otherwise it goes at once (stored kinds have no grace period to wait for).
   */
  async delete(kind: KindInfo, namespace: string | undefined, name: string, opts: { dryRun?: boolean; propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string }; gracePeriodSeconds?: number; now?: Date } = {}): Promise<{ object: KObject; finished: boolean }> {
    const now = opts.now ?? new Date();
    const ctx = this.ctx(kind, !!opts.dryRun, now);
    const old = this.peek(kind, namespace, name);
    if (!old) throw notFound(kind.plural, kind.group, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw conflict(kind.plural, kind.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(kind.plural, kind.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in meta: ${old.metadata.resourceVersion}`);
    }
    const policy = opts.propagationPolicy ?? 'Background';
    if (!['Background', 'Foreground', 'Orphan'].includes(policy)) {
      throw invalid('DeleteOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"` }]);
    }
    const strategy = this.strategyOf(kind);
    let next = clone(old);
    const finalizers = new Set(next.metadata.finalizers ?? []);
    if (policy === 'Foreground' && this.hasDependents(old)) finalizers.add('foregroundDeletion');
    if (policy === 'Orphan' && this.hasDependents(old)) finalizers.add('orphan');
    const phased = strategy.beginDelete?.(next, ctx, { gracePeriodSeconds: opts.gracePeriodSeconds });
    if (phased) next = phased;
    if (finalizers.size || phased) {
      if (old.metadata.deletionTimestamp && !phased) return { object: this.withTypeMeta(kind, clone(old)), finished: false };
      next.metadata.finalizers = finalizers.size ? [...finalizers] : next.metadata.finalizers;
      // As the apiserver does: the timestamp is when the grace period ends.
      next.metadata.deletionGracePeriodSeconds ??= 0;
      next.metadata.deletionTimestamp ??= rfc3339(new Date(now.getTime() + next.metadata.deletionGracePeriodSeconds * 1000));
      const typed = this.withTypeMeta(kind, next);
      if (opts.dryRun) return { object: typed, finished: false };
      if (!deepEqual(typed, this.withTypeMeta(kind, clone(old)))) {
        typed.metadata.resourceVersion = this.nextRv();
        this.persist(kind, 'MODIFIED', this.fromView(kind, typed), old);
      }
      this.runFinalizers(kind, typed);
      return { object: clone(typed), finished: false };
    }
    const typed = this.withTypeMeta(kind, next);
    if (opts.dryRun) return { object: typed, finished: true };
    typed.metadata.resourceVersion = this.nextRv();
    this.persist(kind, 'DELETED', this.fromView(kind, typed), old);
    await this.afterRemoval(kind, typed, policy);
    return { object: clone(typed), finished: true };
  }

  /** Removes an object whose deletion phase is over (a namespace emptied of its content). */
  async purge(kind: KindInfo, namespace: string | undefined, name: string): Promise<void> {
    const old = this.peek(kind, namespace, name);
    if (!old) return;
    const typed = this.withTypeMeta(kind, clone(old));
    typed.metadata.resourceVersion = this.nextRv();
    this.persist(kind, 'DELETED', this.fromView(kind, typed), old);
    await this.afterRemoval(kind, typed);
  }

  private async afterRemoval(kind: KindInfo, obj: KObject, policy = 'Background'): Promise<void> {
    await this.strategyOf(kind).afterDelete?.(obj, this.ctx(kind));
    if (policy === 'Background') this.collectDependents(obj.metadata.uid!);
  }

  // ---- garbage collection by ownerReferences -----------------------------------------------

  private dependentsOf(uid: string): Array<{ kind: KindInfo; obj: KObject }> {
    const out: Array<{ kind: KindInfo; obj: KObject }> = [];
    for (const kind of this.kinds.values()) {
      if (this.strategyOf(kind).view) continue;
      for (const o of this.bucket(this.keyOf(kind)).values()) {
        if (o.metadata.ownerReferences?.some((r) => r.uid === uid)) out.push({ kind, obj: o });
      }
    }
    return out;
  }

  private hasDependents(obj: KObject): boolean {
    return this.dependentsOf(obj.metadata.uid!).length > 0;
  }

  /** Background propagation: dependents whose every owner is gone are deleted too. */
  private collectDependents(uid: string): void {
    for (const { kind, obj } of this.dependentsOf(uid)) {
      const owners = obj.metadata.ownerReferences!.filter((r) => r.uid !== uid);
      const live = owners.some((r) => this.findByUid(r.uid));
      if (live) continue;
      void this.delete(kind, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: 'Background' }).catch(() => {});
    }
  }

  /** The stored object of a kind with this uid (no sorting, no copy). */
  byUid(kind: KindInfo, uid: string): KObject | undefined {
    for (const o of this.bucket(this.storageOf(kind)).values()) if (o.metadata.uid === uid) return this.toView(kind, o);
    return undefined;
  }

  private findByUid(uid: string): KObject | undefined {
    for (const b of this.data.values()) for (const o of b.values()) if (o.metadata.uid === uid) return o;
    return undefined;
  }

  /** Works the finalizers this server owns: orphan and foregroundDeletion. */
  private runFinalizers(kind: KindInfo, obj: KObject): void {
    const fins = obj.metadata.finalizers ?? [];
    const uid = obj.metadata.uid!;
    setImmediate(async () => {
      try {
        if (fins.includes('orphan')) {
          for (const d of this.dependentsOf(uid)) {
            const c = clone(d.obj);
            c.metadata.ownerReferences = c.metadata.ownerReferences!.filter((r) => r.uid !== uid);
            if (!c.metadata.ownerReferences.length) delete c.metadata.ownerReferences;
            await this.update(d.kind, c.metadata.namespace, c.metadata.name!, c, { skipRvCheck: true });
          }
          await this.removeFinalizer(kind, obj, 'orphan');
        }
        if (fins.includes('foregroundDeletion')) {
          const deps = this.dependentsOf(uid);
          for (const d of deps) {
            await this.delete(d.kind, d.obj.metadata.namespace, d.obj.metadata.name!, { propagationPolicy: 'Foreground' }).catch(() => {});
          }
          await this.settleForeground(kind, obj);
        }
      } catch {
        /* a concurrent change wins; the next write re-drives it */
      }
    });
  }

  private async settleForeground(kind: KindInfo, obj: KObject): Promise<void> {
    if (this.dependentsOf(obj.metadata.uid!).length) {
      // Dependents still being deleted: check again each time an object leaves the store.
      const stop = this.onAnyDelete(() => {
        if (!this.dependentsOf(obj.metadata.uid!).length) { stop(); void this.removeFinalizer(kind, obj, 'foregroundDeletion'); }
      });
      return;
    }
    await this.removeFinalizer(kind, obj, 'foregroundDeletion');
  }

  private deleteListeners = new Set<() => void>();
  private onAnyDelete(fn: () => void): () => void {
    this.deleteListeners.add(fn);
    return () => { this.deleteListeners.delete(fn); };
  }

  private async removeFinalizer(kind: KindInfo, obj: KObject, f: string): Promise<void> {
    const cur = this.peek(kind, obj.metadata.namespace, obj.metadata.name!);
    if (!cur || cur.metadata.uid !== obj.metadata.uid) return;
    const c = clone(cur);
    c.metadata.finalizers = (c.metadata.finalizers ?? []).filter((x) => x !== f);
    if (!c.metadata.finalizers.length) delete c.metadata.finalizers;
    await this.update(kind, c.metadata.namespace, c.metadata.name!, c, { skipRvCheck: true });
  }

  async deleteCollection(kind: KindInfo, namespace: string | undefined, opts: ListOptions & { dryRun?: boolean; propagationPolicy?: string }): Promise<KObject[]> {
    const { items } = await this.list(kind, namespace, { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
    const out: KObject[] = [];
    for (const o of items) {
      try {
        out.push((await this.delete(kind, o.metadata.namespace, o.metadata.name!, opts)).object);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return out;
  }

  /** Every namespaced object in a namespace, for namespace deletion. */
  namespacedKinds(): KindInfo[] {
    return [...this.kinds.values()].filter((k) => k.namespaced && !this.strategyOf(k).view && !this.strategyOf(k).createOnly);
  }

  // ---- watch -------------------------------------------------------------------------------

  /**
   * Opens a watch. `send` receives WatchEvents in order. Returns a stop function. The caller has
   * already answered the HTTP head; errors before that are thrown.
   */
  watch(kind: KindInfo, namespace: string | undefined, opts: { labelSelector?: string; fieldSelector?: string; resourceVersion?: string; sendInitialEvents?: boolean; allowBookmarks?: boolean },
    send: (ev: { type: string; object: unknown }) => void): () => void {
    const match = this.matcher(kind, opts);
    const storage = this.storageOf(kind);
    const ns = kind.namespaced ? namespace : undefined;
    const view = (o: KObject) => this.withTypeMeta(kind, clone(this.toView(kind, o)));
    const deliver = (c: Change) => {
      const now = match(this.toView(kind, c.object));
      const was = c.old ? match(this.toView(kind, c.old)) : false;
      if (c.type === 'ADDED') { if (now) send({ type: 'ADDED', object: view(c.object) }); return; }
      if (c.type === 'DELETED') { if (was || now) send({ type: 'DELETED', object: view(c.object) }); return; }
      if (now && was) send({ type: 'MODIFIED', object: view(c.object) });
      else if (now) send({ type: 'ADDED', object: view(c.object) });
      else if (was) send({ type: 'DELETED', object: view(c.object) });
    };
    const rvParam = opts.resourceVersion;
    let replay: Change[] = [];
    if (opts.sendInitialEvents || !rvParam || rvParam === '0') {
      for (const o of this.all(kind, ns)) if (match(o)) send({ type: 'ADDED', object: this.withTypeMeta(kind, clone(o)) });
      if (opts.sendInitialEvents) {
        send({ type: 'BOOKMARK', object: this.bookmark(kind, { 'k8s.io/initial-events-end': 'true' }) });
      }
    } else {
      const from = Number(rvParam);
      if (!Number.isFinite(from)) throw badRequest(`resourceVersion: Invalid value: "${rvParam}": must be a non-negative integer`);
      const r = this.hub.since(from, storage, ns);
      if (!r) throw gone(`too old resource version: ${from} (${this.rv})`);
      replay = r;
    }
    for (const c of replay) deliver(c);
    return this.hub.add({ resource: storage, namespace: ns, onChange: deliver });
  }

  bookmark(kind: KindInfo, annotations?: Record<string, string>): KObject {
    const md: KObject['metadata'] = { resourceVersion: String(this.rv) };
    if (annotations) md.annotations = annotations;
    return { apiVersion: apiVersionOf(kind), kind: kind.kind, metadata: md };
  }
}

function sortByKey(list: KObject[]): KObject[] {
  const key = (o: KObject) => objKey(o.metadata.namespace, o.metadata.name!);
  return list.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
