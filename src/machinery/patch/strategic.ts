// Strategic merge patch, applied the way apimachinery's strategicpatch applies it on the server
// (StrategicMergeMapPatch: parallel lists merged, unmatched nulls ignored). The structure follows
// upstream function by function, because clients (kubectl apply, kubectl patch, Helm 3) send
// patches computed against exactly that behaviour, including its ordering rules.

import type { Node } from '../schema.ts';
import { goType, goTypeS, goV } from './gofmt.ts';

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const DIRECTIVE = '$patch';
const DELETE = 'delete', REPLACE = 'replace', MERGE = 'merge';
const RETAIN_KEYS = 'retainKeys';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const SET_ORDER = '$setElementOrder';

/** A failure with the HTTP code the apiserver gives it (interpretStrategicMergePatchError). */
export class SmpError extends Error {
  constructor(message: string, readonly code: 400 | 422 | 500 = 500) { super(message); }
}
const errBadRetainKeys = () => new SmpError('invalid patch format of retainKeys', 400);
const errBadSetOrder = () => new SmpError('invalid patch format of setElementOrder list', 400);
const errBadPrimitiveList = () => new SmpError('invalid patch format of primitive list', 400);
const errNoListOfLists = () => new SmpError('lists of lists are not supported', 422);
const errNoMergeKey = (m: unknown, k: string) => new SmpError(`map: ${goV(m)} does not contain declared merge key: ${k}`);
const errBadArgType = (expected: string, actual: unknown) =>
  new SmpError(`expected a ${expected}, but received a ${goTypeS(actual)}`);
const MAP_T = 'map[string]interface {}', SLICE_T = '[]interface {}';

/** Applies `patch` to a deep copy of `original`. */
export function strategicMerge(original: Obj, patch: Obj, node: Node): Obj {
  return mergeMap(structuredClone(original), structuredClone(patch), node);
}

// ---------------------------------------------------------------- schema lookups

interface PatchMeta { strategy: string; mergeKey: string }

/** Upstream extractRetainKeysPatchStrategy: the strategy besides retainKeys (which the patch carries). */
function patchMeta(n: Node): PatchMeta {
  const s = n.patchStrategies;
  const meta = (strategy: string) => ({ strategy, mergeKey: n.patchMergeKey });
  switch (s.length) {
    case 0: return meta('');
    case 1: return meta(s[0] === RETAIN_KEYS ? '' : s[0]);
    case 2:
      if (s[0] === RETAIN_KEYS) return meta(s[1]);
      if (s[1] === RETAIN_KEYS) return meta(s[0]);
  }
  throw new SmpError(`unexpected patch strategy: [${s.join(' ')}]`);
}

const goTypeName = (n: Node) => n.name.slice(n.name.lastIndexOf('.') + 1);

// The server looks `$setElementOrder/<field>` up in Go structs: a field the struct lacks is an
// error there. (Other keys are only looked up when the live object has them, so they exist.)
function lookupList(n: Node, key: string): Node {
  if (!n.unknown && n.kind === 'object' && !n.hasField(key)) {
    if (n.def?.properties) throw new SmpError(`unable to find api field in struct ${goTypeName(n)} for the json field "${key}"`);
    if (n.def?.additionalProperties) throw new SmpError('merging an object in json but data type is not struct, instead is: map');
  }
  return n.field(key);
}

// A list field's item schema; a pointer-to-struct field used as a list is its own item type.
const elemOf = (n: Node) => (n.kind === 'object' ? n : n.items());

// ---------------------------------------------------------------- maps

function mergeMap(original: Obj | null, patch: Obj, schema: Node): Obj {
  if (DIRECTIVE in patch) return handleDirectiveInMergeMap(patch[DIRECTIVE], patch);
  original ??= {};
  applyRetainKeysDirective(original, patch);
  mergePatchIntoOriginal(original, patch, schema);

  for (let k of Object.keys(patch)) {
    const patchV = patch[k];
    let isDeleteList = false;
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const stripped = extractKey(k, DELETE_PRIMITIVE);
      isDeleteList = true;
      if (stripped) k = stripped;
    }
    if (patchV === null) {
      delete original[k];
      continue; // unmatched nulls are ignored on the server
    }
    if (!(k in original)) {
      if (!isDeleteList) setFromPatch(original, k, patchV);
      continue;
    }
    const ov = original[k];
    if (goType(ov) !== goType(patchV)) {
      if (!isDeleteList) setFromPatch(original, k, patchV);
      continue;
    }
    if (isMap(ov)) {
      const sub = schema.field(k);
      const meta = patchMeta(sub);
      original[k] = meta.strategy !== REPLACE ? mergeMap(ov, patchV as Obj, sub) : patchV;
    } else if (Array.isArray(ov)) {
      const sub = schema.field(k);
      const meta = patchMeta(sub);
      original[k] = mergeSliceHandler(ov, patchV as unknown[], elemOf(sub), meta, isDeleteList);
    } else {
      setFromPatch(original, k, patchV);
    }
  }
  return original;
}

