// Schema-aware walks over JSON values, after structured-merge-diff's `typed` package: the field
// set of an object, the comparison of two objects, the apply merge and item removal. `undefined`
// means "absent" and `null` an explicit null; the two are different here, as upstream.

import type { Node } from '../schema.ts';
import { FieldSet, fieldPE, peString, sortFields, type Path, type PathElement } from './fieldpath.ts';
import { goType, goV } from './gofmt.ts';

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

type Atom = 'map' | 'list' | 'scalar';

/** upstream resolveSchema + deduceAtom + handleAtom: which handler sees this value. */
function atomOf(node: Node, v: unknown): Atom {
  switch (node.kind) {
    case 'object': return 'map';
    case 'array': return 'list';
    case 'scalar': return 'scalar';
    default:
      if (isScalar(v)) return 'scalar';
      if (Array.isArray(v)) return 'list';
      return 'map';
  }
}

/** Go's value.Equals: deep equality where numbers compare as numbers. */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => valuesEqual(x, b[i]));
  }
  if (isMap(a)) {
    if (!isMap(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && valuesEqual(a[k], b[k]));
  }
  return false;
}

export class ItemKeyError extends Error {}

/** The path element naming a list item: `k:{...}` by keys (defaults filled in) or `v:` for sets. */
export function listItemPE(list: Node, item: unknown): PathElement {
  const { associative, keys } = list.listSemantics;
  if (!associative) throw new ItemKeyError('invalid indexing of non-associative list');
  if (keys.length > 0) {
    if (item === null) throw new ItemKeyError('associative list with keys may not have a null element');
    if (!isMap(item)) throw new ItemKeyError('associative list with keys may not have non-map elements');
    const elem = list.items();
    const fields: [string, unknown][] = [];
    for (const k of keys) {
      if (k in item) fields.push([k, item[k]]);
      else {
        const d = elem.keyDefault(k);
        if (d !== undefined) fields.push([k, d]);
      }
    }
    if (fields.length === 0) {
      throw new ItemKeyError(`associative list with keys has an element that omits all key fields ${goQuoteList(keys)} (and doesn't have default values for any key fields)`);
    }
    return { t: 'k', fields: sortFields(fields) };
  }
  if (isMap(item)) throw new ItemKeyError("associative list without keys has an element that's a map type");
  if (Array.isArray(item)) throw new ItemKeyError('not supported: associative list with lists as elements');
  if (item === null) throw new ItemKeyError("associative list without keys has an element that's an explicit null");
  return { t: 'v', value: item };
}

const goQuoteList = (l: string[]) => '[' + l.map((s) => JSON.stringify(s)).join(' ') + ']';

// ---------------------------------------------------------------- ToFieldSet

/** Every field the value sets, as upstream TypedValue.ToFieldSet. */
export function toFieldSet(value: unknown, node: Node): FieldSet {
  const set = new FieldSet();
  fsWalk(value, node, [], set);
  return set;
}

function fsWalk(v: unknown, node: Node, path: Path, set: FieldSet): void {
  const atom = atomOf(node, v);
  if (atom === 'scalar') { set.insert(path); return; }
  if (atom === 'list') {
    if (!node.listSemantics.associative) { set.insert(path); return; }
    if (!Array.isArray(v)) return;
    const pes = v.map((item) => safePE(node, item));
    const seen = new Map<string, number>();
    for (const pe of pes) {
      const k = keyOf(pe);
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    const dupInserted = new Set<string>();
    for (const pe of pes) {
      const k = keyOf(pe);
      if ((seen.get(k) ?? 0) > 1 && !dupInserted.has(k)) { set.insert([...path, pe]); dupInserted.add(k); }
    }
    const elem = node.items();
    v.forEach((item, i) => {
      if ((seen.get(keyOf(pes[i])) ?? 0) > 1) return;
      const p = [...path, pes[i]];
      fsWalk(item, elem, p, set);
      set.insert(p);
    });
    return;
  }
  if (node.atomicMap) { set.insert(path); return; }
  if (!isMap(v)) return;
  for (const [key, val] of Object.entries(v)) {
    if (val === undefined) continue;
    const p = [...path, fieldPE(key)];
    fsWalk(val, node.field(key), p, set);
    if (val === null || (isMap(val) && Object.keys(val).length === 0) || !node.hasField(key)) set.insert(p);
  }
}

// A malformed item gets an empty element, as upstream ignores the error here.
const INVALID_PE: PathElement = { t: 'k', fields: [] };
function safePE(list: Node, item: unknown): PathElement {
  try { return listItemPE(list, item); } catch { return INVALID_PE; }
}
const keyOf = (pe: PathElement) => JSON.stringify(pe);

// ---------------------------------------------------------------- Compare

export interface Comparison { added: FieldSet; modified: FieldSet; removed: FieldSet }

/** Fields added, modified and removed from `lhs` to `rhs` (upstream TypedValue.Compare). */
export function compareValues(lhs: unknown, rhs: unknown, node: Node): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  cmpWalk(lhs, rhs, node, [], c);
  return c;
}

