// Request-body validation the way the apiserver's decoder sees a body, plus ObjectMeta rules.
//
// The apiserver rejects a wrongly typed field while *decoding* (400, Go's encoding/json text),
// reports unknown and duplicate fields per fieldValidation (strict decoding errors), and only
// then validates (422 with field causes). One walk over the body and the kind's OpenAPI schema
// reproduces all three in document order, like the Go decoder. A walker instead of Ajv: Ajv
// reports in schema order, cannot give Go's struct/field/type wording without walking the
// schema again, and costs ~8 MB to load plus the compiled validators; the walker needs
// nothing compiled and looks definitions up by name as it goes (a few µs per object).

import { loadedYaml } from '../yaml.ts';
import type { Node as YamlNode } from 'yaml';
import { ApiError, badRequest, invalid, type StatusCause } from './errors.ts';
import type { KindInfo, KObject, OwnerReference } from './types.ts';
import { goJSON, goQuote, isDNS1123Label, isDNS1123Subdomain, isLabelKey, isLabelValue, type LabelSelector } from './selectors.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';
export interface RawBody { text: string; format: 'json' | 'yaml' }
export interface ValidateOptions {
  /** an apply configuration or other partial object: skip `required` checks */
  partial?: boolean;
  /** the object is the result of a PATCH: errors take the patch handler's 422 form */
  patch?: boolean;
}

type Schema = Record<string, any>;
type Defs = Record<string, Schema>;

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.Time';
const MICRO_TIME = 'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime';
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
const FIELDS_V1 = 'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1';

/**
 * Definitions as the validator reads them: the types Go decodes with their own UnmarshalJSON
 * (IntOrString: integer|string, Quantity: number|string, Time/MicroTime: date-time,
 * RawExtension/FieldsV1: anything) are normalised; every other definition is shared, not
 * copied. Idempotent, so codegen may apply it before writing generated/schemas.json.
 * For validation only: the served OpenAPI documents keep the upstream shapes.
 */
export function prepareSchemas(definitions: Defs): Defs {
  const out: Defs = { ...definitions };
  const keepDoc = (d: Schema | undefined) => (d?.description ? { description: d.description } : {});
  if (out[INT_OR_STRING]) out[INT_OR_STRING] = { ...keepDoc(out[INT_OR_STRING]), type: ['integer', 'string'], format: 'int32' };
  if (out[QUANTITY]) out[QUANTITY] = { ...keepDoc(out[QUANTITY]), type: ['number', 'string'] };
  if (out[TIME]) out[TIME] = { ...keepDoc(out[TIME]), type: 'string', format: 'date-time' };
  if (out[MICRO_TIME]) out[MICRO_TIME] = { ...keepDoc(out[MICRO_TIME]), type: 'string', format: 'date-time' };
  if (out[RAW_EXTENSION]) out[RAW_EXTENSION] = keepDoc(out[RAW_EXTENSION]);
  if (out[FIELDS_V1]) out[FIELDS_V1] = keepDoc(out[FIELDS_V1]);
  return out;
}

// ---- Go error texts ----

const timeQuote = (s: string): string => {
  // time.quote: ASCII as is (with \" and \\), everything else as \x of its UTF-8 bytes
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b >= 0x20 && b < 0x80) out += b === 0x22 || b === 0x5c ? '\\' + String.fromCharCode(b) : String.fromCharCode(b);
    else out += '\\x' + b.toString(16).padStart(2, '0');
  }
  return out + '"';
};

const isDigit = (s: string, i: number) => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;