function setFromPatch(original: Obj, k: string, patchV: unknown): void {
  discardNullValuesFromPatch(patchV);
  const [v, keep] = removeDirectives(patchV);
  if (keep) original[k] = v; else delete original[k];
}

function handleDirectiveInMergeMap(directive: unknown, patch: Obj): Obj {
  if (directive === REPLACE) {
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === DELETE) return {};
  throw new SmpError(`unknown patch type: ${goV(directive)} in map: ${goV(patch)}`);
}

function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    if (prefix === DELETE_PRIMITIVE) throw errBadPrimitiveList();
    throw errBadSetOrder();
  }
  return s.slice(slash + 1);
}

function applyRetainKeysDirective(original: Obj, patch: Obj): void {
  if (!(RETAIN_KEYS_DIRECTIVE in patch)) return;
  const list = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(list)) throw errBadRetainKeys();
  const keep = new Set(list);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_PRIMITIVE) || k.startsWith(SET_ORDER)) continue;
    if (!keep.has(k)) throw errBadRetainKeys();
  }
  for (const k of Object.keys(original)) if (!keep.has(k)) delete original[k];
}

function discardNullValuesFromPatch(v: unknown): void {
  if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) delete v[k]; else discardNullValuesFromPatch(x);
    }
  } else if (Array.isArray(v)) {
    for (const x of v) discardNullValuesFromPatch(x);
  }
}

/** Strips `$patch` directives from a value that is inserted as is; false when it is one. */
function removeDirectives(obj: unknown): [unknown, boolean] {
  if (isMap(obj)) {
    if (DIRECTIVE in obj) return [null, false];
    for (const k of Object.keys(obj)) {
      const [v, keep] = removeDirectives(obj[k]);
      if (keep) obj[k] = v; else delete obj[k];
    }
    return [obj, true];
  }
  if (Array.isArray(obj)) {
    const out: unknown[] = [];
    for (const x of obj) {
      const [v, keep] = removeDirectives(x);
      if (keep) out.push(v);
    }
    return [out, true];
  }
  return [obj, true];
}

// ---------------------------------------------------------------- $setElementOrder

function mergePatchIntoOriginal(original: Obj, patch: Obj, schema: Node): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw errBadArgType(SLICE_T, order);
    const originalKey = extractKey(key, SET_ORDER);
    const foundOriginal = originalKey in original, foundPatch = originalKey in patch;
    let originalList: unknown[] | undefined, patchList: unknown[] | undefined;
    if (foundOriginal) {
      if (!Array.isArray(original[originalKey])) throw errBadArgType(SLICE_T, original[originalKey]);
      originalList = original[originalKey] as unknown[];
    }
    if (foundPatch) {
      if (!Array.isArray(patch[originalKey])) throw errBadArgType(SLICE_T, patch[originalKey]);
      patchList = patch[originalKey] as unknown[];
    }
    const sub = lookupList(schema, originalKey);
    const meta = patchMeta(sub);
    validatePatchWithSetOrderList(patchList ?? [], order, meta.mergeKey);

    let merged: unknown[];
    const alias: Alias = {};
    if (foundOriginal && !foundPatch) merged = originalList!;
    else if (!foundOriginal && foundPatch) merged = removeDirectives(patchList)[0] as unknown[];
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalList!, patchList!, elemOf(sub), meta, false, alias);
    else continue;
    if (alias.view) originalList = alias.view;

    const [patchItems, serverOnly] = meta.mergeKey
      ? partitionMapsByPresentInList(merged, order, meta.mergeKey)
      : partitionPrimitivesByPresentInList(merged, order);
    const kind = sliceElementKind([originalList ?? [], patchList ?? []]);
    original[originalKey] = normalizeElementOrder(patchItems, serverOnly, order, originalList ?? [], meta.mergeKey, kind);
    delete patch[originalKey];
  }
}

function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let pi = 0, si = 0;
  while (pi < nonDelete.length && si < order.length) {
    if (isMap(nonDelete[pi]) && DIRECTIVE in (nonDelete[pi] as Obj)) { pi++; continue; }
    if (mergeKeyValueEqual(nonDelete[pi], order[si], mergeKey)) pi++;
    si++;
  }
  if (pi < nonDelete.length && si >= order.length) {
    throw new SmpError(`The order in patch list:\n${goV(patchList)}\n doesn't match ${SET_ORDER} list:\n${goV(order)}\n`);
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isMap(left)) throw errBadArgType(MAP_T, left);
  if (!isMap(right)) throw errBadArgType(MAP_T, right);
  if (!(mergeKey in left)) throw errNoMergeKey(left, mergeKey);
  if (!(mergeKey in right)) throw errNoMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

