// Cuts the upstream document down to what k2d serves: the selected resources' paths (with their
// /watch/ variants and chosen subresources), the discovery paths, and the $ref closure of
// definitions and parameters they need. Content is copied unchanged.
import type { GroupVersionSelection, ResourceSelection } from './selection.ts';
import { CodegenError, type Swagger } from './upstream.ts';

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

export type PathKind =
  | { type: 'resource'; group: string; version: string; plural: string; sub?: string;
      namespaced: boolean; item: boolean; watch: boolean }
  | { type: 'discovery'; group: string; version: string };

// `/api/v1[/watch][/namespaces/{namespace}]/<plural>[/{name}[/<sub>]]`, same under /apis/<g>/<v>.
const RESOURCE_PATH =
  /^(?:\/api\/(v1)|\/apis\/([^/{}]+)\/([^/{}]+))(\/watch)?(\/namespaces\/\{namespace\})?\/([^/{}]+)(\/\{name\})?(?:\/([^/{}]+))?$/;

export function classifyPath(path: string): PathKind | undefined {
  if (path === '/api/' || path === '/apis/' || path === '/version/') {
    return { type: 'discovery', group: '', version: '' };
  }
  let m = /^\/api\/([^/]+)\/$/.exec(path);
  if (m) return { type: 'discovery', group: '', version: m[1] };
  m = /^\/apis\/([^/]+)\/$/.exec(path);
  if (m) return { type: 'discovery', group: m[1], version: '' };
  m = /^\/apis\/([^/]+)\/([^/]+)\/$/.exec(path);
  if (m) return { type: 'discovery', group: m[1], version: m[2] };
  m = RESOURCE_PATH.exec(path);
  if (!m || (m[8] && !m[7])) return undefined;
  return {
    type: 'resource',
    group: m[1] ? '' : m[2], version: m[1] ?? m[3], plural: m[6], sub: m[8],
    namespaced: Boolean(m[5]), item: Boolean(m[7]), watch: Boolean(m[4]),
  };
}

function gvPrefix(group: string, version: string): string {
  return group ? `/apis/${group}/${version}/` : `/api/${version}/`;
}

export function discoveryPaths(selection: GroupVersionSelection[]): string[] {
  const out = ['/api/', '/apis/', '/version/'];
  for (const gv of selection) {
    if (gv.group && !out.includes(`/apis/${gv.group}/`)) out.push(`/apis/${gv.group}/`);
    out.push(gvPrefix(gv.group, gv.version));
  }
  return out;
}

export interface Trimmed {
  doc: Swagger;
  /** kept upstream path key -> what it is */
  kinds: Map<string, PathKind>;
}

export function trim(upstream: Swagger, selection: GroupVersionSelection[]): Trimmed {
  const wanted = new Map<string, ResourceSelection>();
  for (const gv of selection) {
    for (const r of gv.resources) wanted.set(`${gv.group}/${gv.version}/${r.plural}`, r);
  }
  const keepDiscovery = new Set(discoveryPaths(selection));
  const kinds = new Map<string, PathKind>();
  const found = new Set<string>();
  for (const path of Object.keys(upstream.paths)) {
    const k = classifyPath(path);
    if (!k) continue;
    if (k.type === 'discovery') {
      if (keepDiscovery.has(path)) kinds.set(path, k);
      continue;
    }
    const key = `${k.group}/${k.version}/${k.plural}`;
    const r = wanted.get(key);
    if (!r || (k.sub && !r.subresources.includes(k.sub))) continue;
    kinds.set(path, k);
    found.add(k.sub ? `${key}/${k.sub}` : key);
  }
  for (const path of keepDiscovery) {
    if (!kinds.has(path)) throw new CodegenError(`upstream document has no discovery path ${path}`);
  }
  for (const [key, r] of wanted) {
    const gv = r.group ? `${r.group}/${r.version}` : r.version;
    if (!found.has(key)) throw new CodegenError(`openapi/supported.yaml: ${gv} ${r.plural}: no such resource in the upstream document`);
    for (const sub of r.subresources) {
      if (!found.has(`${key}/${sub}`)) {
        throw new CodegenError(`openapi/supported.yaml: ${gv} ${r.plural}: no subresource "${sub}" in the upstream document`);
      }
    }
  }

  const paths: Swagger['paths'] = {};
  for (const path of Object.keys(upstream.paths)) if (kinds.has(path)) paths[path] = upstream.paths[path];

  const definitions = new Set<string>();
  const parameters = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const [, section, name] = /^#\/(definitions|parameters)\/(.+)$/.exec(v) ?? [];
        const set = section === 'definitions' ? definitions : section === 'parameters' ? parameters : undefined;
        const source = section === 'definitions' ? upstream.definitions : upstream.parameters;
        if (!set || !source?.[name]) throw new CodegenError(`upstream document: unresolvable $ref ${v}`);
        if (!set.has(name)) { set.add(name); walk(source[name]); }
      } else {
        walk(v);
      }
    }
  };
  walk(paths);

  // Same key order as upstream so the output reads like the original document.
  const doc = {} as Swagger;
  for (const key of Object.keys(upstream)) {
    if (key === 'paths') doc.paths = paths;
    else if (key === 'definitions') doc.definitions = pick(upstream.definitions, definitions);
    else if (key === 'parameters') doc.parameters = pick(upstream.parameters, parameters);
    else doc[key] = upstream[key];
  }
  return { doc, kinds };
}

function pick<T>(from: Record<string, T>, names: Set<string>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(from)) if (names.has(k)) out[k] = from[k];
  return out;
}

/** Operations of one path item, in the spec's method order. */
export function operationsOf(item: Record<string, any>): [string, any][] {
  return METHODS.filter((m) => item[m]).map((m) => [m, item[m]]);
}
