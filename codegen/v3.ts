// Swagger 2.0 -> OpenAPI 3.0 in the shape the real apiserver serves under /openapi/v3: one
// document per path group (api/v1, apis/<g>/<v>, ...), parameters inlined, bodies as
// requestBody, `$ref` with siblings wrapped in allOf (as kube-openapi's builder3 does), and every
// x-kubernetes-* key kept: kubectl reads x-kubernetes-group-version-kind on PATCH to decide
// whether the server validates fields, and the patch-strategy keys to build strategic merges.
import { createHash } from 'node:crypto';
import { operationsOf } from './trim.ts';
import type { Swagger } from './upstream.ts';

const DEF = '#/definitions/';
const SCHEMA = '#/components/schemas/';

export function convertSchema(s: any): any {
  if (Array.isArray(s)) return s.map(convertSchema);
  if (!s || typeof s !== 'object') return s;
  const out: any = {};
  const siblings = Object.keys(s).filter((k) => k !== '$ref');
  if (typeof s.$ref === 'string') {
    const ref = { $ref: s.$ref.startsWith(DEF) ? SCHEMA + s.$ref.slice(DEF.length) : s.$ref };
    if (!siblings.length) return ref;
    out.allOf = [ref];
  }
  for (const k of siblings) {
    const v = s[k];
    if (k === 'properties') {
      out.properties = {};
      for (const [name, p] of Object.entries(v)) out.properties[name] = convertSchema(p);
    } else if (k === 'items' || k === 'allOf' || k === 'oneOf' || k === 'anyOf' || k === 'not' ||
      (k === 'additionalProperties' && typeof v === 'object')) {
      out[k] = convertSchema(v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

const PARAM_TOP = new Set(['name', 'in', 'description', 'required', 'allowEmptyValue']);

function convertParameter(p: any): any {
  const out: any = {};
  const schema: any = {};
  for (const [k, v] of Object.entries(p)) {
    if (PARAM_TOP.has(k) || k.startsWith('x-')) out[k] = v;
    else if (k === 'collectionFormat') { if (v === 'multi') out.explode = true; }
    else schema[k] = v;
  }
  out.schema = convertSchema(schema);
  return out;
}

function mediaTypes(types: string[] | undefined, schema: any): any {
  const content: any = {};
  for (const t of types ?? ['application/json']) {
    // v2 says */* for bodies the server decodes by Content-Type; the native v3 document says JSON.
    content[t === '*/*' ? 'application/json' : t] = { schema: convertSchema(schema) };
  }
  return content;
}

function convertOperation(op: any, resolveParam: (p: any) => any): any {
  const out: any = {};
  if (op.summary !== undefined) out.summary = op.summary;
  if (op.description !== undefined) out.description = op.description;
  out.operationId = op.operationId;
  const params = (op.parameters ?? []).map(resolveParam);
  const nonBody = params.filter((p: any) => p.in !== 'body');
  if (nonBody.length) out.parameters = nonBody.map(convertParameter);
  const body = params.find((p: any) => p.in === 'body');
  if (body) {
    out.requestBody = { content: mediaTypes(op.consumes, body.schema) };
    if (body.description) out.requestBody.description = body.description;
    if (body.required) out.requestBody.required = true;
  }
  out.responses = {};
  for (const [code, r] of Object.entries<any>(op.responses ?? {})) {
    const res: any = { description: r.description ?? '' };
    if (r.schema) res.content = mediaTypes(op.produces, r.schema);
    out.responses[code] = res;
  }
  if (op.tags) out.tags = op.tags;
  if (op.deprecated) out.deprecated = true;
  for (const [k, v] of Object.entries(op)) if (k.startsWith('x-')) out[k] = v;
  return out;
}

/** `/api/v1/namespaces` -> `api/v1`; `/apis/rbac.authorization.k8s.io/` -> `apis/rbac.authorization.k8s.io`. */
export function v3GroupOf(path: string): string {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api') return parts.slice(0, 2).join('/');
  if (parts[0] === 'apis') return parts.slice(0, 3).join('/');
  return parts[0];
}

export function v3FileName(group: string): string {
  return `${group.replaceAll('/', '__')}.json`;
}

function schemaClosure(paths: any, schemas: Record<string, any>): Record<string, any> {
  const names = new Set<string>();
  const walk = (n: any): void => {
    if (Array.isArray(n)) { n.forEach(walk); return; }
    if (!n || typeof n !== 'object') return;
    for (const [k, v] of Object.entries(n)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(SCHEMA)) {
        const name = v.slice(SCHEMA.length);
        if (!names.has(name)) { names.add(name); walk(schemas[name]); }
      } else {
        walk(v);
      }
    }
  };
  walk(paths);
  const out: Record<string, any> = {};
  for (const k of Object.keys(schemas)) if (names.has(k)) out[k] = schemas[k];
  return out;
}

const converted = new WeakMap<object, Record<string, any>>();

/** The whole (trimmed) document as one OpenAPI 3.0 document, paths filtered by `include`. */
export function toV3(doc: Swagger, include: (path: string) => boolean = () => true,
  definitions: Record<string, any> = doc.definitions): any {
  const resolveParam = (p: any) => {
    const ref = p?.$ref as string | undefined;
    return ref?.startsWith('#/parameters/') ? doc.parameters[ref.slice('#/parameters/'.length)] : p;
  };
  let schemas = converted.get(definitions);
  if (!schemas) {
    schemas = {};
    for (const [name, d] of Object.entries(definitions)) schemas[name] = convertSchema(d);
    converted.set(definitions, schemas);
  }
  const paths: any = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!include(path)) continue;
    const out: any = {};
    for (const [method, op] of operationsOf(item)) out[method] = convertOperation(op, resolveParam);
    if (item.parameters) out.parameters = item.parameters.map(resolveParam).map(convertParameter);
    paths[path] = out;
  }
  const v3: any = { openapi: '3.0.0', info: doc.info, paths, components: { schemas: schemaClosure(paths, schemas) } };
  if (doc.securityDefinitions) v3.components.securitySchemes = doc.securityDefinitions;
  if (doc.security) v3.security = doc.security;
  return v3;
}

export interface V3Output {
  /** file name under generated/openapi-v3/ -> bytes */
  files: Map<string, Buffer>;
  index: Buffer;
}

export function v3Documents(doc: Swagger): V3Output {
  const groups = [...new Set(Object.keys(doc.paths).map(v3GroupOf))].sort();
  const files = new Map<string, Buffer>();
  const index: Record<string, { serverRelativeURL: string }> = {};
  for (const g of groups) {
    const bytes = Buffer.from(JSON.stringify(toV3(doc, (p) => v3GroupOf(p) === g)));
    // The real server's form: upper-case hex sha512 of the document bytes.
    const hash = createHash('sha512').update(bytes).digest('hex').toUpperCase();
    index[g] = { serverRelativeURL: `/openapi/v3/${g}?hash=${hash}` };
    files.set(v3FileName(g), bytes);
  }
  return { files, index: Buffer.from(JSON.stringify({ paths: index })) };
}