// ---------------------------------------------------------------- lists

/**
 * Go slices share their backing array: deleting items from the live list and appending patch
 * items writes into the array that the caller's copy of the live list still reads, and the
 * `$setElementOrder` ordering then runs against that overwritten view. `view` receives it.
 */
interface Alias { view?: unknown[] }

function mergeSliceHandler(original: unknown[], patch: unknown[], elem: Node, meta: PatchMeta, isDeleteList: boolean, alias?: Alias): unknown[] {
  if (meta.strategy === MERGE || isDeleteList) return mergeSlice(original, patch, elem, meta.mergeKey, isDeleteList, alias);
  return patch;
}

type Kind = 'map' | 'scalar';

function mergeSlice(original: unknown[], patch: unknown[], elem: Node, mergeKey: string, isDeleteList: boolean, alias?: Alias): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind([original, patch]);
  let merged: unknown[];
  let patchOrder = patch;
  if (kind !== 'map') {
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars([...original, ...patch]);
  } else {
    if (!mergeKey) throw new SmpError(`cannot merge lists without merge key for ${elem.kind === 'object' ? 'struct' : 'map'}`);
    const buf = [...original];
    let len = buf.length;
    // upstream mergeSliceWithSpecialElements
    const plain: unknown[] = [];
    let replace = false;
    for (const v of patch) {
      const m = v as Obj;
      if (!(DIRECTIVE in m)) { plain.push(v); continue; }
      const d = m[DIRECTIVE];
      if (d === DELETE) {
        if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey);
        // append(original[:i], original[i+1:]...) shifts the shared array in place
        for (let i; (i = findMapInSlice(buf.slice(0, len), mergeKey, m[mergeKey])) >= 0;) {
          buf.copyWithin(i, i + 1, len);
          len--;
        }
      } else if (d === REPLACE) {
        replace = true;
      } else if (d === MERGE) {
        throw new SmpError('merging lists cannot yet be specified in the patch');
      } else {
        throw new SmpError(`unknown patch type: ${goV(d)} in map: ${goV(m)}`);
      }
    }
    if (replace) {
      original = plain;
      patchOrder = [];
      merged = plain;
    } else {
      original = buf.slice(0, len);
      patchOrder = plain;
      // upstream mergeSliceWithoutSpecialElements, appending into the shared array while it has room
      const extra: unknown[] = [];
      const n = buf.length;
      const list = () => buf.slice(0, Math.min(len, n)).concat(extra);
      for (const v of plain) {
        const m = v as Obj;
        if (!(mergeKey in m)) throw errNoMergeKey(m, mergeKey);
        const at = findMapInSlice(list(), mergeKey, m[mergeKey]);
        if (at >= 0) {
          const mm = mergeMap(list()[at] as Obj, m, elem);
          if (at < n) buf[at] = mm; else extra[at - n] = mm;
        } else {
          if (len < n) buf[len] = v; else extra.push(v);
          len++;
        }
      }
      merged = list();
    }
    if (alias) alias.view = buf;
  }
  const [patchItems, serverOnly] = mergeKey
    ? partitionMapsByPresentInList(merged, patchOrder, mergeKey)
    : partitionPrimitivesByPresentInList(merged, patchOrder);
  return normalizeElementOrder(patchItems, serverOnly, patchOrder, original, mergeKey, kind);
}

/** Upstream sliceElementType: all items must share one Go type, and lists of lists are refused. */
function sliceElementKind(slices: unknown[][]): Kind {
  let prev: string | undefined;
  for (const s of slices) {
    for (const v of s) {
      const t = goType(v);
      if (prev === undefined) {
        prev = t;
        if (Array.isArray(v)) throw errNoListOfLists();
      } else if (prev !== t) {
        throw new SmpError(`list element types are not identical: ${goV(slices)}`);
      }
    }
  }
  if (prev === undefined) throw new SmpError('no elements in any of the given slices');
  return prev === MAP_T ? 'map' : 'scalar';
}

function findMapInSlice(list: unknown[], key: string, value: unknown): number {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isMap(v)) throw new SmpError(`value for key ${i} is not a map`);
    if (key in v && v[key] === value) return i;
  }
  return -1;
}

function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  const del = new Set(toDelete);
  return current.filter((v) => !del.has(v));
}

/** Upstream deduplicateScalars, whose swapping decides the order before it is normalised. */
function deduplicateScalars(s: unknown[]): unknown[] {
  let length = s.length - 1;
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j <= length; j++) {
      if (s[i] === s[j]) {
        s[j] = s[length];
        s.length = length;
        length--;
        j--;
      }
    }
  }
  return s;
}