/** time.Parse(time.RFC3339 or metav1.RFC3339Micro, s): the error text, or null when it parses. */
export function goParseTimeError(value: string, micro: boolean): string | null {
  const layout = micro ? '2006-01-02T15:04:05.000000Z07:00' : '2006-01-02T15:04:05Z07:00';
  const steps: Array<[prefix: string, std: string]> = [['', '2006'], ['-', '01'], ['-', '02'], ['T', '15'], [':', '04'], [':', '05']];
  if (micro) steps.push(['', '.000000']);
  steps.push(['', 'Z07:00']);
  const cannot = (v: string, elem: string) =>
    `parsing time ${timeQuote(value)} as ${timeQuote(layout)}: cannot parse ${timeQuote(v)} as ${timeQuote(elem)}`;
  const outOfRange = (what: string) => `parsing time ${timeQuote(value)}: ${what} out of range`;
  // getnum: one or two digits; fixed demands two
  const getnum = (s: string, fixed: boolean): [number, string] | null => {
    if (!isDigit(s, 0)) return null;
    if (!isDigit(s, 1)) return fixed ? null : [s.charCodeAt(0) - 48, s.slice(1)];
    return [(s.charCodeAt(0) - 48) * 10 + s.charCodeAt(1) - 48, s.slice(2)];
  };
  let v = value;
  let year = 0, month = 0, day = 0;
  for (const [prefix, std] of steps) {
    for (const c of prefix) {
      if (v.length === 0 || v[0] !== c) return cannot(v, prefix);
      v = v.slice(1);
    }
    const hold = v;
    let range = '';
    let ok = true;
    switch (std) {
      case '2006':
        if (v.length < 4 || !isDigit(v, 0) || !/^[0-9]{4}$/.test(v.slice(0, 4))) ok = false;
        else { year = Number(v.slice(0, 4)); v = v.slice(4); }
        break;
      case '01': case '02': case '15': case '04': case '05': {
        const r = getnum(v, std !== '15');
        if (!r) { ok = false; break; }
        [, v] = r;
        const n = r[0];
        if (std === '01') { month = n; if (n <= 0 || n > 12) range = 'month'; }
        if (std === '02') day = n;
        if (std === '15' && n >= 24) range = 'hour';
        if (std === '04' && n >= 60) range = 'minute';
        if (std === '05') {
          if (n >= 60) { range = 'second'; break; }
          // A fraction the layout does not name is accepted after the seconds.
          if (!micro && v.length >= 2 && (v[0] === '.' || v[0] === ',') && isDigit(v, 1)) {
            let n2 = 2;
            while (isDigit(v, n2)) n2++;
            v = v.slice(n2);
          }
        }
        break;
      }
      case '.000000':
        if (v.length < 7 || (v[0] !== '.' && v[0] !== ',') || !/^[0-9]{6}$/.test(v.slice(1, 7))) ok = false;
        else v = v.slice(7);
        break;
      case 'Z07:00': {
        if (v.length >= 1 && v[0] === 'Z') { v = v.slice(1); break; }
        if (v.length < 6 || v[3] !== ':') { ok = false; break; }
        const hr = getnum(v.slice(1, 3), true);
        const mm = hr && getnum(v.slice(4, 6), true);
        // Go reports a range error even when the sign is bad too.
        if (hr && hr[0] > 24) range = 'time zone offset hour';
        if (mm && mm[0] > 60) range = 'time zone offset minute';
        if (!hr || !mm || (v[0] !== '+' && v[0] !== '-')) ok = false;
        v = v.slice(6);
        break;
      }
    }
    if (range) return outOfRange(range);
    if (!ok) return cannot(hold, std);
  }
  if (v.length > 0) return `parsing time ${timeQuote(value)}: extra text: ${timeQuote(v)}`;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  if (day < 1 || day > days) return outOfRange('day');
  return null;
}

const B64 = new Uint8Array(256).fill(0xff);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => { B64[c.charCodeAt(0)] = i; });

/** base64.StdEncoding.Decode: the offset Go reports for corrupt input, or null. */
export function goBase64ErrorOffset(s: string): number | null {
  const src = Buffer.from(s, 'utf8');
  const nl = (i: number) => src[i] === 10 || src[i] === 13;
  let si = 0;
  while (si < src.length) {
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return null;
        return si - j;
      }
      const c = src[si++];
      if (B64[c] !== 0xff) continue;
      if (c === 10 || c === 13) { j--; continue; }
      if (c !== 0x3d) return si - 1;
      if (j < 2) return si - 1;
      if (j === 2) {
        while (si < src.length && nl(si)) si++;
        if (si === src.length) return src.length;
        if (src[si] !== 0x3d) return si - 1;
        si++;
      }
      while (si < src.length && nl(si)) si++;
      return si < src.length ? si : null;
    }
  }
  return null;
}

