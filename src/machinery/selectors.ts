// Label and field selectors, parsed once per request into plain matcher functions.
// The grammar, the sort order of requirements and every error text follow
// k8s.io/apimachinery/pkg/labels/selector.go and pkg/fields/selector.go, because clients
// (kubectl, Helm, client-go) show the server's message verbatim.

import { ApiError, badRequest } from './errors.ts';
import type { KObject } from './types.ts';

export type Labels = Record<string, string> | undefined;
export type LabelMatcher = (labels: Labels) => boolean;

type Op = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';
interface Requirement { key: string; op: Op; values: string[] }

export interface LabelSelectorRequirement { key: string; operator: string; values?: string[] }
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

// ---- Go value rendering, as field.Error and fmt's %q print values ----

/** Go's strconv.Quote (fmt %q). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (/\p{L}|\p{M}|\p{N}|\p{P}|\p{S}/u.test(ch) || ch === ' ') out += ch;
    else out += c > 0xffff ? '\\U' + c.toString(16).padStart(8, '0') : '\\u' + c.toString(16).padStart(4, '0');
  }
  return out + '"';
}

/** Go's json.Marshal, which escapes <, > and & for HTML safety. */
export function goJSON(v: unknown): string {
  return (JSON.stringify(v) ?? 'null')
    .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const matchAll: LabelMatcher = () => true;
const matchNone: LabelMatcher = () => false;

// ---- name and label syntax (apimachinery api/validate/content). They live here, not in
// validation.ts, so that serving a list never loads the validator. ----

const labelKeyFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelKeyErrMsg = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const labelKeyRe = new RegExp(`^${labelKeyFmt}$`);
const labelValueFmt = `(${labelKeyFmt})?`;
const labelValueRe = new RegExp(`^${labelValueFmt}$`);
const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);