function partitionPrimitivesByPresentInList(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inPatch = new Set(by);
  const patch: unknown[] = [], serverOnly: unknown[] = [];
  for (const v of list) (inPatch.has(v) ? patch : serverOnly).push(v);
  return [patch, serverOnly];
}

function partitionMapsByPresentInList(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const patch: unknown[] = [], serverOnly: unknown[] = [];
  for (const v of list) {
    if (!isMap(v)) throw errBadArgType(MAP_T, v);
    if (!(mergeKey in v)) throw errNoMergeKey(v, mergeKey);
    (findMapInSlice(by, mergeKey, v[mergeKey]) >= 0 ? patch : serverOnly).push(v);
  }
  return [patch, serverOnly];
}

function extractToDeleteItems(l: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [], del: unknown[] = [];
  for (const v of l) {
    if (!isMap(v)) throw errBadArgType(MAP_T, v);
    (v[DIRECTIVE] === DELETE ? del : keep).push(v);
  }
  return [keep, del];
}

// ---------------------------------------------------------------- ordering

function indexIn(list: unknown[], v: unknown, mergeKey: string, kind: Kind): number {
  const val = (x: unknown) => (kind === 'map' ? (isMap(x) ? x[mergeKey] : undefined) : x);
  const want = val(v);
  for (let i = 0; i < list.length; i++) if (val(list[i]) === want) return i;
  return -1;
}

function normalizeElementOrder(patch: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string, kind: Kind): unknown[] {
  const p = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: Kind): unknown[] {
  let toDelete: unknown[] = [];
  if (kind === 'map') {
    for (const list of [toSort, order]) {
      for (const item of list) {
        if (!isMap(item)) throw errBadArgType(MAP_T, item);
        if (!(mergeKey in item)) throw errNoMergeKey(item, mergeKey);
      }
    }
    [toSort, toDelete] = extractToDeleteItems(toSort);
  } else {
    toSort = [...toSort];
  }
  goSliceStable(toSort, (a, b) => {
    const ia = indexIn(order, a, mergeKey, kind);
    if (ia >= 0) {
      const ib = indexIn(order, b, mergeKey, kind);
      if (ib >= 0) return ia < ib;
    }
    return true;
  });
  return toSort.concat(toDelete);
}

/** Interleaves server-only items (left) into the patch items (right) by their live order. */
function mergeSortedSlice(left: unknown[], right: unknown[], serverOrder: unknown[], mergeKey: string, kind: Kind): unknown[] {
  const out: unknown[] = [];
  let i = 0, j = 0;
  const size = left.length + right.length;
  for (let k = 0; k < size; k++) {
    if (i >= left.length && j < right.length) out.push(right[j++]);
    else if (j >= right.length && i < left.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey, kind);
      const ri = indexIn(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

// Go's sort.SliceStable step by step: upstream's comparator is not a strict order (an item
// missing from the order list is "less" than everything), so only the same algorithm gives
// the same result.
function goSliceStable<T>(data: T[], less: (a: T, b: T) => boolean): void {
  const n = data.length;
  const lessIdx = (i: number, j: number) => less(data[i], data[j]);
  const swap = (i: number, j: number) => { const t = data[i]; data[i] = data[j]; data[j] = t; };
  const insertionSort = (a: number, b: number) => {
    for (let i = a + 1; i < b; i++) for (let j = i; j > a && lessIdx(j, j - 1); j--) swap(j, j - 1);
  };
  const swapRange = (a: number, b: number, cnt: number) => { for (let i = 0; i < cnt; i++) swap(a + i, b + i); };
  const rotate = (a: number, m: number, b: number) => {
    let i = m - a, j = b - m;
    while (i !== j) {
      if (i > j) { swapRange(m - i, m, j); i -= j; } else { swapRange(m - i, m + j - i, i); j -= i; }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m, j = b;
      while (i < j) { const h = (i + j) >>> 1; if (lessIdx(h, a)) i = h + 1; else j = h; }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a, j = m;
      while (i < j) { const h = (i + j) >>> 1; if (!lessIdx(m, h)) i = h + 1; else j = h; }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const nn = mid + m;
    let start: number, r: number;
    if (m > mid) { start = nn - b; r = mid; } else { start = a; r = m; }
    const p = nn - 1;
    while (start < r) { const c = (start + r) >>> 1; if (!lessIdx(p - c, c)) start = c + 1; else r = c; }
    const end = nn - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };
  let blockSize = 20;
  let a = 0, b = blockSize;
  while (b <= n) { insertionSort(a, b); a = b; b += blockSize; }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0; b = 2 * blockSize;
    while (b <= n) { symMerge(a, a + blockSize, b); a = b; b += 2 * blockSize; }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}