function cmpWalk(l: unknown, r: unknown, node: Node, path: Path, c: Comparison): void {
  const al = atomOf(node, l), ar = atomOf(node, r);
  let inLeaf: boolean;
  if (r === undefined) inLeaf = cmpAtom(al, l, r, node, path, c, false);
  else if (l === undefined || al === ar) inLeaf = cmpAtom(ar, l, r, node, path, c, false);
  else {
    cmpAtom(al, l, r, node, path, c, false);
    inLeaf = cmpAtom(ar, l, r, node, path, c, false);
  }
  if (!inLeaf) {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
  }
}

/** Returns whether the place was handled as a leaf. */
function cmpAtom(atom: Atom, l: unknown, r: unknown, node: Node, path: Path, c: Comparison, inLeaf: boolean): boolean {
  const leaf = () => {
    if (inLeaf) return true;
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!valuesEqual(l, r)) c.modified.insert(path);
    return true;
  };
  if (atom === 'scalar') {
    // upstream skips the leaf only when both sides fail scalar validation
    if (!scalarOK(node, l) && !scalarOK(node, r)) return false;
    return leaf();
  }
  if (atom === 'list') {
    const ll = Array.isArray(l) ? l : undefined, rl = Array.isArray(r) ? r : undefined;
    const empty = (!ll || ll.length === 0) && (!rl || rl.length === 0);
    if (!node.listSemantics.associative || empty) return leaf();
    if (!ll && !rl) return false;
    cmpListItems(ll ?? [], rl ?? [], node, path, c);
    return false;
  }
  const lm = isMap(l) ? l : undefined, rm = isMap(r) ? r : undefined;
  const empty = (!lm || Object.keys(lm).length === 0) && (!rm || Object.keys(rm).length === 0);
  if (node.atomicMap || empty) return leaf();
  if (!lm && !rm) return false;
  const keys = new Set([...Object.keys(lm ?? {}), ...Object.keys(rm ?? {})]);
  for (const k of keys) {
    const lv = lm?.[k], rv = rm?.[k];
    if (lv === undefined && rv === undefined) continue;
    cmpWalk(lv, rv, node.field(k), [...path, fieldPE(k)], c);
  }
  return false;
}

function cmpListItems(l: unknown[], r: unknown[], node: Node, path: Path, c: Comparison): void {
  const order: PathElement[] = [];
  const lv = new Map<string, unknown[]>(), rv = new Map<string, unknown[]>();
  for (const item of l) {
    const pe = tryPE(node, item);
    if (!pe) continue;
    const k = keyOf(pe);
    if (lv.has(k)) lv.get(k)!.push(item); else { lv.set(k, [item]); order.push(pe); }
  }
  for (const item of r) {
    const pe = tryPE(node, item);
    if (!pe) continue;
    const k = keyOf(pe);
    if (rv.has(k)) rv.get(k)!.push(item);
    else { rv.set(k, [item]); if (!lv.has(k)) order.push(pe); }
  }
  const elem = node.items();
  for (const pe of order) {
    const k = keyOf(pe);
    const ll = lv.get(k) ?? [], rl = rv.get(k) ?? [];
    const p = [...path, pe];
    if (ll.length <= 1 && rl.length <= 1) {
      cmpWalk(ll[0], rl[0], elem, p, c);
    } else if (ll.length >= 2 && rl.length >= 2) {
      if (!valuesEqual(ll, rl)) c.modified.insert(p);
    } else if (ll.length >= 2) {
      if (rl.length) cmpWalk(undefined, rl[0], elem, p, c);
      c.removed.insert(p);
    } else {
      if (ll.length) cmpWalk(ll[0], undefined, elem, p, c);
      c.added.insert(p);
    }
  }
}