export function regexError(msg: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${re}')`;
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join('or ')}regex used for validation is '${re}')`;
}
const maxLenError = (n: number) => `must be no more than ${n} bytes`;
const byteLen = (s: string) => Buffer.byteLength(s);

export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLen(value) > 253) errs.push(maxLenError(253));
  if (!dns1123SubdomainRe.test(value)) {
    errs.push(regexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
      dns1123SubdomainFmt, 'example.com'));
  }
  return errs;
}

export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLen(value) > 63) errs.push(maxLenError(63));
  if (!dns1123LabelRe.test(value)) {
    if (dns1123SubdomainRe.test(value)) errs.push('must not contain dots');
    else errs.push(regexError("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
      dns1123LabelFmt, 'my-name', '123-abc'));
  }
  return errs;
}

/** Label keys and other "qualified names": `[prefix/]name`. */
export function isLabelKey(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => 'prefix part ' + m));
  } else {
    return ['a valid label key ' + regexError(labelKeyErrMsg, labelKeyFmt, 'MyName', 'my.name', '123-abc')
      + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (byteLen(name) > 63) errs.push('name part ' + maxLenError(63));
  if (!labelKeyRe.test(name)) errs.push('name part ' + regexError(labelKeyErrMsg, labelKeyFmt, 'MyName', 'my.name', '123-abc'));
  return errs;
}

export function isLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLen(value) > 63) errs.push(maxLenError(63));
  if (!labelValueRe.test(value)) {
    errs.push(regexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
      labelValueFmt, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

// ---- requirements ----

// strconv.ParseInt(s, 10, 64)
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/** field.Invalid(...).Error() with Go's value rendering. */
function invalidText(path: string, value: unknown, detail: string): string {
  const v = typeof value === 'string' ? goQuote(value) : goJSON(value);
  return `${path}: Invalid value: ${v}: ${detail}`;
}

/** labels.NewRequirement: returns the requirement or the aggregated error text. */
function newRequirement(key: string, op: Op, values: string[]): Requirement | string {
  const errs: string[] = [];
  const keyErr = isLabelKey(key).join('; ');
  if (keyErr) errs.push(invalidText('key', key, keyErr));
  switch (op) {
    case 'in': case 'notin':
      if (values.length === 0) errs.push(invalidText('values', values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=': case '==': case '!=':
      if (values.length !== 1) errs.push(invalidText('values', values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists': case '!':
      if (values.length !== 0) errs.push(invalidText('values', values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt': case 'lt':
      if (values.length !== 1) errs.push(invalidText('values', values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(invalidText(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const m = isLabelValue(v).join('; ');
    if (m) errs.push(invalidText(`values[${i}][${key}]`, v, m));
  });
  const uniq = [...new Set(errs)];
  if (uniq.length === 0) return { key, op, values };
  return uniq.length === 1 ? uniq[0] : `[${uniq.join(', ')}]`;
}

function matchRequirement(r: Requirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.op) {
    case 'in': case '=': case '==':
      return has && r.values.includes(labels![r.key]);
    case 'notin': case '!=':
      return !has || !r.values.includes(labels![r.key]);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt': case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const a = parseInt64(labels![r.key]);
      const b = parseInt64(r.values[0]);
      if (a === undefined || b === undefined) return false;
      return r.op === 'gt' ? a > b : a < b;
    }
  }
}

function compile(reqs: Requirement[]): LabelMatcher {
  if (reqs.length === 0) return matchAll;
  if (reqs.length === 1) {
    const r = reqs[0];
    return (l) => matchRequirement(r, l);
  }
  return (l) => {
    for (const r of reqs) if (!matchRequirement(r, l)) return false;
    return true;
  };
}

function requirementString(r: Requirement): string {
  if (r.op === '!') return '!' + r.key;
  if (r.op === 'exists') return r.key;
  const vals = r.values.length === 1 ? r.values[0] : [...r.values].sort().join(',');
  switch (r.op) {
    case 'in': return `${r.key} in (${vals})`;
    case 'notin': return `${r.key} notin (${vals})`;
    case 'gt': return `${r.key}>${vals}`;
    case 'lt': return `${r.key}<${vals}`;
    default: return `${r.key}${r.op}${vals}`;
  }
}

const byKey = (a: Requirement, b: Requirement) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

// ---- the string syntax: a port of the apimachinery lexer/parser ----

const enum T { Error, End, ClosedPar, Comma, DoesNotExist, DoubleEquals, Equals, GreaterThan, Identifier, In, LessThan, NotEquals, NotIn, OpenPar }
const tokens: Record<string, T> = {
  ')': T.ClosedPar, ',': T.Comma, '!': T.DoesNotExist, '==': T.DoubleEquals, '=': T.Equals,
  '>': T.GreaterThan, in: T.In, '<': T.LessThan, '!=': T.NotEquals, notin: T.NotIn, '(': T.OpenPar,
};
const isWhitespace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string) => '=!(),><'.includes(c);

function lex(s: string): Array<[T, string]> {
  const out: Array<[T, string]> = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos])) pos++;
    if (pos >= s.length) { out.push([T.End, '']); return out; }
    if (isSpecial(s[pos])) {
      // Longest run of special characters that is still a known operator.
      let buf = '';
      let last: [T, string] | undefined;
      while (pos < s.length && isSpecial(s[pos])) {
        buf += s[pos];
        if (tokens[buf] !== undefined) { last = [tokens[buf], buf]; pos++; } else if (last) break; else pos++;
      }
      out.push(last ?? [T.Error, `error expected: keyword found '${buf}'`]);
    } else {
      const start = pos;
      while (pos < s.length && !isSpecial(s[pos]) && !isWhitespace(s[pos])) pos++;
      const word = s.slice(start, pos);
      const t = tokens[word];
      out.push([t === T.In || t === T.NotIn ? t : T.Identifier, word]);
    }
  }
}

class Parser {
  private pos = 0;
  constructor(private items: Array<[T, string]>) {}
  // In "values" context the keywords in/notin are ordinary identifiers.
  private look(values = true): [T, string] {
    const [t, l] = this.items[this.pos];
    return [values && (t === T.In || t === T.NotIn) ? T.Identifier : t, l];
  }
  private next(values = true): [T, string] {
    const r = this.look(values);
    this.pos++;
    return r;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const [t, lit] = this.look();
      if (t === T.End) return reqs;
      if (t !== T.Identifier && t !== T.DoesNotExist) {
        throw new Error(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
      const r = this.requirement();
      if (typeof r === 'string') throw new Error(`unable to parse requirement: ${r}`);
      reqs.push(r);
      const [t2, l2] = this.next();
      if (t2 === T.End) return reqs;
      if (t2 !== T.Comma) throw new Error(`found '${l2}', expected: ',' or 'end of string'`);
      const [t3, l3] = this.look();
      if (t3 !== T.Identifier && t3 !== T.DoesNotExist) throw new Error(`found '${l3}', expected: identifier after ','`);
    }
  }

  private requirement(): Requirement | string {
    let [t, key] = this.next();
    let op: Op | undefined;
    if (t === T.DoesNotExist) { op = '!'; [t, key] = this.next(); }
    if (t !== T.Identifier) return `found '${key}', expected: identifier`;
    const keyErr = isLabelKey(key).join('; ');
    // The parser validates the key with a nil field path: Go prints it as "<nil>".
    if (keyErr) return invalidText('<nil>', key, keyErr);
    const [la] = this.look();
    if (la === T.End || la === T.Comma) return newRequirement(key, op ?? 'exists', []);
    if (op === '!') return newRequirement(key, op, []);
    const [ot, olit] = this.next(false);
    const ops: Partial<Record<T, Op>> = {
      [T.In]: 'in', [T.Equals]: '=', [T.DoubleEquals]: '==', [T.GreaterThan]: 'gt',
      [T.LessThan]: 'lt', [T.NotIn]: 'notin', [T.NotEquals]: '!=',
    };
    op = ops[ot];
    if (!op) return `found '${olit}', expected: in, notin, =, ==, !=, gt, lt`;
    const values = op === 'in' || op === 'notin' ? this.setValues() : this.exactValue();
    if (typeof values === 'string') return values;
    return newRequirement(key, op, [...new Set(values)].sort());
  }

  private setValues(): string[] | string {
    const [t, lit] = this.next();
    if (t !== T.OpenPar) return `found '${lit}' expected: '('`;
    const [t2, l2] = this.look();
    if (t2 === T.ClosedPar) { this.next(); return ['']; }
    if (t2 !== T.Identifier && t2 !== T.Comma) return `found '${l2}', expected: ',', ')' or identifier`;
    const s: string[] = [];
    for (;;) {
      const [ti, li] = this.next();
      if (ti === T.Identifier) {
        s.push(li);
        const [tn, ln] = this.look();
        if (tn === T.Comma) continue;
        if (tn === T.ClosedPar) break;
        return `found '${ln}', expected: ',' or ')'`;
      } else if (ti === T.Comma) {
        if (s.length === 0) s.push('');
        const [tn] = this.look();
        if (tn === T.ClosedPar) { s.push(''); break; }
        if (tn === T.Comma) s.push('');
      } else {
        return `found '${li}', expected: ',', or identifier`;
      }
    }
    const [tc] = this.next();
    if (tc !== T.ClosedPar) return `found '${l2}', expected: ')'`;
    return s;
  }

  private exactValue(): string[] | string {
    const [t] = this.look();
    if (t === T.End || t === T.Comma) return [''];
    const [t2, lit] = this.next();
    if (t2 === T.Identifier) return [lit];
    return `found '${lit}', expected: identifier`;
  }
}

function parseRequirements(s: string): Requirement[] {
  try {
    return new Parser(lex(s)).parse().sort(byKey);
  } catch (e) {
    throw badRequest((e as Error).message);
  }
}

/** `labelSelector=` query parameter -> matcher. Invalid input is a 400 with the apiserver's text. */
export function parseLabelSelector(s: string | undefined): LabelMatcher {
  if (!s) return matchAll;
  return compile(parseRequirements(s));
}

/** The canonical form the apiserver prints (`a=b,c in (x,y)`): requirements sorted by key. */
export function labelSelectorQueryString(s: string): string {
  return parseRequirements(s).map(requirementString).join(',');
}

function selectorRequirements(sel: LabelSelector): Requirement[] {
  const reqs: Requirement[] = [];
  const add = (r: Requirement | string) => {
    if (typeof r === 'string') throw badRequest(r);
    reqs.push(r);
  };
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) add(newRequirement(k, '=', [v]));
  for (const e of sel.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' } as const)[e.operator as 'In'];
    if (!op) throw badRequest(`${goQuote(String(e.operator))} is not a valid label selector operator`);
    add(newRequirement(e.key, op, [...(e.values ?? [])]));
  }
  return reqs.sort(byKey);
}

/**
 * metav1.LabelSelector -> matcher. A missing selector matches nothing, an empty one
 * everything (LabelSelectorAsSelector). An invalid one throws a 400.
 */
export function labelSelectorMatcher(sel: LabelSelector | null | undefined): LabelMatcher {
  if (!sel) return matchNone;
  return compile(selectorRequirements(sel));
}

/**
 * LabelSelectorAsSelector(sel).String(): `""` for a missing or empty selector;
 * throws ApiError for an invalid one.
 */
export function labelSelectorString(sel: LabelSelector | null | undefined): string {
  if (!sel) return '';
  return selectorRequirements(sel).map(requirementString).join(',');
}

/** metav1.FormatLabelSelector: `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(sel: LabelSelector | null | undefined): string {
  try {
    return labelSelectorString(sel) || '<none>';
  } catch (e) {
    if (e instanceof ApiError) return '<error>';
    throw e;
  }
}