const QUANTITY_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** resource.ParseQuantity: the error text, or null. */
export function goParseQuantityError(str: string): string | null {
  if (str.length === 0) return QUANTITY_FORMAT;
  if (str === '0') return null;
  const end = str.length;
  let pos = 0;
  if (str[0] === '-' || str[0] === '+') pos++;
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return null;
  while (pos < end && isDigit(str, pos)) pos++;
  if (pos >= end) return null;
  let suffix = '';
  if (str[pos] === '.') {
    pos++;
    while (pos < end && isDigit(str, pos)) pos++;
  }
  const value = str.slice(0, pos);
  if (pos < end) {
    const suffixStart = pos;
    while (pos < end && 'eEinumkKMGTP'.includes(str[pos])) pos++;
    if (pos < end) {
      if (str[pos] === '-' || str[pos] === '+') pos++;
      while (pos < end && isDigit(str, pos)) pos++;
      if (pos < end) return QUANTITY_FORMAT;
    }
    suffix = str.slice(suffixStart);
  }
  const known = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'P', 'E'];
  if (!known.includes(suffix) && !/^[eE][-+]?[0-9]+$/.test(suffix)) return "unable to parse quantity's suffix";
  // inf.Dec.SetString of the numeric part: "." alone has no number in it.
  if (!/[0-9]/.test(value)) return 'unable to parse numeric part of quantity';
  return null;
}

// ---- the decoding walk ----

class Pairs {
  constructor(public readonly list: Array<[string, unknown]>) {}
}

/** JSON text -> values where every object keeps all its keys in order, duplicates included. */
function parseJsonPairs(text: string): unknown {
  let i = 0;
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else return;
    }
  };
  const str = (): string => {
    const start = i++;
    let esc = false;
    for (;;) {
      const c = text.charCodeAt(i++);
      if (c === 34) break;
      if (c === 92) { esc = true; i++; }
      if (Number.isNaN(c)) throw new SyntaxError('unterminated string');
    }
    return esc ? JSON.parse(text.slice(start, i)) : text.slice(start + 1, i - 1);
  };
  const value = (): unknown => {
    ws();
    const c = text.charCodeAt(i);
    if (c === 123) {
      i++;
      const list: Array<[string, unknown]> = [];
      ws();
      if (text.charCodeAt(i) === 125) { i++; return new Pairs(list); }
      for (;;) {
        ws();
        const k = str();
        ws();
        i++;
        list.push([k, value()]);
        ws();
        if (text.charCodeAt(i++) === 125) return new Pairs(list);
      }
    }
    if (c === 91) {
      i++;
      const a: unknown[] = [];
      ws();
      if (text.charCodeAt(i) === 93) { i++; return a; }
      for (;;) {
        a.push(value());
        ws();
        if (text.charCodeAt(i++) === 93) return a;
      }
    }
    if (c === 34) return str();
    const start = i;
    while (i < text.length && !',}] \t\r\n'.includes(text[i])) i++;
    return JSON.parse(text.slice(start, i));
  };
  return value();
}

const isObj = (v: unknown): v is Record<string, unknown> | Pairs =>
  v instanceof Pairs || (typeof v === 'object' && v !== null && !Array.isArray(v));
const entriesOf = (v: Record<string, unknown> | Pairs): Array<[string, unknown]> =>
  (v instanceof Pairs ? v.list : Object.entries(v));