function tryPE(node: Node, item: unknown): PathElement | undefined {
  try { return listItemPE(node, item); } catch { return undefined; }
}

/** The scalar kinds of kube-openapi schemaconv: formats other than byte, and Quantity, are untyped. */
function scalarType(node: Node): 'numeric' | 'string' | 'boolean' | 'untyped' {
  if (node.kind !== 'scalar') return 'untyped';
  const { type, format } = node.def ?? {};
  if (type === 'integer' || type === 'number') return 'numeric';
  if (type === 'boolean') return 'boolean';
  if (type === 'string' && (!format || format === 'byte') && node.name !== QUANTITY) return 'string';
  return 'untyped';
}
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

function scalarOK(node: Node, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  switch (scalarType(node)) {
    case 'numeric': return typeof v === 'number';
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    default: return isScalar(v);
  }
}

// ---------------------------------------------------------------- Merge (apply)

/** The apply merge: `rhs` (the applied configuration) wins at every leaf (upstream Merge). */
export function mergeValues(lhs: unknown, rhs: unknown, node: Node): unknown {
  return mergeWalk(lhs, rhs, node);
}

function mergeWalk(l: unknown, r: unknown, node: Node): unknown {
  // With mismatched shapes upstream runs both handlers but keeps only the applied side's output.
  const atom = r === undefined ? atomOf(node, l) : atomOf(node, r);
  return mergeAtom(atom, l, r, node);
}

