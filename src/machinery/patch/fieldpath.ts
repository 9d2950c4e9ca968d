// Field paths and sets of them, as structured-merge-diff keeps them: the ordering, the set
// algebra and the FieldsV1 encoding must match upstream byte for byte, because clients diff
// and display managedFields and the order of keys in FieldsV1 is part of what they see.

import type { Node } from '../schema.ts';

export type PathElement =
  | { t: 'f'; name: string }
  | { t: 'k'; fields: [string, unknown][] } // sorted by field name
  | { t: 'v'; value: unknown }
  | { t: 'i'; index: number };
export type Path = PathElement[];

export const fieldPE = (name: string): PathElement => ({ t: 'f', name });

const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const RANK = { f: 0, k: 1, v: 2, i: 3 } as const;

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Go's value.Compare: numbers < strings < bools < lists < maps < null. */
export function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown) =>
    typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : typeof v === 'boolean' ? 2
      : Array.isArray(v) ? 3 : isMap(v) ? 4 : 5;
  const ra = rank(a), rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0: return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1: return cmpStr(a as string, b as string);
    case 2: return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const la = a as unknown[], lb = b as unknown[];
      for (let i = 0; ; i++) {
        if (i >= la.length && i >= lb.length) return 0;
        if (i >= la.length) return -1;
        if (i >= lb.length) return 1;
        const c = compareValues(la[i], lb[i]);
        if (c) return c;
      }
    }
    case 4: {
      const ka = Object.keys(a as object).sort(cmpStr), kb = Object.keys(b as object).sort(cmpStr);
      for (let i = 0; ; i++) {
        if (i >= ka.length && i >= kb.length) return 0;
        if (i >= ka.length) return -1;
        if (i >= kb.length) return 1;
        const c = cmpStr(ka[i], kb[i]) || compareValues((a as any)[ka[i]], (b as any)[kb[i]]);
        if (c) return c;
      }
    }
    default: return 0;
  }
}

export function comparePE(a: PathElement, b: PathElement): number {
  if (a.t !== b.t) return RANK[a.t] < RANK[b.t] ? -1 : 1;
  switch (a.t) {
    case 'f': return cmpStr(a.name, (b as typeof a).name);
    case 'k': {
      const fa = a.fields, fb = (b as typeof a).fields;
      for (let i = 0; ; i++) {
        if (i >= fa.length && i >= fb.length) return 0;
        if (i >= fa.length) return -1;
        if (i >= fb.length) return 1;
        const c = cmpStr(fa[i][0], fb[i][0]) || compareValues(fa[i][1], fb[i][1]);
        if (c) return c;
      }
    }
    case 'v': return compareValues(a.value, (b as typeof a).value);
    case 'i': return a.index - (b as typeof a).index < 0 ? -1 : a.index === (b as typeof a).index ? 0 : 1;
  }
}

/** Go's value.ToString, used in path strings such as `[name="nginx"]`. */
function valueToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map(valueToString).join(',') + ']';
  return Object.entries(v as object).map(([k, x]) => `${k}=${valueToString(x)}`).join('');
}

export function peString(pe: PathElement): string {
  switch (pe.t) {
    case 'f': return '.' + pe.name;
    case 'k': return '[' + pe.fields.map(([n, v]) => `${n}=${valueToString(v)}`).join(',') + ']';
    case 'v': return `[=${valueToString(pe.value)}]`;
    case 'i': return `[${pe.index}]`;
  }
}

/** `.spec.template.spec.containers[name="nginx"].image` */
export const pathString = (p: Path) => p.map(peString).join('');

// encoding/json (and json-iterator's standard config) escape <, > and & in strings.
const goJSON = (v: unknown) =>
  JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));

export function serializePE(pe: PathElement): string {
  switch (pe.t) {
    case 'f': return 'f:' + pe.name;
    case 'k': return 'k:{' + pe.fields.map(([n, v]) => `${goJSON(n)}:${goJSON(v)}`).join(',') + '}';
    case 'v': return 'v:' + goJSON(pe.value);
    case 'i': return 'i:' + pe.index;
  }
}