function jsonKind(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** Decoding stops at the first error from a type's own UnmarshalJSON, as in Go. */
class Fatal {
  constructor(public readonly message: string) {}
}

interface Ctx {
  struct: string;       // Go name of the innermost struct whose field is being decoded
  fields: string;       // Go's field stack: JSON names of struct fields only, dot-joined
  strict: string;       // the strict-decoding path: keys joined by ".", indexes as [i]
  path: string;         // the Kubernetes field path for causes: a.b[0].c, maps as [key]
  status: boolean;      // under the top-level status, which writes to the main resource drop
}

class Walk {
  saved?: string;
  strictErrs: string[] = [];
  private strictSeen = new Set<string>();
  required: StatusCause[] = [];

  constructor(private defs: Defs, private strict: boolean, private checkRequired: boolean) {}

  private resolve(s: Schema): { s: Schema; name?: string } {
    let name: string | undefined;
    for (let n = 0; n < 8; n++) {
      if (typeof s.$ref === 'string') {
        name = s.$ref.slice(s.$ref.lastIndexOf('/') + 1);
        s = this.defs[name] ?? {};
      } else if (Array.isArray(s.allOf) && s.allOf.length === 1 && !s.type && !s.properties) {
        s = s.allOf[0];
      } else {
        break;
      }
    }
    return { s, name };
  }

  goType(s0: Schema): string {
    const { s, name } = this.resolve(s0);
    if (name === INT_OR_STRING) return 'intstr.IntOrString';
    if (name === QUANTITY) return 'resource.Quantity';
    if (name && s.properties) {
      const parts = name.split('.');
      return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
    }
    if (name === TIME || name === MICRO_TIME) return 'v1.' + name.slice(name.lastIndexOf('.') + 1);
    switch (s.type) {
      case 'string': return s.format === 'byte' ? '[]uint8' : 'string';
      case 'integer': return s.format === 'int32' ? 'int32' : s.format === 'int64' ? 'int64' : 'int';
      case 'number': return 'float64';
      case 'boolean': return 'bool';
      case 'array': return '[]' + (s.items ? this.goType(s.items) : 'interface {}');
      case 'object': return s.additionalProperties && typeof s.additionalProperties === 'object'
        ? 'map[string]' + this.goType(s.additionalProperties) : 'map[string]interface {}';
      default: return 'interface {}';
    }
  }

  private typeError(value: string, goType: string, ctx: Ctx): string {
    return ctx.struct
      ? `json: cannot unmarshal ${value} into Go struct field ${ctx.struct}.${ctx.fields} of type ${goType}`
      : `json: cannot unmarshal ${value} into Go value of type ${goType}`;
  }

  private save(msg: string): void {
    this.saved ??= msg;
  }

  private strictError(type: 'unknown field' | 'duplicate field', path: string): void {
    const msg = `${type} ${goQuote(path)}`;
    if (this.strictSeen.has(msg) || this.strictErrs.length >= 100) return;
    this.strictSeen.add(msg);
    this.strictErrs.push(msg);
  }

  root(v: unknown, name: string): void {
    this.value(v, { $ref: name }, { struct: '', fields: '', strict: '', path: '', status: false });
  }

  private value(v: unknown, s0: Schema, ctx: Ctx): void {
    if (v === null || v === undefined) return;
    const { s, name } = this.resolve(s0);
    switch (name) {
      case INT_OR_STRING:
        if (typeof v === 'string') return;
        if (typeof v === 'number') {
          if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647) return;
          throw new Fatal(this.typeError(`number ${v}`, 'int32', ctx));
        }
        throw new Fatal(this.typeError(jsonKind(v), 'int32', ctx));
      case QUANTITY: {
        const text = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(plain(v));
        const err = goParseQuantityError(text.trim());
        if (err) throw new Fatal(err);
        return;
      }
      case TIME:
      case MICRO_TIME: {
        if (typeof v !== 'string') throw new Fatal(this.typeError(jsonKind(v), 'string', ctx));
        const err = goParseTimeError(v, name === MICRO_TIME);
        if (err) throw new Fatal(err);
        return;
      }
      case RAW_EXTENSION:
      case FIELDS_V1:
        return;
    }
    if (s.properties) return this.struct(v, s, name, s0, ctx);
    switch (s.type) {
      case 'object':
        if (!isObj(v)) return this.save(this.typeError(jsonKind(v), this.goType(s0), ctx));
        if (s.additionalProperties && typeof s.additionalProperties === 'object') this.map(v, s.additionalProperties, ctx);
        return;
      case 'array': {
        if (!Array.isArray(v)) return this.save(this.typeError(jsonKind(v), this.goType(s0), ctx));
        for (let i = 0; i < v.length; i++) {
          this.value(v[i], s.items ?? {}, { ...ctx, strict: `${ctx.strict}[${i}]`, path: `${ctx.path}[${i}]` });
        }
        return;
      }
      case 'string':
        if (typeof v !== 'string') return this.save(this.typeError(jsonKind(v), this.goType(s0), ctx));
        if (s.format === 'byte') {
          const at = goBase64ErrorOffset(v);
          if (at !== null) this.save(`illegal base64 data at input byte ${at}`);
        }
        return;
      case 'integer': {
        const t = this.goType(s0);
        if (typeof v !== 'number') return this.save(this.typeError(jsonKind(v), t, ctx));
        const [lo, hi] = t === 'int32' ? [-2147483648, 2147483647] : [-(2 ** 63), 2 ** 63 - 1];
        if (!Number.isInteger(v) || v < lo || v > hi) this.save(this.typeError(`number ${v}`, t, ctx));
        return;
      }
      case 'number':
        if (typeof v !== 'number') this.save(this.typeError(jsonKind(v), 'float64', ctx));
        return;
      case 'boolean':
        if (typeof v !== 'boolean') this.save(this.typeError(jsonKind(v), 'bool', ctx));
        return;
    }
  }

  private struct(v: unknown, s: Schema, name: string | undefined, s0: Schema, ctx: Ctx): void {
    if (!isObj(v)) return this.save(this.typeError(jsonKind(v), this.goType(s0), ctx));
    const structName = name ? name.slice(name.lastIndexOf('.') + 1) : ctx.struct;
    const props = s.properties as Record<string, Schema>;
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
    const seen = v instanceof Pairs ? new Set<string>() : undefined;
    const present = new Set<string>();
    for (const [k, val] of entriesOf(v)) {
      const strictPath = ctx.strict ? `${ctx.strict}.${k}` : k;
      if (!Object.prototype.hasOwnProperty.call(props, k)) {
        if (this.strict && !preserve) this.strictError('unknown field', strictPath);
        continue;
      }
      if (seen) {
        if (seen.has(k) && this.strict) this.strictError('duplicate field', strictPath);
        seen.add(k);
      }
      if (val !== null) present.add(k);
      this.value(val, props[k], {
        struct: structName,
        fields: ctx.fields ? `${ctx.fields}.${k}` : k,
        strict: strictPath,
        path: ctx.path ? `${ctx.path}.${k}` : k,
        status: ctx.status || (ctx.path === '' && k === 'status'),
      });
    }
    if (this.checkRequired && !ctx.status && Array.isArray(s.required)) {
      for (const r of s.required as string[]) {
        if (!present.has(r)) this.required.push({ reason: 'FieldValueRequired', message: 'Required value', field: ctx.path ? `${ctx.path}.${r}` : r });
      }
    }
  }

  private map(v: Record<string, unknown> | Pairs, item: Schema, ctx: Ctx): void {
    const seen = v instanceof Pairs ? new Set<string>() : undefined;
    for (const [k, val] of entriesOf(v)) {
      const strictPath = ctx.strict ? `${ctx.strict}.${k}` : k;
      if (seen) {
        if (seen.has(k) && this.strict) this.strictError('duplicate field', strictPath);
        seen.add(k);
      }
      this.value(val, item, { ...ctx, strict: strictPath, path: `${ctx.path}[${k}]` });
    }
  }
}

