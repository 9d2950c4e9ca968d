// The verbs every kind shares: get, list, watch, create, update, patch, delete, deletecollection,
// and the status subresource. Per-kind behaviour lives in strategies (src/api/<kind>.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, invalid, methodNotAllowed, notFound, type StatusCause } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject } from '../machinery/types.ts';
import type { Wanted } from '../server/negotiate.ts';
import { decodeObject, mediaType, parseJsonText, parseYamlText, readBody } from '../server/body.ts';
import { send, setWarnings } from '../server/respond.ts';
import { buildTable } from '../machinery/table.ts';
import type { Validator } from '../machinery/validation.ts';
import {
  applyJsonPatch, applyMergePatch, applyServerSide, applyStrategicMergePatch,
} from '../machinery/patch/index.ts';
import type { SchemaNav } from '../machinery/schema.ts';
import { clone } from '../machinery/util.ts';

export type Query = Record<string, string | string[] | undefined>;

export interface ApiContext {
  registry: Registry;
  validator: Validator;
  schema: SchemaNav;
  /** Closes every open watch on SIGTERM. */
  watches: Set<() => void>;
  shuttingDown: () => boolean;
}

export interface ApiRequest {
  req: IncomingMessage;
  res: ServerResponse;
  kind: KindInfo;
  namespace?: string;
  name?: string;
  subresource?: string;
  query: Query;
  wanted: Wanted;
  userAgent: string;
}

/** K2D_WATCH_BOOKMARK_SECONDS exists for tests; the apiserver's period is a minute. */
const BOOKMARK_MS = Math.max(1, Number(process.env.K2D_WATCH_BOOKMARK_SECONDS ?? 60)) * 1000;

const apiVersionOf = (k: KindInfo) => (k.group ? `${k.group}/${k.version}` : k.version);

export function q1(query: Query, key: string): string | undefined {
  const v = query[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function qBool(query: Query, key: string): boolean {
  const v = q1(query, key);
  return v === 'true' || v === '1' || v === 't' || v === 'True' || v === 'TRUE';
}

function qInt(query: Query, key: string): number | undefined {
  const v = q1(query, key);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`${key}: Invalid value: "${v}": must be an integer`);
  return n;
}

function dryRun(query: Query): boolean {
  const v = query.dryRun;
  const list = (Array.isArray(v) ? v : v ? [v] : []).filter(Boolean);
  for (const d of list) {
    if (d !== 'All') throw invalid('CreateOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueNotSupported', field: 'dryRun', message: `Unsupported value: []string{"${d}"}: supported values: "All"` }]);
  }
  return list.length > 0;
}