function deserializePE(s: string): PathElement | undefined {
  if (s.length < 2 || s[1] !== ':') throw new Error(`missing colon: ${s}`);
  const rest = s.slice(2);
  switch (s[0]) {
    case 'f': return { t: 'f', name: rest };
    case 'v': return { t: 'v', value: JSON.parse(rest) };
    case 'i': {
      if (!/^-?\d+$/.test(rest)) throw new Error(`invalid index: ${rest}`);
      return { t: 'i', index: Number(rest) };
    }
    case 'k': {
      const o = JSON.parse(rest);
      if (!isMap(o)) throw new Error(`invalid key: ${rest}`);
      return { t: 'k', fields: sortFields(Object.entries(o)) };
    }
    default: return undefined; // unknown element types are skipped, as upstream does
  }
}

export const sortFields = (f: [string, unknown][]) => f.sort((a, b) => cmpStr(a[0], b[0]));

/** Binary search over a sorted array; returns [index, found]. */
function search<T>(arr: T[], pe: PathElement, key: (x: T) => PathElement): [number, boolean] {
  let lo = 0, hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = comparePE(key(arr[mid]), pe);
    if (c === 0) return [mid, true];
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  return [lo, false];
}
const self = (x: PathElement) => x;
const nodeKey = (x: [PathElement, FieldSet]) => x[0];

/** A set of paths as a trie: members end a path here, children continue below. */
export class FieldSet {
  members: PathElement[] = [];
  children: [PathElement, FieldSet][] = [];

