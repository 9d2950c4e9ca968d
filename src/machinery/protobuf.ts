// Request bodies in application/vnd.kubernetes.protobuf: `k8s\0` + runtime.Unknown{typeMeta,
// raw, contentEncoding, contentType}, raw being the object's own message. client-go 1.32+ typed
// clients (kubectl create, auth can-i, create token; Helm 4's release Secrets) send nothing else
// and never retry in JSON, so every served kind must decode here into the same object its JSON
// body would give.
//
// The messages are described by generated/k8s-proto.json (codegen/proto.ts), read on the first
// protobuf body. The wire format is read here rather than by protobufjs: these messages use only
// varints, strings, bytes, sub-messages and string-keyed maps, and protobufjs's reflection
// objects and generated decoders cost ~10 MB RSS against ~1 MB for this reader.
//
// Which zero values become JSON. Go's protobuf marshaller writes every non-pointer field, so
// the wire carries `""`, `0`, `false` and empty messages the sender never set; its JSON encoder
// drops zero values of `omitempty` fields unless the field is a pointer. Pointer-ness is in
// neither the .proto files nor the OpenAPI document, so the rule here is:
//   - absent on the wire: absent (a nil pointer, an empty list or map);
//   - a message present on the wire: kept, `{}` included (encoding/json never omits a struct:
//     `status: {}`, `resources: {}`), except the types with their own MarshalJSON below, whose
//     zero value is JSON null (`creationTimestamp` of a zero Time) and so is dropped;
//   - a scalar the OpenAPI lists as required (descriptor option k2d_required): kept, zero or not,
//     because Go has no omitempty on it;
//   - an optional string or bytes field that is empty: dropped. Nearly all of them are plain Go
//     strings (namespace, uid, imagePullPolicy, ...) whose "" means unset; keeping them would
//     make every object carry a dozen empty strings and fail enum validation. The rare `*string`
//     set to "" (a PVC's storageClassName) loses its "", which then reads as unset;
//   - an optional bool or number: kept, false and 0 included: a `*int32`/`*bool` set to its zero
//     (replicas: 0, automountServiceAccountToken: false, backoffLimit: 0) is a real value that
//     must survive. The exception is PLAIN_OMITEMPTY below: the plain `bool`/`int32`/`int64`
//     fields with `omitempty` (stdin, tty, hostNetwork, publishNotReadyAddresses, paused,
//     minReadySeconds, a probe's timeoutSeconds, metadata.generation), whose zero the wire always
//     carries and Go's JSON always drops; kept, they would be stored where a JSON body stores
//     nothing, and a 0 would escape defaulting (timeoutSeconds 0 is not defaulted to 1).
// Map values and list items are always kept (`data: {empty: ""}` is a real entry).
import { readFileSync } from 'node:fs';
import { generatedPath } from '../paths.ts';
import { ApiError, badRequest } from './errors.ts';
import type { KObject } from './types.ts';

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

export function isProtobufBody(buf: Uint8Array): boolean {
  return buf.length >= MAGIC.length && MAGIC.every((b, i) => buf[i] === b);
}

// ---- the descriptor ----

interface FieldJson { type: string; id: number; rule?: string; keyType?: string; options?: Record<string, unknown> }
interface TypeJson { fields?: Record<string, FieldJson>; options?: Record<string, unknown>; nested?: Record<string, TypeJson> }

interface Field {
  name: string;
  json: string;
  type: string; // scalar name, or a message's full name
  message: boolean;
  repeated: boolean;
  map: boolean;
  inline: boolean;
  required: boolean;
}
interface Message { name: string; fields: Field[]; byId: Map<number, Field>; items: boolean }

interface Loaded { types: Map<string, TypeJson>; compiled: Map<string, Message>; kinds: Record<string, string> }
let loaded: Loaded | undefined;

function load(): Loaded {
  if (loaded) return loaded;
  const json = JSON.parse(readFileSync(generatedPath('k8s-proto.json'), 'utf8')) as TypeJson;
  const types = new Map<string, TypeJson>();
  const walk = (ns: TypeJson, prefix: string) => {
    for (const [name, t] of Object.entries(ns.nested ?? {})) {
      const full = prefix ? `${prefix}.${name}` : name;
      if (t.fields) types.set(full, t);
      walk(t, full);
    }
  };
  walk(json, '');
  loaded = { types, compiled: new Map(), kinds: (json.options?.k2d_kinds ?? {}) as Record<string, string> };
  return loaded;
}