function fieldValidation(query: Query): 'Strict' | 'Warn' | 'Ignore' {
  const v = q1(query, 'fieldValidation');
  if (v === undefined || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation: Invalid value: "${v}": fieldValidation must be one of "Ignore", "Warn", or "Strict"`);
}

export function fieldManager(r: ApiRequest, required = false): string | undefined {
  const fm = q1(r.query, 'fieldManager');
  if (fm !== undefined) {
    if (fm.length > 128) throw invalid('PatchOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueTooLong', field: 'fieldManager', message: `Too long: may not be more than 128 bytes` }]);
    return fm;
  }
  if (required) throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  // The real server names the manager after the client's User-Agent program name.
  return r.userAgent.split('/')[0] || 'unknown';
}

function inertWarning(kind: KindInfo): string[] {
  return kind.inert ? [`${kind.kind} is stored and served, but has no effect on this single-node k2d`] : [];
}

function partial(o: KObject): KObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

/** Sends one object in the form the client asked for. */
function sendObject(r: ApiRequest, code: number, obj: KObject): void {
  const w = r.wanted;
  if (w.as === 'Table') {
    send(r.res, code, buildTable(r.kind, obj, { includeObject: includeObject(r.query) }), w);
  } else if (w.as === 'PartialObjectMetadata' || w.as === 'PartialObjectMetadataList') {
    send(r.res, code, partial(obj), w);
  } else {
    send(r.res, code, obj, w);
  }
}

function includeObject(query: Query): 'None' | 'Metadata' | 'Object' | undefined {
  const v = q1(query, 'includeObject');
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  return undefined;
}

async function readObject(ctx: ApiContext, r: ApiRequest): Promise<{ obj: KObject; warnings: string[] }> {
  const body = await readBody(r.req);
  const { obj, raw } = await decodeObject(body, r.req.headers['content-type'], r.kind);
  const mode = fieldValidation(r.query);
  const { warnings } = ctx.validator.validate(r.kind, obj as KObject, mode, raw);
  return { obj: obj as KObject, warnings };
}

// ---- verbs ------------------------------------------------------------------------------------

export async function get(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const obj = await ctx.registry.get(r.kind, r.namespace, r.name!);
  sendObject(r, 200, obj);
}

export async function list(ctx: ApiContext, r: ApiRequest): Promise<void> {
  if (qBool(r.query, 'watch')) return watch(ctx, r);
  if (q1(r.query, 'sendInitialEvents') !== undefined) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueForbidden', field: 'sendInitialEvents', message: 'Forbidden: sendInitialEvents is forbidden for list' }]);
  }
  const result = await ctx.registry.list(r.kind, r.namespace, {
    labelSelector: q1(r.query, 'labelSelector'), fieldSelector: q1(r.query, 'fieldSelector'),
    limit: qInt(r.query, 'limit'), continue: q1(r.query, 'continue'),
  });
  const meta: Record<string, unknown> = { resourceVersion: result.resourceVersion };
  if (result.continue) { meta.continue = result.continue; meta.remainingItemCount = result.remainingItemCount; }
  const w = r.wanted;
  if (w.as === 'Table') {
    send(r.res, 200, buildTable(r.kind, result.items, { includeObject: includeObject(r.query), listMeta: meta as { resourceVersion: string; continue?: string } }), w);
    return;
  }
  if (w.as === 'PartialObjectMetadata' || w.as === 'PartialObjectMetadataList') {
    send(r.res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: meta, items: result.items.map(partial) }, w);
    return;
  }
  // Items carry no apiVersion/kind in a list, as on the real server.
  const items = result.items.map((o) => { const { apiVersion: _a, kind: _k, ...rest } = o; return rest; });
  send(r.res, 200, { kind: r.kind.listKind, apiVersion: apiVersionOf(r.kind), metadata: meta, items }, w);
}

export async function watch(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const sendInitial = q1(r.query, 'sendInitialEvents');
  const bookmarks = qBool(r.query, 'allowWatchBookmarks');
  const rvm = q1(r.query, 'resourceVersionMatch');
  if (sendInitial !== undefined) {
    const causes: StatusCause[] = [];
    if (rvm !== 'NotOlderThan') causes.push({ reason: 'FieldValueInvalid', field: 'resourceVersionMatch', message: `Invalid value: "${rvm ?? ''}": sendInitialEvents requires setting resourceVersionMatch to NotOlderThan` });
    if (!bookmarks && sendInitial === 'true') causes.push({ reason: 'FieldValueForbidden', field: 'allowWatchBookmarks', message: 'Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true' });
    if (causes.length) throw invalid('ListOptions', 'meta.k8s.io', '', causes);
  } else if (rvm) {
    throw invalid('ListOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' }]);
  }
  let fieldSelector = q1(r.query, 'fieldSelector');
  if (r.name) fieldSelector = [fieldSelector, `metadata.name=${r.name}`].filter(Boolean).join(',');
  const timeout = qInt(r.query, 'timeoutSeconds');
  const res = r.res;
  const table = r.wanted.as === 'Table';
  let first = true;
  const lines: string[] = [];
  let started = false;
  const write = (ev: { type: string; object: unknown }) => {
    let object = ev.object as KObject;
    if (table && ev.type !== 'BOOKMARK') {
      const t = buildTable(r.kind, object, { includeObject: includeObject(r.query) }) as { columnDefinitions?: unknown };
      // Column definitions go only with the first event, as the apiserver does.
      if (!first) t.columnDefinitions = [];
      first = false;
      object = t as unknown as KObject;
    } else if (r.wanted.as === 'PartialObjectMetadata' || r.wanted.as === 'PartialObjectMetadataList') {
      if (ev.type !== 'BOOKMARK') object = partial(object);
    }
    const line = JSON.stringify({ type: ev.type, object }) + '\n';
    if (!started) lines.push(line); else res.write(line);
  };
  const filtered = (ev: { type: string; object: unknown }) => {
    if (ev.type === 'BOOKMARK' && !bookmarks) return;
    write(ev);
  };
  let stop: () => void;
  try {
    stop = ctx.registry.watch(r.kind, r.namespace, {
      labelSelector: q1(r.query, 'labelSelector'), fieldSelector, resourceVersion: q1(r.query, 'resourceVersion'),
      sendInitialEvents: sendInitial === 'true', allowBookmarks: bookmarks,
    }, filtered);
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 410) throw e;
    // As the apiserver does: the watch opens, then one ERROR event says the point is gone.
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ type: 'ERROR', object: e.toStatus() }) + '\n');
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.setHeader('Transfer-Encoding', 'chunked');
  res.flushHeaders();
  started = true;
  for (const l of lines) res.write(l);
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  const close = () => {
    if (closed) return;
    closed = true;
    stop();
    for (const t of timers) clearTimeout(t);
    ctx.watches.delete(close);
    res.end();
  };
  ctx.watches.add(close);
  r.req.on('close', close);
  res.on('close', close);
  // The apiserver ends a watch after timeoutSeconds, or after a random 30-60 minutes.
  const limit = timeout !== undefined && timeout > 0 ? timeout * 1000 : (1800 + Math.random() * 1800) * 1000;
  timers.push(setTimeout(close, limit));
  if (bookmarks) {
    // A bookmark each minute lets a client resume from a fresh resourceVersion.
    const every = BOOKMARK_MS;
    const tick = () => { if (!closed) { write({ type: 'BOOKMARK', object: ctx.registry.bookmark(r.kind) }); timers.push(setTimeout(tick, every)); } };
    timers.push(setTimeout(tick, every));
  }
}

export async function create(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const { obj, warnings } = await readObject(ctx, r);
  const created = await ctx.registry.create(r.kind, r.namespace, obj, { dryRun: dryRun(r.query), fieldManager: fieldManager(r) });
  setWarnings(r.res, [...warnings, ...inertWarning(r.kind)]);
  sendObject(r, 201, created);
}

export async function update(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const { obj, warnings } = await readObject(ctx, r);
  const { object, created } = await ctx.registry.update(r.kind, r.namespace, r.name!, obj, {
    dryRun: dryRun(r.query), fieldManager: fieldManager(r), subresource: r.subresource, allowCreate: false,
  });
  setWarnings(r.res, [...warnings, ...inertWarning(r.kind)]);
  sendObject(r, created ? 201 : 200, object);
}

export async function patch(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const ct = mediaType(r.req.headers['content-type']);
  const body = await readBody(r.req);
  const dry = dryRun(r.query);
  const mode = fieldValidation(r.query);
  const peeked = ctx.registry.peek(r.kind, r.namespace, r.name!);
  const live = peeked && ctx.registry.withTypeMeta(r.kind, clone(peeked));
  const node = ctx.schema.root(r.kind.definition);
  let next: KObject;
  let warnings: string[] = [];
  if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+json') {
    const manager = fieldManager(r, true)!;
    const applied = (await parseYamlText(body.toString('utf8'))) as KObject;
    if (!applied || typeof applied !== 'object' || Array.isArray(applied)) throw badRequest('error decoding YAML: the apply configuration is not an object');
    ({ warnings } = ctx.validator.validate(r.kind, applied, mode, { text: body.toString('utf8'), format: 'yaml' }, { partial: true }));
    if (applied.apiVersion === undefined || applied.kind === undefined) {
      throw badRequest('invalid object type: /, Kind=');
    }
    const force = qBool(r.query, 'force');
    if (!live) {
      if (r.subresource) throw notFound(r.kind.plural, r.kind.group, r.name!);
      const base: KObject = { apiVersion: applied.apiVersion, kind: applied.kind, metadata: { name: r.name, ...(r.namespace && r.kind.namespaced ? { namespace: r.namespace } : {}) } };
      const { object } = applyServerSide({ live: base, applied, manager, force, node, apiVersion: apiVersionOf(r.kind), now: new Date(), subresource: r.subresource });
      const created = await ctx.registry.create(r.kind, r.namespace, object, { dryRun: dry });
      setWarnings(r.res, [...warnings, ...inertWarning(r.kind)]);
      sendObject(r, 201, created);
      return;
    }
    ({ object: next } = applyServerSide({ live: clone(live), applied, manager, force, node, apiVersion: apiVersionOf(r.kind), now: new Date(), subresource: r.subresource }));
    const { object } = await ctx.registry.update(r.kind, r.namespace, r.name!, next, { dryRun: dry, subresource: r.subresource });
    setWarnings(r.res, [...warnings, ...inertWarning(r.kind)]);
    sendObject(r, 200, object);
    return;
  }
  if (ct === 'application/apply-patch+cbor') {
    throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json');
  }
  if (!live) throw notFound(r.kind.plural, r.kind.group, r.name!);
  const text = body.toString('utf8');
  if (ct === 'application/json-patch+json') {
    const ops = parseJsonText(text);
    if (!Array.isArray(ops)) throw badRequest(`json: cannot unmarshal object into Go value of type jsonpatch.Patch`);
    next = applyJsonPatch(clone(live), ops) as KObject;
  } else if (ct === 'application/merge-patch+json') {
    const p = parseJsonText(text);
    next = applyMergePatch(clone(live), p) as KObject;
  } else if (ct === 'application/strategic-merge-patch+json') {
    const p = parseJsonText(text);
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
    next = applyStrategicMergePatch(clone(live), p as Record<string, unknown>, node) as KObject;
  } else {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
  }
  ({ warnings } = ctx.validator.validate(r.kind, next, mode, undefined, { patch: true }));
  const { object } = await ctx.registry.update(r.kind, r.namespace, r.name!, next, {
    dryRun: dry, fieldManager: fieldManager(r), subresource: r.subresource,
  });
  setWarnings(r.res, [...warnings, ...inertWarning(r.kind)]);
  sendObject(r, 200, object);
}

async function deleteOptions(r: ApiRequest): Promise<{ propagationPolicy?: string; gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; dryRun: boolean }> {
  const body = await readBody(r.req);
  let opts: Record<string, unknown> = {};
  if (body.length) {
    const ct = mediaType(r.req.headers['content-type']);
    let o: unknown;
    if (ct === 'application/vnd.kubernetes.protobuf') {
      // Helm 4 sends DeleteOptions in protobuf.
      const { decodeProtobufBody } = await import('../machinery/protobuf.ts');
      o = decodeProtobufBody(body);
    } else {
      o = ct.includes('yaml') ? await parseYamlText(body.toString()) : parseJsonText(body.toString());
    }
    if (o && typeof o === 'object' && !Array.isArray(o)) opts = o as Record<string, unknown>;
  }
  let policy = (opts.propagationPolicy as string | undefined) ?? q1(r.query, 'propagationPolicy');
  const orphan = opts.orphanDependents ?? q1(r.query, 'orphanDependents');
  if (!policy && (orphan === true || orphan === 'true')) policy = 'Orphan';
  const grace = (opts.gracePeriodSeconds as number | undefined) ?? qInt(r.query, 'gracePeriodSeconds');
  const dryList = (opts.dryRun as string[] | undefined) ?? [];
  return {
    propagationPolicy: policy, gracePeriodSeconds: grace,
    preconditions: opts.preconditions as { uid?: string; resourceVersion?: string } | undefined,
    dryRun: dryRun(r.query) || dryList.includes('All'),
  };
}

/** Kinds whose DELETE answers with the object (the apiserver's ReturnDeletedObject); others answer a Status. */
const RETURNS_OBJECT = new Set(['namespaces', 'pods', 'services', 'nodes', 'persistentvolumes', 'persistentvolumeclaims']);

export async function remove(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const opts = await deleteOptions(r);
  const { object, finished } = await ctx.registry.delete(r.kind, r.namespace, r.name!, opts);
  const code = finished ? 200 : 202;
  if (!finished || RETURNS_OBJECT.has(r.kind.plural) && !r.kind.group) {
    sendObject(r, code, object);
    return;
  }
  send(r.res, code, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success',
    details: { name: r.name, group: r.kind.group || undefined, kind: r.kind.plural, uid: object.metadata.uid },
  }, r.wanted);
}

export async function removeCollection(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const opts = await deleteOptions(r);
  const deleted = await ctx.registry.deleteCollection(r.kind, r.namespace, {
    labelSelector: q1(r.query, 'labelSelector'), fieldSelector: q1(r.query, 'fieldSelector'), ...opts,
  });
  const items = deleted.map((o) => { const { apiVersion: _a, kind: _k, ...rest } = o; return rest; });
  send(r.res, 200, { kind: r.kind.listKind, apiVersion: apiVersionOf(r.kind), metadata: { resourceVersion: String(ctx.registry.resourceVersion) }, items }, r.wanted);
}

export function notAllowed(): never {
  throw methodNotAllowed();
}
