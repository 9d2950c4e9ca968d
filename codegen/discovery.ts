// The discovery documents, pre-serialised the way the real apiserver writes them (field names
// and omissions of k8s.io/apimachinery meta/v1 and k8s.io/api/apidiscovery/v2[beta1]).
import type { GroupVersionModel, ResourceModel } from './model.ts';

function gvString(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

interface Group { name: string; versions: GroupVersionModel[] }

function groupsOf(gvs: GroupVersionModel[]): Group[] {
  const out: Group[] = [];
  for (const gv of gvs) {
    if (!gv.group) continue;
    let g = out.find((x) => x.name === gv.group);
    if (!g) out.push(g = { name: gv.group, versions: [] });
    g.versions.push(gv);
  }
  return out;
}

function apiGroup(g: Group) {
  const versions = g.versions.map((v) => ({ groupVersion: gvString(g.name, v.version), version: v.version }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

function apiResources(gv: GroupVersionModel) {
  const out: any[] = [];
  for (const r of gv.resources) {
    const i = r.info;
    const e: any = { name: i.plural, singularName: i.singular, namespaced: i.namespaced };
    if (r.gvk.group !== gv.group || r.gvk.version !== gv.version) { e.group = r.gvk.group; e.version = r.gvk.version; }
    e.kind = i.kind;
    e.verbs = i.verbs;
    if (i.shortNames.length) e.shortNames = i.shortNames;
    if (i.categories.length) e.categories = i.categories;
    out.push(e);
    for (const s of r.subresources) {
      const se: any = { name: `${i.plural}/${s.name}`, singularName: '', namespaced: i.namespaced };
      if (s.gvk.group !== gv.group || s.gvk.version !== gv.version) { se.group = s.gvk.group; se.version = s.gvk.version; }
      se.kind = s.gvk.kind;
      se.verbs = s.verbs;
      out.push(se);
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function aggregatedResource(r: ResourceModel) {
  const i = r.info;
  const e: any = {
    resource: i.plural,
    responseKind: { group: r.gvk.group, version: r.gvk.version, kind: r.gvk.kind },
    scope: i.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: i.singular,
    verbs: i.verbs,
  };
  if (i.shortNames.length) e.shortNames = i.shortNames;
  if (i.categories.length) e.categories = i.categories;
  if (r.subresources.length) {
    e.subresources = [...r.subresources].sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => ({
      subresource: s.name, responseKind: s.gvk, verbs: s.verbs,
    }));
  }
  return e;
}

function aggregatedGroup(name: string, versions: GroupVersionModel[]) {
  return {
    metadata: name ? { name } : {},
    versions: versions.map((v) => ({
      version: v.version,
      resources: [...v.resources].sort((a, b) => (a.info.plural < b.info.plural ? -1 : 1)).map(aggregatedResource),
      freshness: 'Current',
    })),
  };
}

/** file name under generated/discovery/ -> JSON text */
export function discoveryDocuments(gvs: GroupVersionModel[]): Map<string, string> {
  const files = new Map<string, string>();
  const core = gvs.filter((gv) => !gv.group);
  const groups = groupsOf(gvs);

  // The real server fills serverAddress with its advertised address; clients do not use it.
  files.set('api.json', JSON.stringify({
    kind: 'APIVersions', versions: core.map((v) => v.version),
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }],
  }));
  files.set('apis.json', JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(apiGroup) }));
  for (const g of groups) {
    files.set(`apis__${g.name}.json`, JSON.stringify({ kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) }));
  }
  for (const gv of gvs) {
    // Core's list carries no apiVersion on the real server; group lists do.
    const head = gv.group ? { kind: 'APIResourceList', apiVersion: 'v1' } : { kind: 'APIResourceList' };
    const name = gv.group ? `apis__${gv.group}__${gv.version}.json` : `api__${gv.version}.json`;
    files.set(name, JSON.stringify({ ...head, groupVersion: gvString(gv.group, gv.version), resources: apiResources(gv) }));
  }
  for (const v of ['v2', 'v2beta1']) {
    const list = (items: unknown[]) => JSON.stringify({
      kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${v}`, metadata: {}, items,
    });
    files.set(`aggregated-api-${v}.json`, list(core.length ? [aggregatedGroup('', core)] : []));
    files.set(`aggregated-apis-${v}.json`, list(groups.map((g) => aggregatedGroup(g.name, g.versions))));
  }
  return files;
}