function plain(v: unknown): unknown {
  if (v instanceof Pairs) return Object.fromEntries(v.list.map(([k, x]) => [k, plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/** yaml.v2 strict mode: one line per key set twice in the same map, in decoding order. */
function yamlDuplicateKeys(text: string): string[] {
  const { parseDocument, isMap, isSeq, isScalar, LineCounter } = loadedYaml();
  const lc = new LineCounter();
  // YAML 1.1 resolves keys like yaml.v2 does (`on` is a bool there).
  const doc = parseDocument(text, { uniqueKeys: false, lineCounter: lc, version: '1.1' });
  const out: string[] = [];
  const line = (n: YamlNode | null | undefined, fallback: YamlNode | null | undefined) => {
    const at = n?.range?.[0] ?? fallback?.range?.[0] ?? 0;
    return lc.linePos(at).line;
  };
  const keyId = (k: unknown): [string, string] => {
    const v = isScalar(k) ? k.value : k;
    if (typeof v === 'string') return ['s:' + v, goQuote(v)];
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) return [`${typeof v}:${v}`, String(v === null ? '<nil>' : v)];
    return ['o:' + String(v), String(v)];
  };
  const visit = (n: unknown) => {
    if (isMap(n)) {
      const seen = new Set<string>();
      for (const pair of n.items) {
        visit(pair.value);
        const [id, shown] = keyId(pair.key);
        if (seen.has(id)) out.push(`line ${line(pair.value as YamlNode, pair.key as YamlNode)}: key ${shown} already set in map`);
        seen.add(id);
      }
    } else if (isSeq(n)) {
      for (const item of n.items) visit(item);
    }
  };
  visit(doc.contents);
  return out;
}

/** "Deployment in version "v1" cannot be handled as a Deployment: <err>" */
function decodeError(kind: KindInfo, obj: KObject, err: string): ApiError {
  const bodyKind = typeof obj.kind === 'string' && obj.kind ? obj.kind : kind.kind;
  const av = typeof obj.apiVersion === 'string' && obj.apiVersion ? obj.apiVersion : kind.version;
  const version = av.slice(av.lastIndexOf('/') + 1);
  return badRequest(`${bodyKind} in version ${goQuote(version)} cannot be handled as a ${kind.kind}: ${err}`);
}

/** The patch handler's form: ` "" is invalid: patch: Invalid value: "<object>": <err>` */
function patchError(obj: KObject, err: string): ApiError {
  return invalid('', '', '', [{ reason: 'FieldValueInvalid', field: 'patch', message: `Invalid value: ${goQuote(JSON.stringify(obj))}: ${err}` }]);
}

/** One per server; stateless apart from the definitions, so it is safe to share. */
export class Validator {
  private readonly defs: Defs;

  constructor(definitions: Defs) {
    this.defs = prepareSchemas(definitions);
  }

  /**
   * Checks a decoded body against the kind's schema as the apiserver's decoder does.
   * Throws 400 for type errors and (Strict) unknown/duplicate fields, 422 for missing required
   * fields; returns the warnings for Warn. `rawBody` lets duplicate keys be found; nulls are
   * absent values, as Go decoding drops them.
   */
  validate(kind: KindInfo, obj: KObject, mode: FieldValidation, rawBody?: RawBody, opts: ValidateOptions = {}): { warnings: string[] } {
    const root = kind.definition;
    if (!this.defs[root]) return { warnings: [] };
    const strict = mode === 'Strict' || mode === 'Warn';
    let body: unknown = obj;
    if (strict && rawBody?.format === 'json') {
      try { body = parseJsonPairs(rawBody.text); } catch { body = obj; }
    }
    const w = new Walk(this.defs, strict, !opts.partial);
    try {
      w.root(body, root);
    } catch (e) {
      if (!(e instanceof Fatal)) throw e;
      throw opts.patch ? patchError(obj, e.message) : decodeError(kind, obj, e.message);
    }
    if (w.saved) throw opts.patch ? patchError(obj, w.saved) : decodeError(kind, obj, w.saved);

    const strictErrs = [...w.strictErrs];
    let yamlLines: string[] = [];
    if (strict && rawBody?.format === 'yaml') {
      yamlLines = yamlDuplicateKeys(rawBody.text);
      if (yamlLines.length) strictErrs.unshift(`yaml: unmarshal errors:\n  ${yamlLines.join('\n  ')}`);
    }
    const warnings: string[] = [];
    if (strictErrs.length) {
      if (mode === 'Strict') {
        const msg = `strict decoding error: ${strictErrs.join(', ')}`;
        throw opts.patch ? patchError(obj, msg) : decodeError(kind, obj, msg);
      }
      warnings.push(...yamlLines, ...w.strictErrs);
    }
    if (w.required.length) throw invalid(kind.kind, kind.group, obj.metadata?.name ?? '', w.required);
    return { warnings };
  }
}

// ---- field errors (k8s.io/apimachinery/pkg/util/validation/field) ----

function goValue(v: unknown): string {
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return goJSON(v);
}

/** StatusCauses built like field.ErrorList entries, for other validators too. */
export const fieldError = {
  invalid: (field: string, value: unknown, detail: string): StatusCause =>
    ({ reason: 'FieldValueInvalid', message: `Invalid value: ${goValue(value)}${detail ? ': ' + detail : ''}`, field }),
  required: (field: string, detail = ''): StatusCause =>
    ({ reason: 'FieldValueRequired', message: `Required value${detail ? ': ' + detail : ''}`, field }),
  forbidden: (field: string, detail: string): StatusCause =>
    ({ reason: 'FieldValueForbidden', message: `Forbidden${detail ? ': ' + detail : ''}`, field }),
  tooLong: (field: string, max: number): StatusCause =>
    ({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}`, field }),
  notSupported: (field: string, value: unknown, valid: string[]): StatusCause =>
    ({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${goValue(value)}${valid.length ? ': supported values: ' + valid.map(goQuote).join(', ') : ''}`, field }),
};

// ---- ObjectMeta ----

/** Which rule metadata.name follows. */
export type NameRule = 'subdomain' | 'label' | 'pathSegment' | 'cronJob';

/** Resources (`plural` or `plural.group`) whose names are not DNS-1123 subdomains. */
export const NAME_RULES: Record<string, NameRule> = {
  namespaces: 'label',
  // RelaxedServiceNameValidation (beta, on by default in 1.36): a label, no longer DNS-1035.
  services: 'label',
  // Pods take the StatefulSet name as hostname.
  'statefulsets.apps': 'label',
  // A subdomain that leaves room for the Job's "-<minutes>" suffix.
  'cronjobs.batch': 'cronJob',
  'roles.rbac.authorization.k8s.io': 'pathSegment',
  'clusterroles.rbac.authorization.k8s.io': 'pathSegment',
  'rolebindings.rbac.authorization.k8s.io': 'pathSegment',
  'clusterrolebindings.rbac.authorization.k8s.io': 'pathSegment',
};

export function nameRule(kind: KindInfo): NameRule {
  return NAME_RULES[kind.group ? `${kind.plural}.${kind.group}` : kind.plural] ?? 'subdomain';
}

/** apimachinery's maskTrailingDash, faithfully: it drops the character before the dash too. */
const maskTrailingDash = (name: string) => (name.length > 1 && name.endsWith('-') ? name.slice(0, -2) + 'a' : name);

function nameErrors(rule: NameRule, name: string, prefix: boolean): string[] {
  switch (rule) {
    case 'label':
      return isDNS1123Label(prefix ? maskTrailingDash(name) : name);
    case 'pathSegment': {
      if (!prefix && (name === '.' || name === '..')) return [`may not be '${name}'`];
      const errs: string[] = [];
      for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
      return errs;
    }
    default:
      return isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
  }
}

const TOTAL_ANNOTATION_SIZE = 256 * 1024;
const isPrintable = (ch: string) => /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(ch) || ch === ' ';

/** an OwnerReference in Go's field order, as json.Marshal prints it in messages */
function ownerRefJSON(r: Partial<OwnerReference>): Record<string, unknown> {
  const o: Record<string, unknown> = { apiVersion: r.apiVersion ?? '', kind: r.kind ?? '', name: r.name ?? '', uid: r.uid ?? '' };
  if (r.controller !== undefined) o.controller = r.controller;
  if (r.blockOwnerDeletion !== undefined) o.blockOwnerDeletion = r.blockOwnerDeletion;
  return o;
}

function parseGroupVersion(apiVersion: string): { group: string; version: string } | undefined {
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0] };
  if (parts.length === 2) return { group: parts[0], version: parts[1] };
  return undefined;
}