function message(name: string): Message {
  const { types, compiled } = load();
  let m = compiled.get(name);
  if (m) return m;
  const t = types.get(name);
  if (!t) throw new Error(`protobuf descriptor has no message ${name}`);
  const fields = Object.entries(t.fields ?? {}).map(([fname, f]): Field => ({
    name: fname,
    json: (f.options?.json_name as string | undefined) ?? fname,
    type: f.type.startsWith('.') ? f.type.slice(1) : f.type,
    message: f.type.startsWith('.'),
    repeated: f.rule === 'repeated',
    map: f.keyType !== undefined,
    inline: f.options?.k2d_inline === true,
    required: f.options?.k2d_required === true,
  }));
  m = { name, fields, byId: new Map(fields.map((f) => [t.fields![f.name].id, f])), items: t.options?.k2d_items === true };
  compiled.set(name, m);
  return m;
}

// ---- the wire format ----

/** A failure inside the bytes: the caller words it the way the apiserver does. */
class DecodeFailure extends Error {}

const MAX_DEPTH = 100;
const eof = () => new DecodeFailure('unexpected EOF');

interface Reader { buf: Buffer; pos: number }
const asBuffer = (b: Uint8Array) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length));

// The 64-bit varint just read, as two unsigned 32-bit halves: JS numbers cannot hold it whole.
let lo = 0;
let hi = 0;
function varint(r: Reader, end: number): void {
  lo = 0; hi = 0;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= end) throw eof();
    const b = r.buf[r.pos++];
    const bits = b & 0x7f;
    if (i < 4) lo |= bits << (7 * i);
    else if (i === 4) { lo |= bits << 28; hi |= bits >>> 4; } else hi |= bits << (7 * i - 32);
    if (b < 0x80) { lo >>>= 0; hi >>>= 0; return; }
  }
  throw new DecodeFailure('proto: integer overflow');
}
const int64 = () => (hi >= 0x80000000 ? -((~hi >>> 0) * 2 ** 32 + (~lo >>> 0) + 1) : hi * 2 ** 32 + lo);
const length = (r: Reader, end: number): number => {
  varint(r, end);
  if (hi || lo > end - r.pos) throw eof();
  return lo;
};

function skip(r: Reader, end: number, wire: number, depth: number): void {
  switch (wire) {
    case 0: varint(r, end); return;
    case 1: r.pos += 8; break;
    case 2: { const n = length(r, end); r.pos += n; return; }
    case 5: r.pos += 4; break;
    case 3: { // a group: skip to its end-group tag
      if (depth > MAX_DEPTH) throw new DecodeFailure('proto: max depth exceeded');
      for (;;) {
        varint(r, end);
        const w = lo & 7;
        if (w === 4) return;
        skip(r, end, w, depth + 1);
      }
    }
    default: throw new DecodeFailure(`proto: illegal wireType ${wire}`);
  }
  if (r.pos > end) throw eof();
}

type Raw = Record<string, unknown>;

function scalar(type: string, r: Reader, end: number): unknown {
  switch (type) {
    case 'string': {
      const n = length(r, end);
      const s = r.buf.toString('utf8', r.pos, r.pos + n);
      r.pos += n;
      return s;
    }
    case 'bytes': {
      const n = length(r, end);
      const b = r.buf.subarray(r.pos, r.pos + n);
      r.pos += n;
      return b;
    }
    case 'bool': varint(r, end); return (lo | hi) !== 0;
    case 'int32': varint(r, end); return lo | 0;
    case 'int64': varint(r, end); return int64();
  }
  throw new Error(`protobuf descriptor uses an unsupported type ${type}`);
}

/**
 * The plain (non-pointer) bool and integer fields with `json:",omitempty"` of the served
 * packages, by message: `Message:jsonField,...`. Read from the Go structs of k8s.io/api and
 * k8s.io/apimachinery (pkg/apis/meta/v1) types.go, which neither the .proto files nor the
 * OpenAPI document describe. A zero in one of them is dropped, as Go's JSON drops it. Left out
 * on purpose: autoscaling/v1 ScaleSpec.replicas, where a scale to 0 must reach the handler.
 */
