// metadata.managedFields and server-side apply, after the apiserver's field manager chain
// (k8s.io/apimachinery/pkg/util/managedfields/internal) on top of structured-merge-diff's
// merge.Updater. One API version per kind is served here, so no conversion step exists.

import { ApiError, badRequest } from '../errors.ts';
import type { KObject, ManagedFieldsEntry } from '../types.ts';
import { UNKNOWN, type Node } from '../schema.ts';
import { FieldSet, fieldPE, pathString, type Path } from './fieldpath.ts';
import { compareValues, mergeValues, removeItems, toFieldSet, validateTyped, valuesEqual, ItemKeyError } from './typed.ts';

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const MAX_UPDATE_MANAGERS = 10;

/** One manager's fields (upstream fieldpath.VersionedSet). */
interface VSet { set: FieldSet; apiVersion: string; applied: boolean }
/** Keyed by the manager identifier (JSON of manager/operation/apiVersion/subresource). */
type Managers = Map<string, VSet>;
interface Managed { fields: Managers; times: Map<string, string | undefined> }

export interface FieldConflict { manager: string; field: string }

// ---------------------------------------------------------------- identifiers and encoding

interface Ident { manager: string; operation: 'Apply' | 'Update'; apiVersion?: string; subresource?: string }

/** upstream BuildManagerIdentifier: Apply identities ignore the API version. */
function managerId(e: Ident): string {
  const o: Record<string, string> = { manager: e.manager ?? '', operation: e.operation };
  if (e.operation !== 'Apply' && e.apiVersion) o.apiVersion = e.apiVersion;
  if (e.subresource) o.subresource = e.subresource;
  return JSON.stringify(o);
}
const parseId = (id: string) => JSON.parse(id) as Ident;