/**
 * ValidateObjectMeta for a create: name (or generateName), namespace, labels, annotations,
 * owner references, finalizers and managed fields, as StatusCauses with the apiserver's texts.
 * Call it as (kind, obj) — the name rule and scope come from the kind — or as
 * (obj, namespaced, rule).
 */
export function validateObjectMeta(kind: KindInfo, obj: KObject): StatusCause[];
export function validateObjectMeta(obj: KObject, namespaced: boolean, rule?: NameRule): StatusCause[];
export function validateObjectMeta(a: KindInfo | KObject, b: KObject | boolean, c?: NameRule): StatusCause[] {
  let obj: KObject;
  let namespaced: boolean;
  let rule: NameRule;
  if (typeof b === 'boolean') {
    obj = a as KObject;
    namespaced = b;
    rule = c ?? 'subdomain';
  } else {
    const kind = a as KindInfo;
    obj = b;
    namespaced = kind.namespaced;
    rule = nameRule(kind);
  }
  const m = obj.metadata ?? {};
  const out: StatusCause[] = [];
  const f = fieldError;

  if (m.generateName) {
    for (const msg of nameErrors(rule, m.generateName, true)) out.push(f.invalid('metadata.generateName', m.generateName, msg));
  }
  if (!m.name) {
    out.push(f.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const msg of nameErrors(rule, m.name, false)) out.push(f.invalid('metadata.name', m.name, msg));
  }

  if (namespaced) {
    if (!m.namespace) out.push(f.required('metadata.namespace'));
    else for (const msg of isDNS1123Label(m.namespace)) out.push(f.invalid('metadata.namespace', m.namespace, msg));
  } else if (m.namespace) {
    out.push(f.forbidden('metadata.namespace', 'not allowed on this type'));
  }

  if (typeof m.generation === 'number' && m.generation < 0) {
    out.push(f.invalid('metadata.generation', m.generation, 'must be greater than or equal to 0'));
  }

  for (const [k, v] of Object.entries(m.labels ?? {})) {
    for (const msg of isLabelKey(k)) out.push(f.invalid('metadata.labels', k, msg));
    for (const msg of isLabelValue(String(v))) out.push(f.invalid('metadata.labels', v, msg));
  }

  let annotationSize = 0;
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    // Annotation keys are label keys, compared case-insensitively.
    for (const msg of isLabelKey(k.toLowerCase())) out.push(f.invalid('metadata.annotations', k, msg));
    annotationSize += Buffer.byteLength(k) + Buffer.byteLength(String(v ?? ''));
  }
  if (annotationSize > TOTAL_ANNOTATION_SIZE) out.push(f.tooLong('metadata.annotations', TOTAL_ANNOTATION_SIZE));

  const refs = Array.isArray(m.ownerReferences) ? m.ownerReferences : [];
  let firstController = '';
  for (const ref of refs) {
    const gv = parseGroupVersion(ref.apiVersion ?? '');
    if (!gv || !gv.version) out.push(f.invalid('metadata.ownerReferences.apiVersion', ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) out.push(f.invalid('metadata.ownerReferences.kind', ref.kind ?? '', 'must not be empty'));
    if (!ref.name) out.push(f.invalid('metadata.ownerReferences.name', ref.name ?? '', 'must not be empty'));
    if (!ref.uid) out.push(f.invalid('metadata.ownerReferences.uid', ref.uid ?? '', 'must not be empty'));
    if (gv && gv.group === '' && gv.version === 'v1' && ref.kind === 'Event') {
      out.push(f.invalid('metadata.ownerReferences', ownerRefJSON(ref), '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref.controller === true) {
      const cur = `${ref.kind}/${ref.name}`;
      if (firstController) {
        out.push(f.invalid('metadata.ownerReferences', refs.map(ownerRefJSON),
          `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`));
      } else {
        firstController = cur;
      }
    }
  }

  const finalizers = Array.isArray(m.finalizers) ? m.finalizers : [];
  for (const fin of finalizers) for (const msg of isLabelKey(fin)) out.push(f.invalid('metadata.finalizers', fin, msg));
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    out.push(f.invalid('metadata.finalizers', finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }

  (Array.isArray(m.managedFields) ? m.managedFields : []).forEach((mf, i) => {
    const p = `metadata.managedFields[${i}]`;
    if (mf.operation !== 'Apply' && mf.operation !== 'Update') out.push(f.invalid(`${p}.operation`, mf.operation ?? '', 'must be `Apply` or `Update`'));
    if (mf.fieldsType && mf.fieldsType !== 'FieldsV1') out.push(f.invalid(`${p}.fieldsType`, mf.fieldsType, 'must be `FieldsV1`'));
    const manager = mf.manager ?? '';
    if (Buffer.byteLength(manager) > 128) out.push(f.tooLong(`${p}.manager`, 128));
    let pos = 0;
    for (const ch of manager) {
      if (!isPrintable(ch)) {
        const cp = ch.codePointAt(0)!;
        out.push(f.invalid(`${p}.manager`, manager, `invalid character U+${cp.toString(16).toUpperCase().padStart(4, '0')} (at position ${pos})`));
      }
      pos += Buffer.byteLength(ch);
    }
    if (Buffer.byteLength(mf.subresource ?? '') > 256) out.push(f.tooLong(`${p}.subresource`, 256));
  });

  if (rule === 'cronJob' && m.name && m.name.length > 52) out.push(f.invalid('metadata.name', m.name, 'must be no more than 52 characters'));
  return out;
}

/** metav1validation.ValidateLabelSelector, for specs that carry a selector. */
export function validateLabelSelector(sel: LabelSelector | null | undefined, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!sel) return out;
  const f = fieldError;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    for (const msg of isLabelKey(k)) out.push(f.invalid(`${path}.matchLabels`, k, msg));
    for (const msg of isLabelValue(String(v))) out.push(f.invalid(`${path}.matchLabels`, v, msg));
  }
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = e.values ?? [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) out.push(f.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) out.push(f.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      out.push(f.invalid(`${p}.operator`, e.operator ?? '', 'not a valid selector operator'));
    }
    for (const msg of isLabelKey(e.key ?? '')) out.push(f.invalid(`${p}.key`, e.key ?? '', msg));
    values.forEach((v, j) => {
      for (const msg of isLabelValue(v)) out.push(f.invalid(`${p}.values[${j}]`, v, msg));
    });
  });
  return out;
}