const PLAIN_OMITEMPTY_BY_PACKAGE: Record<string, string> = {
  'k8s.io.api.apps.v1':
    'DaemonSetSpec:minReadySeconds ' +
    'DaemonSetStatus:observedGeneration,updatedNumberScheduled,numberAvailable,numberUnavailable ' +
    'DeploymentSpec:minReadySeconds,paused ' +
    'DeploymentStatus:observedGeneration,replicas,updatedReplicas,readyReplicas,availableReplicas,unavailableReplicas ' +
    'ReplicaSetSpec:minReadySeconds ' +
    'ReplicaSetStatus:fullyLabeledReplicas,readyReplicas,availableReplicas,observedGeneration ' +
    'StatefulSetSpec:minReadySeconds ' +
    'StatefulSetStatus:observedGeneration,readyReplicas,currentReplicas,updatedReplicas',
  'k8s.io.api.authentication.v1': 'TokenReviewStatus:authenticated',
  'k8s.io.api.authorization.v1': 'SubjectAccessReviewStatus:denied',
  'k8s.io.api.autoscaling.v2': 'HorizontalPodAutoscalerStatus:currentReplicas',
  'k8s.io.api.batch.v1': 'JobStatus:active,succeeded,failed',
  'k8s.io.api.core.v1':
    'AWSElasticBlockStoreVolumeSource:partition,readOnly ' +
    'AzureFilePersistentVolumeSource:readOnly AzureFileVolumeSource:readOnly ' +
    'CSIPersistentVolumeSource:readOnly CephFSPersistentVolumeSource:readOnly ' +
    'CephFSVolumeSource:readOnly CinderPersistentVolumeSource:readOnly ' +
    'CinderVolumeSource:readOnly Container:stdin,stdinOnce,tty ContainerImage:sizeBytes ' +
    'ContainerPort:hostPort ContainerStateTerminated:signal ' +
    'EphemeralContainerCommon:stdin,stdinOnce,tty Event:count EventSeries:count ' +
    'FCVolumeSource:readOnly FlexPersistentVolumeSource:readOnly FlexVolumeSource:readOnly ' +
    'GCEPersistentDiskVolumeSource:partition,readOnly ' +
    'GlusterfsPersistentVolumeSource:readOnly GlusterfsVolumeSource:readOnly ' +
    'ISCSIPersistentVolumeSource:readOnly,chapAuthDiscovery,chapAuthSession ' +
    'ISCSIVolumeSource:readOnly,chapAuthDiscovery,chapAuthSession NFSVolumeSource:readOnly ' +
    'NodeSpec:unschedulable PersistentVolumeClaimVolumeSource:readOnly ' +
    'PodAttachOptions:stdin,stdout,stderr,tty PodCondition:observedGeneration ' +
    'PodExecOptions:stdin,stdout,stderr,tty ' +
    'PodLogOptions:follow,previous,timestamps,insecureSkipTLSVerifyBackend ' +
    'PodSpec:hostNetwork,hostPID,hostIPC PodStatus:observedGeneration ' +
    'PortworxVolumeSource:readOnly ' +
    'Probe:initialDelaySeconds,timeoutSeconds,periodSeconds,successThreshold,failureThreshold ' +
    'QuobyteVolumeSource:readOnly RBDPersistentVolumeSource:readOnly RBDVolumeSource:readOnly ' +
    'ReplicationControllerSpec:minReadySeconds ' +
    'ReplicationControllerStatus:fullyLabeledReplicas,readyReplicas,availableReplicas,observedGeneration ' +
    'ScaleIOPersistentVolumeSource:sslEnabled,readOnly ' +
    'ScaleIOVolumeSource:sslEnabled,readOnly ServicePort:nodePort ' +
    'ServiceSpec:healthCheckNodePort,publishNotReadyAddresses ' +
    'StorageOSPersistentVolumeSource:readOnly StorageOSVolumeSource:readOnly ' +
    'VolumeMount:readOnly VolumeMountStatus:readOnly',
  'k8s.io.api.events.v1': 'Event:deprecatedCount',
  'k8s.io.api.networking.v1': 'ServiceBackendPort:number',
  'k8s.io.api.policy.v1': 'PodDisruptionBudgetStatus:observedGeneration',
  'k8s.io.api.scheduling.v1': 'PriorityClass:globalDefault',
  'k8s.io.apimachinery.pkg.apis.meta.v1':
    'Condition:observedGeneration ListOptions:watch,allowWatchBookmarks,limit ' +
    'ObjectMeta:generation Status:code StatusDetails:retryAfterSeconds',
};
let plainOmitempty: Set<string> | undefined;
function isPlainOmitempty(message: string, json: string): boolean {
  if (!plainOmitempty) {
    plainOmitempty = new Set();
    for (const [pkg, list] of Object.entries(PLAIN_OMITEMPTY_BY_PACKAGE)) {
      for (const entry of list.split(' ')) {
        const [msg, fields] = entry.split(':');
        for (const f of fields.split(',')) plainOmitempty.add(`${pkg}.${msg}.${f}`);
      }
    }
  }
  return plainOmitempty.has(`${message}.${json}`);
}