  static of(...paths: Path[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(p: Path): void {
    if (p.length === 0) return;
    let s: FieldSet = this;
    for (let i = 0; i < p.length - 1; i++) s = s.descend(p[i]);
    const [at, found] = search(s.members, p[p.length - 1], self);
    if (!found) s.members.splice(at, 0, p[p.length - 1]);
  }

  descend(pe: PathElement): FieldSet {
    const [at, found] = search(this.children, pe, nodeKey);
    if (found) return this.children[at][1];
    const c = new FieldSet();
    this.children.splice(at, 0, [pe, c]);
    return c;
  }

  child(pe: PathElement): FieldSet | undefined {
    const [at, found] = search(this.children, pe, nodeKey);
    return found ? this.children[at][1] : undefined;
  }

  hasMember(pe: PathElement): boolean {
    return search(this.members, pe, self)[1];
  }

  has(p: Path): boolean {
    if (p.length === 0) return false;
    let s: FieldSet | undefined = this;
    for (let i = 0; i < p.length - 1 && s; i++) s = s.child(p[i]);
    return !!s && s.hasMember(p[p.length - 1]);
  }

  /** Paths below `pe` (empty set when none). */
  withPrefix(pe: PathElement): FieldSet {
    return this.child(pe) ?? new FieldSet();
  }

  empty(): boolean {
    return this.members.length === 0 && this.children.every(([, c]) => c.empty());
  }

  union(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.members = mergeSorted(this.members, o.members);
    let i = 0, j = 0;
    const a = this.children, b = o.children;
    while (i < a.length && j < b.length) {
      const c = comparePE(a[i][0], b[j][0]);
      if (c < 0) out.children.push(a[i++]);
      else if (c > 0) out.children.push(b[j++]);
      else { out.children.push([a[i][0], a[i][1].union(b[j][1])]); i++; j++; }
    }
    out.children.push(...a.slice(i), ...b.slice(j));
    return out;
  }

  intersection(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.members = this.members.filter((m) => o.hasMember(m));
    for (const [pe, c] of this.children) {
      const oc = o.child(pe);
      if (!oc) continue;
      const r = c.intersection(oc);
      if (!r.empty()) out.children.push([pe, r]);
    }
    return out;
  }

  /** Removes exactly the paths of `o` (a member does not remove what lies below it). */
  difference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.members = this.members.filter((m) => !o.hasMember(m));
    for (const [pe, c] of this.children) {
      const oc = o.child(pe);
      if (!oc) { out.children.push([pe, c]); continue; }
      const r = c.difference(oc);
      if (!r.empty()) out.children.push([pe, r]);
    }
    return out;
  }

  /** Removes the paths of `o` and everything below its members. */
  recursiveDifference(o: FieldSet): FieldSet {
    const out = new FieldSet();
    out.members = this.members.filter((m) => !o.hasMember(m));
    for (const [pe, c] of this.children) {
      if (o.hasMember(pe)) continue;
      const oc = o.child(pe);
      if (!oc) { out.children.push([pe, c]); continue; }
      const r = c.recursiveDifference(oc);
      if (!r.empty()) out.children.push([pe, r]);
    }
    return out;
  }

  /** Adds declared struct fields that have children as members (upstream EnsureNamedFieldsAreMembers). */
  withNamedFieldsAsMembers(node: Node | null): FieldSet {
    const out = new FieldSet();
    out.members = [...this.members];
    for (const [pe, c] of this.children) {
      let sub: Node | null = null;
      if (pe.t === 'f' && node && node.kind !== 'array' && node.kind !== 'scalar') {
        if (node.hasField(pe.name) && !out.hasMember(pe)) out.members.splice(search(out.members, pe, self)[0], 0, pe);
        sub = node.field(pe.name);
      } else if (pe.t === 'k' && node && (node.kind === 'array' || node.kind === 'untyped')) {
        sub = node.items();
      }
      out.children.push([pe, c.withNamedFieldsAsMembers(sub)]);
    }
    return out;
  }

  /** Every path, members of a level before its children (upstream Iterate order). */
  paths(prefix: Path = []): Path[] {
    const out: Path[] = this.members.map((m) => [...prefix, m]);
    for (const [pe, c] of this.children) out.push(...c.paths([...prefix, pe]));
    return out;
  }

  /** FieldsV1 object, keys in upstream order. */
  toFields(): Record<string, unknown> {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (includeSelf && (this.members.length || this.children.length)) out['.'] = {};
    let mi = 0, ci = 0;
    const m = this.members, ch = this.children;
    while (mi < m.length || ci < ch.length) {
      const c = mi >= m.length ? 1 : ci >= ch.length ? -1 : comparePE(m[mi], ch[ci][0]);
      if (c < 0) out[serializePE(m[mi++])] = {};
      else if (c > 0) { out[serializePE(ch[ci][0])] = ch[ci][1].emit(false); ci++; }
      else { out[serializePE(ch[ci][0])] = ch[ci][1].emit(true); mi++; ci++; }
    }
    return out;
  }

  /** Parses FieldsV1; throws on malformed input. */
  static fromFields(f: unknown): FieldSet {
    if (!isMap(f)) throw new Error('FieldsV1 must be an object');
    return readLevel(f)[0] ?? new FieldSet();
  }
}

function readLevel(obj: Record<string, unknown>): [FieldSet | null, boolean] {
  let children: FieldSet | null = null;
  let isMember = false;
  for (const [key, v] of Object.entries(obj)) {
    if (key === '.') { isMember = true; continue; }
    const pe = deserializePE(key);
    if (!pe) continue;
    if (!isMap(v)) throw new Error(`FieldsV1 value for ${key} must be an object`);
    const [grand, childIsMember] = readLevel(v);
    if (childIsMember) (children ??= new FieldSet()).insert([pe]);
    if (grand) {
      children ??= new FieldSet();
      const target = children.descend(pe);
      target.members = grand.members;
      target.children = grand.children;
    }
  }
  if (!children) isMember = true;
  return [children, isMember];
}

function mergeSorted(a: PathElement[], b: PathElement[]): PathElement[] {
  const out: PathElement[] = [];
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    const c = comparePE(a[i], b[j]);
    if (c < 0) out.push(a[i++]);
    else if (c > 0) out.push(b[j++]);
    else { out.push(a[i++]); j++; }
  }
  return out.concat(a.slice(i), b.slice(j));
}