function decodeManaged(entries: unknown): Managed {
  const m: Managed = { fields: new Map(), times: new Map() };
  if (entries === undefined || entries === null) return m;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((raw, i) => {
    const e = (raw ?? {}) as ManagedFieldsEntry;
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (!e.apiVersion) throw new Error('apiVersion must not be empty');
    if (!e.fieldsType) throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (e.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType "${e.fieldsType}" in managed fields entry ${i}`);
    const id = managerId({ manager: e.manager ?? '', operation: e.operation, apiVersion: e.apiVersion, subresource: e.subresource });
    m.fields.set(id, { set: FieldSet.fromFields(e.fieldsV1 ?? {}), apiVersion: e.apiVersion, applied: e.operation === 'Apply' });
    m.times.set(id, e.time && !Number.isNaN(Date.parse(e.time)) ? formatTime(e.time) : undefined);
  });
  return m;
}

const seconds = (t: string | undefined) => (t ? Math.floor(Date.parse(t) / 1000) || 0 : 0);
const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function encodeManaged(m: Managed): ManagedFieldsEntry[] | undefined {
  if (m.fields.size === 0) return undefined;
  const out: ManagedFieldsEntry[] = [];
  for (const [id, vs] of m.fields) {
    const ident = parseId(id);
    const e: ManagedFieldsEntry = {};
    if (ident.manager) e.manager = ident.manager;
    e.operation = vs.applied ? 'Apply' : ident.operation;
    e.apiVersion = vs.apiVersion;
    const t = m.times.get(id);
    if (t) e.time = t;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = vs.set.toFields();
    if (ident.subresource) e.subresource = ident.subresource;
    out.push(e);
  }
  return out.sort((p, q) =>
    cmpStr(p.operation!, q.operation!) || seconds(p.time) - seconds(q.time) || cmpStr(p.manager ?? '', q.manager ?? '')
    || cmpStr(p.apiVersion!, q.apiVersion!) || cmpStr(p.subresource ?? '', q.subresource ?? ''));
}

/** RFC 3339 to the second, as metav1.Time serialises. */
export function formatTime(now: Date | string | number): string {
  const d = now instanceof Date ? now : new Date(now);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------- what is tracked

// upstream stripMetaManager: never owned by anyone.
const STRIP = FieldSet.of(
  [fieldPE('apiVersion')], [fieldPE('kind')], [fieldPE('metadata')],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion']
    .map((n): Path => [fieldPE('metadata'), fieldPE(n)]),
);

type Filter = (s: FieldSet) => FieldSet;

/** The registry's reset fields: what a write through this (sub)resource may not own. */
function filterFor(subresource: string | undefined, resetFields?: string[][]): Filter {
  if (resetFields) {
    const ex = FieldSet.of(...resetFields.map((p) => p.map(fieldPE)));
    return (s) => s.recursiveDifference(ex);
  }
  if (subresource === 'scale') {
    const only = FieldSet.of([fieldPE('spec'), fieldPE('replicas')]);
    return (s) => s.intersection(only);
  }
  const ex = FieldSet.of([fieldPE(subresource === 'status' ? 'spec' : 'status')]);
  return (s) => s.recursiveDifference(ex);
}

/** An empty typed object of the kind: the Go struct's non-pointer fields are still there. */
function emptyObject(node: Node): Obj {
  const fill = (n: Node, depth: number): Obj => {
    const o: Obj = {};
    if (depth > 8) return o;
    for (const k of n.alwaysNull()) o[k] = null;
    for (const k of n.alwaysPresent()) o[k] = fill(n.field(k), depth + 1);
    return o;
  };
  const o = fill(node, 0);
  if (node.hasField('metadata')) o.metadata ??= {};
  return o;
}

// ---------------------------------------------------------------- merge.Updater

interface Comparison { added: FieldSet; modified: FieldSet; removed: FieldSet }

function compareFiltered(a: unknown, b: unknown, node: Node, filter: Filter): Comparison {
  const c = compareValues(a, b, node);
  return { added: filter(c.added), modified: filter(c.modified), removed: filter(c.removed) };
}

class Conflicts extends Error {
  constructor(readonly list: ConflictList) { super('conflicts'); }
}

type ConflictList = { id: string; path: Path }[];

/** upstream Updater.update: other managers lose what this write changes, or it conflicts. */
function updateOwners(live: unknown, next: unknown, node: Node, managers: Managers, workflow: string, force: boolean,
  filter: Filter): { cmp: Comparison; conflicts: ConflictList } {
  const cmp = compareFiltered(live, next, node, filter);
  const changed = cmp.modified.union(cmp.added);
  const found = new Map<string, FieldSet>();
  for (const [id, vs] of managers) {
    if (id === workflow) continue;
    const c = vs.set.intersection(changed);
    if (!c.empty()) found.set(id, c);
  }
  const conflicts: ConflictList = [];
  for (const id of [...found.keys()].sort(cmpStr)) for (const p of found.get(id)!.paths()) conflicts.push({ id, path: p });
  if (!force && conflicts.length) throw new Conflicts(conflicts);
  for (const [id, c] of found) { const vs = managers.get(id)!; vs.set = vs.set.difference(c); }
  if (!cmp.removed.empty()) {
    for (const [id, vs] of managers) if (id !== workflow) vs.set = vs.set.difference(cmp.removed);
  }
  for (const [id, vs] of managers) if (vs.set.empty()) managers.delete(id);
  return { cmp, conflicts };
}

/** Update (create/update/patch) of `next` over `live`: the fields this write set. */
function structuredUpdate(live: unknown, next: unknown, node: Node, managers: Managers, filter: Filter): FieldSet {
  const { cmp } = updateOwners(live, next, node, managers, '\0current-operation', true, filter);
  return filter(cmp.modified.union(cmp.added));
}

function prune(merged: unknown, managers: Managers, node: Node, lastSet: FieldSet | undefined): unknown {
  if (!lastSet || lastSet.empty()) return merged;
  const named = (s: FieldSet) => s.withNamedFieldsAsMembers(node);
  const pruned = removeItems(merged, named(lastSet), node);
  // add back what anyone (including the applier's new configuration) still owns
  let owned = new FieldSet();
  for (const vs of managers.values()) owned = owned.union(vs.set);
  const mergedSet = named(toFieldSet(merged, node));
  const pruned2 = removeItems(merged, mergedSet.difference(named(toFieldSet(pruned, node)).union(named(owned))), node);
  // and what the applier never owned (it may only remove its own fields)
  const pruned2Set = named(toFieldSet(pruned2, node));
  return removeItems(merged, mergedSet.difference(pruned2Set).intersection(named(lastSet)), node);
}

// ---------------------------------------------------------------- update path

export interface UpdateManagedFieldsOptions {
  /** The stored object; absent for a create. */
  before?: KObject | null;
  /** The object about to be stored, after defaulting. Its managedFields (if sent) are honoured. */
  after: KObject;
  manager: string;
  operation?: 'Update';
  /** The served group/version, e.g. `apps/v1`. */
  apiVersion: string;
  now: Date | string | number;
  subresource?: string;
  /** Schema root of the kind; without it lists are tracked as single values, not by item key. */
  node?: Node;
  /** Top-level paths this write may not own; defaults: `status` (main), `spec` (status). */
  resetFields?: string[][];
}

/**
 * The managedFields `after` should be stored with, recording the fields `manager` changed;
 * undefined when none are tracked. Never throws (as upstream UpdateNoErrors).
 */
export function updateManagedFields(o: UpdateManagedFieldsOptions): ManagedFieldsEntry[] | undefined {
  const node = o.node ?? UNKNOWN;
  const after = structuredClone(o.after);
  after.metadata ??= {};
  const before = o.before ?? null;
  const liveEntries = before?.metadata?.managedFields;
  let managed: Managed;
  try {
    managed = pickManaged(liveEntries, after.metadata.managedFields, !!o.subresource);
  } catch {
    managed = { fields: new Map(), times: new Map() };
  }
  delete after.metadata.managedFields;
  try {
    const live = before ?? emptyObject(node);
    const m = updateChain(live, after, managed, o.manager, o.apiVersion, o.subresource, node, formatTime(o.now), filterFor(o.subresource, o.resetFields));
    return encodeManaged(m);
  } catch {
    // upstream UpdateNoErrors: a failure keeps the stored managedFields
    return liveEntries ? structuredClone(liveEntries) : undefined;
  }
}

/** upstream decodeLiveOrNew: a client may send managedFields to replace or reset them. */
function pickManaged(live: unknown, sent: unknown, isSubresource: boolean): Managed {
  const fromLive = () => { try { return decodeManaged(live); } catch { return { fields: new Map(), times: new Map() } as Managed; } };
  if (isSubresource) return fromLive();
  if (Array.isArray(sent) && (sent.length === 0 || (sent.length === 1 && isMap(sent[0]) && Object.keys(sent[0]).length === 0))) {
    return { fields: new Map(), times: new Map() };
  }
  try {
    const m = decodeManaged(sent);
    if (m.fields.size > 0) return m;
  } catch { /* fall back to the stored ones */ }
  return fromLive();
}

function updateChain(live: Obj, next: Obj, managed: Managed, manager: string, apiVersion: string, subresource: string | undefined,
  node: Node, now: string, filter: Filter): Managed {
  // upstream skipNonAppliedManager: objects that never had managedFields are not tracked
  if (managed.fields.size === 0 && (live.metadata as Obj | undefined)?.uid) return managed;
  const id = managerId({ manager: manager || 'unknown', operation: 'Update', apiVersion, subresource });
  let set = structuredUpdate(live, next, node, managed.fields, filter);
  set = set.difference(STRIP);
  if (!set.empty()) {
    const prev = managed.fields.get(id);
    managed.fields.set(id, { set: prev ? set.union(prev.set) : set, apiVersion, applied: false });
    managed.times.set(id, now);
  }
  capUpdateManagers(managed);
  return managed;
}

/** upstream capManagersManager: the oldest Update entries fold into `ancient-changes`. */
function capUpdateManagers(m: Managed): void {
  const updaters = [...m.fields].filter(([, vs]) => !vs.applied).map(([id]) => id);
  if (updaters.length <= MAX_UPDATE_MANAGERS) return;
  updaters.sort((a, b) => seconds(m.times.get(a)) - seconds(m.times.get(b)) || cmpStr(a, b));
  const firstByVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
    const id = updaters[i];
    const vs = m.fields.get(id)!;
    const time = m.times.get(id);
    const bucket = managerId({ manager: 'ancient-changes', operation: 'Update', apiVersion: vs.apiVersion });
    const first = firstByVersion.get(vs.apiVersion);
    if (first === undefined) { firstByVersion.set(vs.apiVersion, id); continue; }
    if (!m.fields.has(bucket)) {
      m.fields.set(bucket, m.fields.get(first)!);
      m.fields.delete(first);
    }
    const b = m.fields.get(bucket)!;
    m.fields.set(bucket, { set: vs.set.union(b.set), apiVersion: vs.apiVersion, applied: vs.applied });
    m.fields.delete(id);
    length--;
    m.times.set(bucket, time);
  }
}

// ---------------------------------------------------------------- apply path

export interface ApplyServerSideOptions {
  /** The stored object; absent when the apply creates it. */
  live?: KObject | null;
  /** The decoded apply-patch body. */
  applied: unknown;
  manager: string;
  force?: boolean;
  /** Schema root of the kind. */
  node: Node;
  /** The served group/version, e.g. `apps/v1`. */
  apiVersion: string;
  /** The served kind; defaults to the live object's. */
  kind?: string;
  now: Date | string | number;
  subresource?: string;
  resetFields?: string[][];
}

export interface ApplyServerSideResult {
  /** The merged object with managedFields; not yet defaulted or validated. */
  object: KObject;
  /** False when the apply changed no field of the object (managedFields may still change). */
  changed: boolean;
  /** Conflicts that `force` overrode (ownership moved to the applier). */
  conflicts?: FieldConflict[];
}

/** Server-side apply of `applied` by `manager`; throws ApiError 409 on conflicts unless forced. */
export function applyServerSide(o: ApplyServerSideOptions): ApplyServerSideResult {
  const live = (o.live ? structuredClone(o.live) : null) as Obj | null;
  let managed: Managed;
  try {
    managed = decodeManaged((live?.metadata as Obj | undefined)?.managedFields);
  } catch (e) {
    throw new ApiError(500, '', `failed to decode managed fields: ${(e as Error).message}`);
  }
  if (!isMap(o.applied)) throw badRequest('error decoding patch: the apply body must be an object');
  const applied = o.applied;
  const [group, version] = splitGV(typeof applied.apiVersion === 'string' ? applied.apiVersion : '');
  const kind = typeof applied.kind === 'string' ? applied.kind : '';
  const wantKind = o.kind ?? (live?.kind as string | undefined) ?? kind;
  if (`${group}/${version}` !== splitGV(o.apiVersion).join('/') || kind !== wantKind) {
    throw badRequest(`invalid object type: ${group}/${version}, Kind=${kind}`);
  }

  const ctx: ApplyCtx = { ...o, live: live ?? emptyObject(o.node), applied, managed, kind: wantKind,
    filter: filterFor(o.subresource, o.resetFields), now: formatTime(o.now) };
  let res: InnerResult;
  try {
    res = applyInner(ctx, !!o.force);
  } catch (e) {
    if (!(e instanceof Conflicts)) throw e;
    // upstream lastAppliedManager: kubectl moving from client-side apply keeps the fields
    // whose live values still equal its last-applied configuration without a conflict
    const allowed = o.manager === 'kubectl' ? allowedFromLastApplied(live, o.node, o.apiVersion) : undefined;
    if (!allowed) throw conflictError(e.list);
    const left = e.list.filter((c) => !allowed.has(c.path));
    if (left.length) throw conflictError(left);
    res = applyInner(ctx, true);
  }

  const object = res.object;
  // upstream lastAppliedUpdater: keep kubectl's annotation in step when it applies server-side
  const ann = ((object.metadata as Obj | undefined)?.annotations ?? undefined) as Obj | undefined;
  if (o.manager === 'kubectl' && ann && typeof ann[LAST_APPLIED] === 'string' && ann[LAST_APPLIED]) {
    ann[LAST_APPLIED] = buildLastApplied(applied);
    // upstream SetLastApplied drops it rather than exceed the 256 KiB annotation limit
    let size = 0;
    for (const [k, v] of Object.entries(ann)) size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
    if (size > 256 * 1024) delete ann[LAST_APPLIED];
  }
  (object.metadata as Obj) ??= {};
  const enc = encodeManaged(res.managed);
  delete (object.metadata as Obj).managedFields; // re-added last, where ObjectMeta keeps it
  if (enc) (object.metadata as Obj).managedFields = enc;
  const out: ApplyServerSideResult = { object: object as KObject, changed: res.changed };
  if (res.overridden.length) {
    out.conflicts = res.overridden.map((c) => ({ manager: parseId(c.id).manager, field: pathString(c.path) }));
  }
  return out;
}

interface ApplyCtx {
  live: Obj; applied: Obj; managed: Managed; manager: string; node: Node; apiVersion: string; kind: string;
  subresource?: string; filter: Filter; now: string;
}
interface InnerResult { object: Obj; managed: Managed; changed: boolean; overridden: ConflictList }

function applyInner(ctx: ApplyCtx, force: boolean): InnerResult {
  const { node, filter } = ctx;
  const live = ctx.live;
  const managed: Managed = { fields: new Map([...ctx.managed.fields].map(([k, v]) => [k, { ...v }])), times: new Map(ctx.managed.times) };
  // upstream skipNonAppliedManager: fields set before any manager was tracked go to `before-first-apply`
  if (managed.fields.size === 0) {
    updateChain(emptyObject(node), live, managed, 'before-first-apply', ctx.apiVersion, ctx.subresource, node, ctx.now, filter);
  }
  const id = managerId({ manager: ctx.manager, operation: 'Apply', subresource: ctx.subresource });

  const appliedMeta = ctx.applied.metadata;
  if (isMap(appliedMeta) && appliedMeta.managedFields !== undefined && appliedMeta.managedFields !== null) {
    throw badRequest('metadata.managedFields must be nil');
  }
  const errs = validateTyped(ctx.applied, node);
  if (errs.length) throw typedPatchError(ctx, errs);

  let merged: unknown;
  try {
    merged = mergeValues(live, ctx.applied, node);
  } catch (e) {
    if (e instanceof ItemKeyError) throw new ApiError(500, '', `failed to merge config: ${e.message}`);
    throw e;
  }
  const lastSet = managed.fields.get(id)?.set;
  const set = filter(toFieldSet(ctx.applied, node));
  managed.fields.set(id, { set, apiVersion: ctx.apiVersion, applied: true });
  merged = prune(merged, managed.fields, node, lastSet);

  const { conflicts: overridden } = updateOwners(live, merged, node, managed.fields, id, force, filter);

  const own = managed.fields.get(id);
  if (own) {
    own.set = own.set.difference(STRIP);
    if (own.set.empty()) managed.fields.delete(id);
  }
  const changed = !valuesEqual(live, merged);
  if (changed) managed.times.set(id, ctx.now);
  const object = changed ? ((stripNulls(merged) as Obj | undefined) ?? {}) : live;
  return { object, managed, changed, overridden };
}

function splitGV(apiVersion: string): [string, string] {
  const i = apiVersion.indexOf('/');
  return i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

function typedPatchError(ctx: ApplyCtx, errs: string[]): ApiError {
  const meta = isMap(ctx.applied.metadata) ? ctx.applied.metadata : {};
  const [g, v] = splitGV(String(ctx.applied.apiVersion ?? ''));
  const what = `${meta.namespace ?? ''}/${meta.name ?? ''}; ${g}/${v}, Kind=${ctx.applied.kind ?? ''}`;
  const body = errs.length === 1 ? errs[0] : ['errors:', ...errs.map((e) => '  ' + e)].join('\n');
  return new ApiError(500, '', `failed to create typed patch object (${what}): ${body}`);
}

/** Go drops nulls when it decodes the merged object into the typed one. */
function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (isMap(v)) {
    const o: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) o[k] = stripNulls(x);
    return o;
  }
  return v;
}

// ---------------------------------------------------------------- conflicts

/** The 409 the apiserver answers (managedfields/internal/conflict.go). */
function conflictError(list: ConflictList): ApiError {
  const causes = list.map((c) => ({
    reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.id)}`, field: pathString(c.path),
  }));
  let message: string;
  if (list.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(list[0].id)}: ${pathString(list[0].path)}`;
  } else {
    const by = new Map<string, string[]>();
    for (const c of list) {
      if (!by.has(c.id)) by.set(c.id, []);
      by.get(c.id)!.push(pathString(c.path));
    }
    const lines: string[] = [];
    for (const id of [...by.keys()].sort(cmpStr)) lines.push(`conflicts with ${printManager(id)}:`, ...by.get(id)!.map((p) => `- ${p}`));
    message = `Apply failed with ${list.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

function printManager(id: string): string {
  const e = parseId(id);
  let s = JSON.stringify(e.manager ?? '');
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion ?? ''}`;
  return s;
}

function allowedFromLastApplied(live: Obj | null, node: Node, apiVersion: string): FieldSet | undefined {
  const raw = ((live?.metadata as Obj | undefined)?.annotations as Obj | undefined)?.[LAST_APPLIED];
  if (typeof raw !== 'string' || !raw) return undefined;
  let last: unknown;
  try { last = JSON.parse(raw); } catch { return undefined; }
  if (!isMap(last) || last.apiVersion !== apiVersion) return undefined;
  if (validateTyped(last, node).length) return undefined;
  const c = compareValues(last, live, node);
  return toFieldSet(last, node).difference(c.modified).difference(c.added).difference(c.removed);
}

/** kubectl's annotation as the apiserver writes it: encoding/json with sorted keys and a newline. */
function buildLastApplied(applied: Obj): string {
  const copy = structuredClone(applied);
  const ann = (copy.metadata as Obj | undefined)?.annotations as Obj | undefined;
  if (ann) delete ann[LAST_APPLIED];
  return goJSON(copy) + '\n';
}

function goJSON(v: unknown): string {
  const esc = (s: string) => JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return esc(v);
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(goJSON).join(',') + ']';
  return '{' + Object.keys(v).sort().map((k) => `${esc(k)}:${goJSON((v as Obj)[k])}`).join(',') + '}';
}