const ZERO: Record<string, unknown> = { string: '', bytes: Buffer.alloc(0), bool: false, int32: 0, int64: 0 };

function value(f: Field, wire: number, r: Reader, end: number, depth: number): unknown {
  if (f.message) {
    if (wire !== 2) throw new DecodeFailure(`proto: wrong wireType = ${wire} for field ${f.name}`);
    const n = length(r, end);
    return decode(message(f.type), r, r.pos + n, depth + 1);
  }
  if (wire !== ((f.type === 'string' || f.type === 'bytes') ? 2 : 0)) {
    throw new DecodeFailure(`proto: wrong wireType = ${wire} for field ${f.name}`);
  }
  return scalar(f.type, r, end);
}

/** A map entry {key = 1, value = 2}; Go gives a missing part its zero value. */
function mapEntry(f: Field, r: Reader, end: number, depth: number): [string, unknown] {
  let key = '';
  let val: unknown;
  while (r.pos < end) {
    varint(r, end);
    const id = (lo >>> 3) + hi * 2 ** 29;
    const wire = lo & 7;
    if (id === 1 && wire === 2) key = scalar('string', r, end) as string;
    else if (id === 2) val = value(f, wire, r, end, depth);
    else skip(r, end, wire, depth);
  }
  return [key, val ?? (f.message ? Object.create(null) : ZERO[f.type])];
}

/** Decodes one message into its fields by name; a field is present iff its key is. */
function decode(m: Message, r: Reader, end: number, depth: number, into: Raw = Object.create(null)): Raw {
  if (depth > MAX_DEPTH) throw new DecodeFailure('proto: max depth exceeded');
  while (r.pos < end) {
    varint(r, end);
    const id = (lo >>> 3) + hi * 2 ** 29;
    const wire = lo & 7;
    if (id === 0) throw new DecodeFailure(`proto: ${m.name.slice(m.name.lastIndexOf('.') + 1)}: illegal tag 0 (wire type ${wire})`);
    const f = m.byId.get(id);
    if (!f) { skip(r, end, wire, depth); continue; }
    if (f.map) {
      if (wire !== 2) throw new DecodeFailure(`proto: wrong wireType = ${wire} for field ${f.name}`);
      const n = length(r, end);
      const entries = (into[f.name] ??= new Map()) as Map<string, unknown>;
      const [k, v] = mapEntry(f, r, r.pos + n, depth + 1);
      entries.set(k, v);
    } else if (f.repeated) {
      const list = (into[f.name] ??= []) as unknown[];
      if (wire === 2 && !f.message && f.type !== 'string' && f.type !== 'bytes') {
        const n = length(r, end); // packed numbers
        const stop = r.pos + n;
        while (r.pos < stop) list.push(scalar(f.type, r, stop));
      } else list.push(value(f, wire, r, end, depth));
    } else if (f.message && into[f.name] !== undefined) { // a message seen twice merges, as in Go
      if (wire !== 2) throw new DecodeFailure(`proto: wrong wireType = ${wire} for field ${f.name}`);
      const n = length(r, end);
      decode(message(f.type), r, r.pos + n, depth + 1, into[f.name] as Raw);
    } else {
      into[f.name] = value(f, wire, r, end, depth);
    }
  }
  if (r.pos !== end) throw eof();
  return into;
}

/**
 * The wire-level reading of one message by full name (`k8s.io.api.core.v1.ConfigMap`): fields
 * by proto name, maps as Map, bytes as Buffer. Exported for tests; callers want
 * decodeProtobufBody.
 */
