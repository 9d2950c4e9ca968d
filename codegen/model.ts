// What each served resource is, read off the trimmed document's operations (verbs, kind, scope,
// schema) and completed with the selection (short names, categories, ...). Discovery, kinds.json
// and the operation table are all printed from this one model so they cannot disagree.
import type { ColumnInfo, KindInfo } from '../src/machinery/types.ts';
import type { GroupVersionSelection } from './selection.ts';
import { operationsOf, type PathKind, type Trimmed } from './trim.ts';
import { CodegenError } from './upstream.ts';

export interface GVK { group: string; version: string; kind: string }

export interface SubresourceModel { name: string; verbs: string[]; gvk: GVK }

export interface ResourceModel {
  info: KindInfo;
  gvk: GVK;
  subresources: SubresourceModel[];
}

export interface GroupVersionModel { group: string; version: string; resources: ResourceModel[] }

export interface OperationModel {
  operationId: string;
  method: string;
  /** normalised: no trailing slash */
  path: string;
  action: string;
  resource: string;
  group: string;
  version: string;
  subresource?: string;
  namespaced: boolean;
}

// Discovery verbs from x-kubernetes-action; `connect` takes the verb of its HTTP method.
const ACTION_VERB: Record<string, string> = {
  get: 'get', list: 'list', post: 'create', put: 'update', patch: 'patch', delete: 'delete',
  deletecollection: 'deletecollection', watch: 'watch', watchlist: 'watch',
};
const CONNECT_VERB: Record<string, string> = {
  get: 'get', post: 'create', put: 'update', patch: 'patch', delete: 'delete',
};

export function normalisePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function verbOf(method: string, op: any): string | undefined {
  const action = op['x-kubernetes-action'];
  return action === 'connect' ? CONNECT_VERB[method] : ACTION_VERB[action];
}

function refName(schema: any): string | undefined {
  const ref = schema?.$ref as string | undefined;
  return ref?.startsWith('#/definitions/') ? ref.slice('#/definitions/'.length) : undefined;
}

export function defaultColumns(defs: Record<string, any>): ColumnInfo[] {
  const meta = defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']?.properties ?? {};
  return [
    { name: 'Name', type: 'string', format: 'name', description: meta.name?.description ?? '', path: '.metadata.name' },
    { name: 'Age', type: 'string', description: meta.creationTimestamp?.description ?? '', path: '@age' },
  ];
}

export function buildModel(
  trimmed: Trimmed, selection: GroupVersionSelection[], tables: Record<string, ColumnInfo[]>,
): { groupVersions: GroupVersionModel[]; operations: OperationModel[] } {
  const { doc, kinds } = trimmed;
  const operations: OperationModel[] = [];
  type Acc = { verbs: Set<string>; subs: Map<string, { verbs: Set<string>; gvk?: GVK }>;
    namespaced: boolean; gvk?: GVK; definition?: string; listDefinition?: string };
  const acc = new Map<string, Acc>();

  for (const [path, item] of Object.entries(doc.paths)) {
    const k = kinds.get(path) as PathKind;
    for (const [method, op] of operationsOf(item)) {
      const o: OperationModel = {
        operationId: op.operationId, method, path: normalisePath(path),
        action: op['x-kubernetes-action'] ?? 'get',
        resource: k.type === 'resource' ? k.plural : '', group: k.group, version: k.version,
        namespaced: path.includes('{namespace}'),
      };
      if (k.type === 'resource' && k.sub) o.subresource = k.sub;
      operations.push(o);
      if (k.type !== 'resource') continue;

      const key = `${k.group}/${k.version}/${k.plural}`;
      let a = acc.get(key);
      if (!a) acc.set(key, a = { verbs: new Set(), subs: new Map(), namespaced: false });
      if (k.namespaced) a.namespaced = true;
      const verb = verbOf(method, op);
      const gvk = op['x-kubernetes-group-version-kind'] as GVK | undefined;
      if (k.sub) {
        let s = a.subs.get(k.sub);
        if (!s) a.subs.set(k.sub, s = { verbs: new Set() });
        if (verb) s.verbs.add(verb);
        s.gvk ??= gvk;
        continue;
      }
      if (verb) a.verbs.add(verb);
      if (!k.watch) a.gvk ??= gvk;
      const ok = refName(op.responses?.['200']?.schema) ?? refName(op.responses?.['201']?.schema);
      if (op['x-kubernetes-action'] === 'get' || (op['x-kubernetes-action'] === 'post' && !a.definition)) {
        if (ok) a.definition = ok;
      }
      if (op['x-kubernetes-action'] === 'list' && ok) a.listDefinition = ok;
    }
  }

  const defaults = defaultColumns(doc.definitions);
  const groupVersions = selection.map((gv): GroupVersionModel => ({
    group: gv.group, version: gv.version,
    resources: gv.resources.map((r): ResourceModel => {
      const a = acc.get(`${r.group}/${r.version}/${r.plural}`)!;
      const where = `${r.group || 'core'}/${r.version} ${r.plural}`;
      if (!a.gvk || !a.definition) throw new CodegenError(`upstream document: ${where}: cannot tell its kind or schema`);
      const verbs = [...a.verbs].sort();
      const listGvk = a.listDefinition ? doc.definitions[a.listDefinition]?.['x-kubernetes-group-version-kind']?.[0] : undefined;
      const createOnly = r.createOnly || (verbs.length === 1 && verbs[0] === 'create');
      const tableKey = r.group ? `${r.plural}.${r.group}` : r.plural;
      const info: KindInfo = {
        group: r.group, version: r.version, kind: a.gvk.kind, plural: r.plural,
        singular: r.singular ?? a.gvk.kind.toLowerCase(), namespaced: a.namespaced, verbs,
        shortNames: r.shortNames, categories: r.categories, subresources: r.subresources,
        definition: a.definition, listKind: listGvk?.kind ?? (createOnly ? '' : `${a.gvk.kind}List`),
        columns: tables[tableKey] ?? defaults, selectableFields: r.selectableFields,
      };
      if (createOnly) info.createOnly = true;
      if (r.inert) info.inert = true;
      return {
        info, gvk: { group: a.gvk.group, version: a.gvk.version, kind: a.gvk.kind },
        subresources: r.subresources.map((name) => {
          const s = a.subs.get(name)!;
          const gvk = s.gvk ?? a.gvk!;
          return { name, verbs: [...s.verbs].sort(), gvk: { group: gvk.group, version: gvk.version, kind: gvk.kind } };
        }),
      };
    }),
  }));
  return { groupVersions, operations };
}