/** labels.FormatLabels: `a=b,c=d` sorted, `<none>` when empty. */
export function formatLabels(m: Record<string, string> | null | undefined): string {
  const s = Object.entries(m ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
  return s || '<none>';
}

// ---- field selectors ----

export type FieldMatcher = (obj: KObject) => boolean;

// Selector names that are not plain JSON paths of the stored object (GetAttrs of the kinds);
// the first path present wins. Events name their source differently in core/v1 and events/v1.
const FIELD_ALIASES: Record<string, string[]> = {
  'spec.host': ['spec.nodeName'],
  source: ['source.component', 'deprecatedSource.component'],
  // batch/v1 Job: the selector says successful, the status says succeeded.
  'status.successful': ['status.succeeded'],
};
// Booleans the apiserver formats with strconv.FormatBool, so an absent field reads "false".
const BOOL_FIELDS = new Set(['spec.unschedulable', 'spec.hostNetwork']);
// Counts it formats with strconv.Itoa, so an absent field reads "0".
const COUNT_FIELDS = new Set(['status.successful']);

function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let slash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (slash) slash = false;
    else if (c === '\\') slash = true;
    else if (c === ',') { terms.push(s.slice(start, i)); start = i + 1; }
  }
  terms.push(s.slice(start));
  return terms;
}

function unescapeValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let slash = false;
  for (const c of s) {
    if (slash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      slash = false;
    } else if (c === '\\') {
      slash = true;
    } else if (c === ',' || c === '=') {
      // Go formats the offending rune with %v: its code point.
      throw badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else {
      out += c;
    }
  }
  if (slash) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

function lookup(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function fieldValue(obj: KObject, field: string): string {
  let cur: unknown;
  for (const path of FIELD_ALIASES[field] ?? [field]) {
    cur = lookup(obj, path);
    if (cur !== undefined && cur !== null) break;
  }
  if (cur === undefined || cur === null) return BOOL_FIELDS.has(field) ? 'false' : COUNT_FIELDS.has(field) ? '0' : '';
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return '';
}

/**
 * `fieldSelector=` query parameter -> matcher over the stored object. `allowed` is the kind's
 * selectableFields; metadata.name and metadata.namespace are always allowed. A field outside
 * that list is the 400 the apiserver gives for it: the generic text for kinds with only the
 * metadata fields, `field label not supported: x` for kinds with their own list.
 */
export function parseFieldSelector(s: string | undefined, allowed: readonly string[] = []): FieldMatcher {
  if (!s) return () => true;
  const parts = splitTerms(s).sort();
  const terms: Array<{ field: string; value: string; neg: boolean }> = [];
  for (const part of parts) {
    if (part === '') continue;
    let i = 0;
    let op = '';
    for (; i < part.length; i++) {
      const rest = part.slice(i);
      op = ['!=', '==', '='].find((o) => rest.startsWith(o)) ?? '';
      if (op) break;
    }
    if (!op) throw badRequest(`invalid selector: '${s}'; can't understand '${part}'`);
    terms.push({ field: part.slice(0, i), value: unescapeValue(part.slice(i + op.length)), neg: op === '!=' });
  }
  const own = allowed.filter((f) => f !== 'metadata.name' && f !== 'metadata.namespace');
  for (const t of terms) {
    if (t.field === 'metadata.name' || t.field === 'metadata.namespace' || own.includes(t.field)) continue;
    throw badRequest(own.length
      ? `field label not supported: ${t.field}`
      : `${goQuote(t.field)} is not a known field selector: only "metadata.name", "metadata.namespace"`);
  }
  if (terms.length === 0) return () => true;
  return (obj) => {
    for (const t of terms) if ((fieldValue(obj, t.field) === t.value) === t.neg) return false;
    return true;
  };
}