export function readMessage(name: string, bytes: Uint8Array): Record<string, unknown> {
  return decode(message(name), { buf: asBuffer(bytes), pos: 0 }, bytes.length, 0);
}

// ---- to the JSON form ----

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1.';
// time.Time{} (0001-01-01T00:00:00Z) in Unix seconds: Go writes it as JSON null.
const GO_ZERO_TIME = -62135596800;
const has = (m: Raw, k: string) => m[k] !== undefined;

function rfc3339(seconds: number, micros?: number): string {
  const ms = seconds * 1000;
  // Go refuses to marshal years outside 0000-9999; Date would throw or print a six-digit year.
  if (!Number.isFinite(ms) || ms < -62167219200000 || ms > 253402300799000) {
    throw new DecodeFailure('Time.MarshalJSON: year outside of range [0,9999]');
  }
  const base = new Date(ms).toISOString().slice(0, 19);
  return micros === undefined ? `${base}Z` : `${base}.${String(micros).padStart(6, '0')}Z`;
}

// Raw bytes Go copies into the JSON output as they are: they must be JSON.
function rawJson(raw: Buffer, what: string): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new DecodeFailure(`${what}: ${(e as Error).message}`);
  }
}

/** The JSON form of a message, or undefined where Go's JSON would be null. */
function messageJson(m: Message, v: Raw): unknown {
  switch (m.name) {
    case `${META}Time`: { // upstream's Unmarshal keeps whole seconds only, and so does its JSON
      if (!has(v, 'seconds') && !has(v, 'nanos')) return undefined;
      const s = (v.seconds as number | undefined) ?? 0;
      return s === GO_ZERO_TIME ? undefined : rfc3339(s);
    }
    case `${META}MicroTime`: {
      if (!has(v, 'seconds') && !has(v, 'nanos')) return undefined;
      let s = (v.seconds as number | undefined) ?? 0;
      const nanos = (v.nanos as number | undefined) ?? 0;
      if (s === GO_ZERO_TIME && !nanos) return undefined;
      let micros = Math.trunc(nanos / 1000);
      s += Math.floor(micros / 1e6);
      micros = ((micros % 1e6) + 1e6) % 1e6;
      return rfc3339(s, micros);
    }
    case 'k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return v.type === 1 ? (v.strVal ?? '') : (v.intVal ?? 0);
    case 'k8s.io.apimachinery.pkg.api.resource.Quantity':
      return v.string;
    case 'k8s.io.apimachinery.pkg.runtime.RawExtension':
      return (v.raw as Buffer | undefined)?.length ? rawJson(v.raw as Buffer, 'RawExtension') : undefined;
    case `${META}FieldsV1`:
      return (v.Raw as Buffer | undefined)?.length ? rawJson(v.Raw as Buffer, 'FieldsV1') : undefined;
  }
  if (m.items) { // a Go named slice (ExtraValue []string) is the bare list in JSON
    const f = m.fields[0];
    return ((v[f.name] ?? []) as unknown[]).map((x) => fieldJson(f, x) ?? null);
  }
  return objectJson(m, v, {});
}

function fieldJson(f: Field, v: unknown): unknown {
  if (f.message) return messageJson(message(f.type), v as Raw);
  if (f.type === 'bytes') return (v as Buffer).toString('base64');
  return v;
}

// Map keys come off the wire: `__proto__` must become a key, not a prototype.
const setKey = (o: Record<string, unknown>, k: string, v: unknown) =>
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });

function objectJson(m: Message, v: Raw, out: Record<string, unknown>): Record<string, unknown> {
  for (const f of m.fields) {
    const x = v[f.name];
    if (x === undefined) continue;
    if (f.inline) {
      objectJson(message(f.type), x as Raw, out);
      continue;
    }
    let json: unknown;
    if (f.map) {
      const entries = x as Map<string, unknown>;
      if (!entries.size) continue;
      const o: Record<string, unknown> = {};
      // a zero Time kept in a map is null in Go's JSON
      for (const [k, e] of entries) setKey(o, k, fieldJson(f, e) ?? null);
      json = o;
    } else if (f.repeated) {
      const list = x as unknown[];
      if (!list.length) continue;
      json = list.map((e) => fieldJson(f, e) ?? null);
    } else {
      json = fieldJson(f, x);
      if (json === undefined || (json === '' && !f.required)) continue;
      if ((json === false || json === 0) && !f.required && isPlainOmitempty(m.name, f.json)) continue;
    }
    out[f.json] = json;
  }
  return out;
}