function mergeAtom(atom: Atom, l: unknown, r: unknown, node: Node): unknown {
  const leaf = () => (r !== undefined ? r : l);
  if (atom === 'scalar') return leaf();
  if (atom === 'list') {
    const ll = Array.isArray(l) ? l : undefined, rl = Array.isArray(r) ? r : undefined;
    const empty = (!ll || ll.length === 0) && (!rl || rl.length === 0);
    if (!node.listSemantics.associative || empty) return leaf();
    if (!ll && !rl) return undefined;
    return mergeListItems(ll ?? [], rl ?? [], node);
  }
  const lm = isMap(l) ? l : undefined, rm = isMap(r) ? r : undefined;
  const empty = (!lm || Object.keys(lm).length === 0) && (!rm || Object.keys(rm).length === 0);
  if (node.atomicMap || empty) return leaf();
  if (!lm && !rm) return undefined;
  const out: Obj = {};
  const keys = new Set([...Object.keys(lm ?? {}), ...Object.keys(rm ?? {})]);
  for (const k of keys) {
    const lv = lm?.[k], rv = rm?.[k];
    if (lv === undefined && rv === undefined) continue;
    const m = mergeWalk(lv, rv, node.field(k));
    if (m !== undefined) out[k] = m;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Items merged by key; the order interleaves live-only items with the applied order (upstream). */
function mergeListItems(l: unknown[], r: unknown[], node: Node): unknown {
  // A key duplicated in the live list stands for null, as upstream indexes it.
  const index = (list: unknown[], dupOK: boolean) => {
    const pes: PathElement[] = [];
    const seen = new Map<string, unknown>();
    for (const item of list) {
      const pe = listItemPE(node, item);
      const k = keyOf(pe);
      if (seen.has(k)) {
        if (!dupOK) throw new ItemKeyError(`duplicate entries for key ${peString(pe)}`);
        seen.set(k, null);
      } else seen.set(k, item);
      pes.push(pe);
    }
    return { pes, seen };
  };
  const R = index(r, false), L = index(l, true);
  const elem = node.items();
  const out: unknown[] = [];
  const shared = R.pes.filter((pe) => L.seen.has(keyOf(pe))).map(keyOf);
  let nextShared: string | undefined = shared.shift();
  const mergedR = new Set<string>();
  const push = (v: unknown) => { if (v !== undefined) out.push(v); };
  const lChild = (k: string) => (L.seen.has(k) ? L.seen.get(k) : undefined);
  let li = 0, ri = 0;
  while (li < L.pes.length || ri < R.pes.length) {
    if (li < L.pes.length && ri < R.pes.length) {
      const k = keyOf(L.pes[li]);
      if (k === keyOf(R.pes[ri])) {
        mergedR.add(k);
        push(mergeWalk(lChild(k), R.seen.get(k), elem));
        li++; ri++;
        nextShared = shared.shift();
        continue;
      }
      if (R.seen.has(k) && nextShared !== undefined && nextShared !== k) { li++; continue; }
    }
    if (li < L.pes.length) {
      const k = keyOf(L.pes[li]);
      if (!R.seen.has(k)) {
        push(mergeWalk(l[li], undefined, elem));
        li++;
        continue;
      } else if (mergedR.has(k)) li++;
    }
    if (ri < R.pes.length) {
      const k = keyOf(R.pes[ri]);
      mergedR.add(k);
      push(mergeWalk(lChild(k), R.seen.get(k), elem));
      ri++;
      if (nextShared === k) nextShared = shared.shift();
    }
  }
  return out.length ? out : undefined;
}

// ---------------------------------------------------------------- RemoveItems

/** The value without the paths in `set` (upstream RemoveItems). */
export function removeItems(v: unknown, set: FieldSet, node: Node): unknown {
  const atom = atomOf(node, v);
  if (atom === 'scalar') return v;
  if (atom === 'list') {
    if (!Array.isArray(v)) return undefined;
    if (v.length === 0 || !node.listSemantics.associative) return undefined;
    const out: unknown[] = [];
    const elem = node.items();
    for (const item of v) {
      const pe = safePE(node, item);
      if (set.has([pe])) continue;
      const sub = set.child(pe);
      out.push(sub && !sub.empty() ? removeItems(item, sub, elem) ?? null : item);
    }
    return out.length ? out : undefined;
  }
  if (!isMap(v)) return undefined;
  if (Object.keys(v).length === 0 || node.atomicMap) return undefined;
  const out: Obj = {};
  for (const [k, val] of Object.entries(v)) {
    const pe = fieldPE(k);
    if (set.has([pe])) continue;
    const sub = set.child(pe);
    out[k] = sub && !sub.empty() ? removeItems(val, sub, node.field(k)) ?? null : val;
  }
  return Object.keys(out).length ? out : undefined;
}

// ---------------------------------------------------------------- Validate

/** Problems with an applied configuration, worded as structured-merge-diff words them. */
export function validateTyped(v: unknown, node: Node): string[] {
  const errs: string[] = [];
  valWalk(v, node, '', errs);
  return errs;
}

function valWalk(v: unknown, node: Node, prefix: string, errs: string[]): void {
  const atom = atomOf(node, v);
  if (atom === 'scalar') {
    if (!scalarOK(node, v)) errs.push(`${prefix}: ${typeError(node, v)}`);
    return;
  }
  if (atom === 'list') {
    if (v === null) return;
    if (!Array.isArray(v)) { errs.push(`${prefix ? prefix + ': ' : ''}expected list, got &{${goV(v)}}`); return; }
    const { associative } = node.listSemantics;
    const seen = new Set<string>();
    const elem = node.items();
    for (let i = 0; i < v.length; i++) {
      let pe: PathElement = { t: 'i', index: i };
      if (associative) {
        try { pe = listItemPE(node, v[i]); } catch (e) {
          errs.push(`${prefix}: element ${i}: ${(e as Error).message}`);
          return;
        }
        const k = keyOf(pe);
        if (seen.has(k)) errs.push(`${prefix}: duplicate entries for key ${peString(pe)}`);
        seen.add(k);
      }
      valWalk(v[i], elem, prefix + peString(pe), errs);
    }
    return;
  }
  if (v === null) return;
  if (!isMap(v)) { errs.push(`${prefix ? prefix + ': ' : ''}expected map, got &{${goV(v)}}`); return; }
  for (const [k, val] of Object.entries(v)) {
    if (!node.hasField(k) && !node.openMap) {
      errs.push(`${prefix}.${k}: field not declared in schema`);
      return;
    }
    valWalk(val, node.field(k), `${prefix}.${k}`, errs);
  }
}

// How structured-merge-diff prints the offending value (%T, %#v or %v of its value wrapper).
function typeError(node: Node, v: unknown): string {
  switch (scalarType(node)) {
    case 'numeric': return `expected numeric (int or float), got ${goType(v)}`;
    case 'string': return `expected string, got &value.valueUnstructured{Value:${goSharpV(v)}}`;
    case 'boolean': return `expected boolean, got &{${goV(v)}}`;
    default: return `expected any scalar, got &{${goV(v)}}`;
  }
}

function goSharpV(v: unknown): string {
  if (v === null || v === undefined) return 'interface {}(nil)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return '[]interface {}{' + v.map(goSharpV).join(', ') + '}';
  const o = v as Obj;
  return 'map[string]interface {}{' + Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${goSharpV(o[k])}`).join(', ') + '}';
}