// ---- the envelope and the apiserver's errors ----

function hexSummary(body: Uint8Array): string {
  const head = Buffer.from(body.subarray(0, 30)).toString('hex');
  return body.length > 30 ? `${head} ...` : head;
}

const gvOf = (apiVersion: string) => {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
};

// Go type names as the apiserver's conversion error prints them: v1.Secret, core.ConfigMap.
const internalType = (apiVersion: string, kind: string) =>
  `${gvOf(apiVersion).group.split('.')[0] || 'core'}.${kind}`;

const reason = (e: unknown) => (e instanceof DecodeFailure ? e.message : `proto: ${(e as Error)?.message ?? e}`);

/**
 * Decodes a protobuf request body into the object's JSON form, with apiVersion and kind from
 * the envelope. `expected` is the kind the URL serves; a body of another kind or version is
 * refused as the apiserver refuses it. Every failure is a 400 BadRequest.
 */
export function decodeProtobufBody(body: Buffer, expected?: { apiVersion: string; kind: string }): KObject {
  const mustBe = expected ? ` (must be of type ${expected.kind})` : '';
  const unrecognized = (why: string) =>
    badRequest(`the object provided is unrecognized${mustBe}: ${why} (${hexSummary(body)})`);
  if (!body.length) throw unrecognized('empty data');
  if (!isProtobufBody(body)) {
    throw unrecognized(`provided data does not appear to be a protobuf message, expected prefix [${MAGIC.join(' ')}]`);
  }
  if (body.length === MAGIC.length) throw unrecognized('empty body');

  const { kinds } = load();
  let envelope: Raw;
  try {
    envelope = decode(message('k8s.io.apimachinery.pkg.runtime.Unknown'), { buf: asBuffer(body), pos: MAGIC.length }, body.length, 0);
  } catch (e) {
    throw unrecognized(reason(e));
  }
  const typeMeta = (envelope.typeMeta ?? {}) as Raw;
  let apiVersion = (typeMeta.apiVersion as string | undefined) ?? '';
  let kind = (typeMeta.kind as string | undefined) ?? '';
  if (expected) { // copyKindDefaults: a bare envelope takes the URL's kind
    if (!kind) kind = expected.kind;
    if (!apiVersion) apiVersion = expected.apiVersion;
  }
  const shown = () => `runtime.TypeMeta{APIVersion:${JSON.stringify(typeMeta.apiVersion ?? '')}, Kind:${JSON.stringify(typeMeta.kind ?? '')}}`;
  if (!kind) throw unrecognized(`Object 'Kind' is missing in '${shown()}'`);
  if (!apiVersion) throw unrecognized(`Object 'apiVersion' is missing in '${shown()}'`);

  const { version } = gvOf(apiVersion);
  const target = expected?.kind ?? kind;
  const cannot = (why: string) =>
    badRequest(`${kind} in version ${JSON.stringify(version)} cannot be handled as a ${target}: ${why}`);

  const name = Object.prototype.hasOwnProperty.call(kinds, `${apiVersion}/${kind}`) ? kinds[`${apiVersion}/${kind}`] : undefined;
  if (!name) {
    throw cannot(`no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme "pkg/api/legacyscheme/scheme.go:30"`);
  }
  if (expected && kind !== expected.kind) {
    throw cannot(`converting (${version}.${kind}) to (${internalType(expected.apiVersion, expected.kind)}): unknown conversion`);
  }
  if (expected && apiVersion !== expected.apiVersion) {
    throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${expected.apiVersion})`);
  }
  if (envelope.contentEncoding) {
    throw cannot(`unsupported content encoding ${JSON.stringify(envelope.contentEncoding)}: the object must be sent unencoded`);
  }

  try {
    const m = message(name);
    const raw = (envelope.raw as Buffer | undefined) ?? Buffer.alloc(0);
    const obj = objectJson(m, decode(m, { buf: raw, pos: 0 }, raw.length, 0), { apiVersion, kind });
    if (!obj.metadata && m.fields.some((f) => f.name === 'metadata')) obj.metadata = {};
    return obj as KObject;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw cannot(reason(e));
  }
}
