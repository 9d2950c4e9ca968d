import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, writeOutputs } from '../../codegen/generate.ts';
import { protoDir } from '../../codegen/proto.ts';
import { gnosticProtoPath, loadDocumentType } from '../../codegen/protobuf.ts';
import { loadSelection, loadTables, parseSelection } from '../../codegen/selection.ts';
import { trim } from '../../codegen/trim.ts';
import { CodegenError, loadUpstream, upstreamPath } from '../../codegen/upstream.ts';
import type { KindInfo } from '../../src/machinery/types.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = mkdtempSync(join(tmpdir(), 'k2d-codegen-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

let files: Map<string, string | Buffer>;
const text = (name: string) => {
  const f = files.get(name);
  assert.ok(f !== undefined, `codegen wrote no ${name}`);
  return f.toString();
};
const json = (name: string) => JSON.parse(text(name));

before(async () => {
  files = (await build({ root })).files;
});

const gvOf = (k: KindInfo) => (k.group ? `${k.group}/${k.version}` : k.version);
const prefix = (k: KindInfo) => (k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`);
const discoveryFile = (k: KindInfo) => (k.group ? `discovery/apis__${k.group}__${k.version}.json` : `discovery/api__${k.version}.json`);

test('the build is deterministic', async () => {
  const again = (await build({ root })).files;
  assert.deepEqual([...again.keys()].sort(), [...files.keys()].sort());
  for (const [name, data] of files) assert.ok(Buffer.from(again.get(name)!).equals(Buffer.from(data)), `${name} differs between runs`);
});

test('every output the server and the other layers read is there', () => {
  for (const name of ['swagger.json', 'openapi-v2.pb', 'openapi-v3/index.json', 'openapi-v3/api__v1.json',
    'openapi-v3/apis__rbac.authorization.k8s.io__v1.json', 'schemas.json', 'types.ts', 'kinds.json',
    'operations.ts', 'routes.json', 'discovery/api.json', 'discovery/apis.json', 'discovery/api__v1.json',
    'discovery/apis__rbac.authorization.k8s.io__v1.json', 'discovery/apis__rbac.authorization.k8s.io.json',
    'discovery/aggregated-api-v2.json', 'discovery/aggregated-apis-v2.json',
    'discovery/aggregated-api-v2beta1.json', 'discovery/aggregated-apis-v2beta1.json', 'k8s-proto.json']) {
    assert.ok(files.has(name), name);
  }
});

test('kinds.json has every selected resource with its facts', () => {
  const kinds = json('kinds.json') as KindInfo[];
  const by = (g: string, plural: string) => kinds.find((k) => k.group === g && k.plural === plural)!;
  const selected = loadSelection(join(root, 'openapi/supported.yaml')).flatMap((gv) => gv.resources);
  assert.deepEqual(kinds.map((k) => `${k.group}/${k.plural}`), selected.map((r) => `${r.group}/${r.plural}`));
  const ns = by('', 'namespaces');
  assert.deepEqual(
    { kind: ns.kind, namespaced: ns.namespaced, shortNames: ns.shortNames, subresources: ns.subresources, listKind: ns.listKind },
    { kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status', 'finalize'], listKind: 'NamespaceList' });
  assert.deepEqual(ns.verbs, ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
  assert.deepEqual(ns.selectableFields, ['status.phase']);
  const cm = by('', 'configmaps');
  assert.equal(cm.definition, 'io.k8s.api.core.v1.ConfigMap');
  assert.deepEqual(cm.verbs, ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
  // Columns come from openapi/tables.yaml, else NAME and AGE.
  const tables = loadTables(join(root, 'openapi/tables.yaml'));
  for (const k of kinds) {
    const own = tables[k.group ? `${k.plural}.${k.group}` : k.plural];
    if (own) assert.deepEqual(k.columns, own);
    else assert.deepEqual(k.columns.map((c) => [c.name, c.path]), [['Name', '.metadata.name'], ['Age', '@age']]);
  }
  assert.equal(by('', 'secrets').shortNames.length, 0);
  assert.deepEqual(by('', 'secrets').selectableFields, ['type']);
  assert.deepEqual(by('autoscaling', 'horizontalpodautoscalers').categories, ['all']);
  const ssar = by('authorization.k8s.io', 'selfsubjectaccessreviews');
  assert.deepEqual([ssar.verbs, ssar.createOnly, ssar.namespaced, ssar.definition],
    [['create'], true, false, 'io.k8s.api.authorization.v1.SelfSubjectAccessReview']);
  assert.equal(by('rbac.authorization.k8s.io', 'roles').inert, true);
  assert.equal(by('', 'configmaps').inert, undefined);
  assert.equal(by('events.k8s.io', 'events').kind, 'Event');
  assert.ok(by('events.k8s.io', 'events').selectableFields.includes('regarding.name'));
});

test('every kind has its paths and operations, and every operation is routed', () => {
  const swagger = json('swagger.json');
  const kinds = json('kinds.json') as KindInfo[];
  const routes = json('routes.json');
  const opsSource = text('operations.ts');
  for (const k of kinds) {
    const base = k.namespaced ? `${prefix(k)}/namespaces/{namespace}/${k.plural}` : `${prefix(k)}/${k.plural}`;
    assert.ok(swagger.paths[base], `${base} kept`);
    if (!k.createOnly) {
      assert.ok(swagger.paths[`${base}/{name}`], `${base}/{name} kept`);
      const watch = swagger.paths[`${prefix(k)}/watch/${k.namespaced ? `namespaces/{namespace}/${k.plural}` : k.plural}`];
      assert.equal(!!watch, k.verbs.includes('watch'), `watch path of ${k.plural}.${k.group} exactly when it can be watched`);
    }
    for (const sub of k.subresources) assert.ok(swagger.paths[`${base}/{name}/${sub}`], `${k.plural}/${sub} kept`);
  }
  let count = 0;
  for (const [path, item] of Object.entries<any>(swagger.paths)) {
    for (const m of ['get', 'put', 'post', 'delete', 'patch']) {
      if (!item[m]) continue;
      count++;
      const norm = path.length > 1 ? path.replace(/\/$/, '') : path;
      assert.equal(routes.paths[norm]?.[m]?.operationId, item[m].operationId, `${m} ${path} routed`);
      assert.match(opsSource, new RegExp(`^  ${item[m].operationId}: \\{ method: '${m}', path: '${norm.replace(/[.{}]/g, '\\$&')}'`, 'm'));
    }
  }
  assert.equal((opsSource.match(/^ {2}\w+: \{ method:/gm) ?? []).length, count);
  for (const id of ['getCoreAPIVersions', 'getAPIVersions', 'getCoreV1APIResources', 'getRbacAuthorizationAPIGroup',
    'getRbacAuthorizationV1APIResources', 'getCodeVersion', 'replaceCoreV1NamespaceFinalize', 'createAuthorizationV1SelfSubjectAccessReview']) {
    assert.match(opsSource, new RegExp(`^  ${id}: `, 'm'));
  }
  // metrics.k8s.io is not upstream: codegen/metrics.ts adds it, get and list only, as metrics-server serves it.
  const metrics = kinds.filter((k) => k.group === 'metrics.k8s.io').map((k) => [k.plural, k.kind, k.namespaced, k.verbs.join(',')]);
  assert.deepEqual(metrics, [['nodes', 'NodeMetrics', false, 'get,list'], ['pods', 'PodMetrics', true, 'get,list']]);
  // Nothing outside the selection leaks in.
  assert.equal(swagger.paths['/api/v1/namespaces/{namespace}/podtemplates'], undefined);
  assert.equal(swagger.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding'], undefined, 'only the subresources named are served');
  assert.equal(swagger.paths['/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token'], undefined);
  assert.equal(swagger.paths['/apis/certificates.k8s.io/v1/'], undefined);
});

test('the trimmed swagger is a closed document with the upstream head', () => {
  const swagger = json('swagger.json');
  assert.deepEqual(Object.keys(swagger), ['definitions', 'info', 'parameters', 'paths', 'security', 'securityDefinitions', 'swagger']);
  assert.deepEqual(swagger.security, [{ BearerToken: [] }]);
  const walk = (n: any): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    for (const [k, v] of Object.entries(n)) {
      if (k === '$ref') {
        const [, section, name] = /^#\/(definitions|parameters)\/(.+)$/.exec(v as string)!;
        assert.ok(swagger[section][name], `${v} resolves`);
      } else walk(v);
    }
  };
  walk(swagger);
  // Upstream content is unchanged: a definition is byte-identical to the original.
  const upstream = loadUpstream(upstreamPath(root));
  assert.deepEqual(swagger.definitions['io.k8s.api.rbac.v1.Role'], upstream.definitions['io.k8s.api.rbac.v1.Role']);
  assert.deepEqual(swagger.paths['/api/v1/namespaces/{name}/status'], upstream.paths['/api/v1/namespaces/{name}/status']);
});

test('discovery lists every kind with its verbs, in every form', () => {
  const kinds = json('kinds.json') as KindInfo[];
  const aggregated = {
    v2: [...json('discovery/aggregated-api-v2.json').items, ...json('discovery/aggregated-apis-v2.json').items],
    v2beta1: [...json('discovery/aggregated-api-v2beta1.json').items, ...json('discovery/aggregated-apis-v2beta1.json').items],
  };
  const groups = json('discovery/apis.json');
  assert.equal(groups.kind, 'APIGroupList');
  assert.deepEqual(json('discovery/api.json').versions, ['v1']);
  for (const k of kinds) {
    const list = json(discoveryFile(k));
    assert.equal(list.kind, 'APIResourceList');
    assert.equal(list.groupVersion, gvOf(k));
    const r = list.resources.find((x: any) => x.name === k.plural);
    assert.ok(r, `${gvOf(k)} lists ${k.plural}`);
    assert.deepEqual([r.kind, r.singularName, r.namespaced, r.verbs, r.shortNames ?? [], r.categories ?? []],
      [k.kind, k.singular, k.namespaced, k.verbs, k.shortNames, k.categories]);
    for (const sub of k.subresources) {
      const s = list.resources.find((x: any) => x.name === `${k.plural}/${sub}`);
      assert.ok(s, `${k.plural}/${sub} listed`);
      // status and log are the kind itself; exec/attach/portforward name their options kinds.
      const expected = ({ exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions', scale: 'Scale' } as Record<string, string>)[sub] ?? k.kind;
      assert.equal(s.kind, expected, `${k.plural}/${sub}`);
    }
    if (k.group) {
      const g = groups.groups.find((x: any) => x.name === k.group);
      assert.ok(g.versions.some((v: any) => v.groupVersion === gvOf(k)));
      assert.ok(g.preferredVersion.groupVersion);
      assert.deepEqual(json(`discovery/apis__${k.group}.json`).name, k.group);
    }
    for (const [v, items] of Object.entries(aggregated)) {
      const item = items.find((i: any) => (i.metadata.name ?? '') === k.group);
      const ver = item.versions.find((x: any) => x.version === k.version);
      const res = ver.resources.find((x: any) => x.resource === k.plural);
      assert.ok(res, `aggregated ${v} lists ${gvOf(k)} ${k.plural}`);
      assert.deepEqual([res.responseKind.kind, res.scope, res.singularResource, res.verbs],
        [k.kind, k.namespaced ? 'Namespaced' : 'Cluster', k.singular, k.verbs]);
      assert.deepEqual((res.subresources ?? []).map((s: any) => s.subresource).sort(), [...k.subresources].sort());
      assert.equal(ver.freshness, 'Current');
    }
  }
  const ns = json('discovery/api__v1.json').resources.find((x: any) => x.name === 'namespaces/finalize');
  assert.deepEqual(ns.verbs, ['update']);
  assert.equal(json('discovery/aggregated-apis-v2.json').apiVersion, 'apidiscovery.k8s.io/v2');
  assert.equal(json('discovery/aggregated-apis-v2beta1.json').apiVersion, 'apidiscovery.k8s.io/v2beta1');
});

test('each /openapi/v3 document matches its hash in the index and is closed', () => {
  const index = json('openapi-v3/index.json');
  assert.ok(index.paths['api/v1'] && index.paths['apis/rbac.authorization.k8s.io/v1']);
  for (const [gv, entry] of Object.entries<any>(index.paths)) {
    const name = `openapi-v3/${gv.replaceAll('/', '__')}.json`;
    const bytes = Buffer.from(files.get(name)!);
    const hash = createHash('sha512').update(bytes).digest('hex').toUpperCase();
    assert.equal(entry.serverRelativeURL, `/openapi/v3/${gv}?hash=${hash}`);
    const doc = JSON.parse(bytes.toString());
    assert.equal(doc.openapi, '3.0.0');
    for (const p of Object.keys(doc.paths)) assert.ok(p.startsWith(`/${gv}/`) || p === `/${gv}/`, `${p} belongs to ${gv}`);
    const refs = bytes.toString().match(/"\$ref":"[^"]+"/g) ?? [];
    for (const r of refs) {
      const target = r.slice(8, -1);
      assert.ok(target.startsWith('#/components/schemas/'), `${gv}: ${target} is a schema ref`);
      assert.ok(doc.components.schemas[target.slice('#/components/schemas/'.length)], `${gv}: ${target} resolves`);
    }
  }
});

test('v3 PATCH operations keep the patch content types, the GVK and fieldValidation', () => {
  const doc = json('openapi-v3/api__v1.json');
  const patch = doc.paths['/api/v1/namespaces/{namespace}/configmaps/{name}'].patch;
  assert.deepEqual(Object.keys(patch.requestBody.content).sort(), [
    'application/apply-patch+cbor', 'application/apply-patch+yaml', 'application/json-patch+json',
    'application/merge-patch+json', 'application/strategic-merge-patch+json']);
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'ConfigMap', version: 'v1' });
  assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query' && p.schema.type === 'string'));
  const post = doc.paths['/api/v1/namespaces/{namespace}/configmaps'].post;
  assert.deepEqual(Object.keys(post.requestBody.content), ['application/json']);
  assert.equal(post.requestBody.required, true);
  // swagger keeps the v2 form
  const swagger = json('swagger.json');
  assert.ok(swagger.paths['/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/{name}'].patch.consumes
    .includes('application/strategic-merge-patch+json'));
});

test('x-kubernetes-* keys survive into v3 (refs with siblings become allOf)', () => {
  const doc = json('openapi-v3/api__v1.json');
  const meta = doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties;
  assert.equal(meta.ownerReferences['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(meta.ownerReferences['x-kubernetes-patch-merge-key'], 'uid');
  assert.equal(meta.finalizers['x-kubernetes-list-type'], 'set');
  const cm = doc.components.schemas['io.k8s.api.core.v1.ConfigMap'];
  assert.deepEqual(cm.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
  assert.match(cm.properties.metadata.description, /Standard object's metadata/);
  assert.deepEqual(cm['x-kubernetes-group-version-kind'], [{ group: '', kind: 'ConfigMap', version: 'v1' }]);
  const node = doc.components.schemas['io.k8s.api.core.v1.NodeStatus'].properties;
  assert.equal(node.addresses['x-kubernetes-patch-merge-key'], 'type');
});

test('the v2 protobuf decodes back to the same document', () => {
  const Document = loadDocumentType(gnosticProtoPath(protoDir(root)));
  const decoded = Document.toObject(Document.decode(Buffer.from(files.get('openapi-v2.pb')!)), { defaults: false }) as any;
  const swagger = json('swagger.json');
  assert.equal(decoded.swagger, '2.0');
  assert.deepEqual(decoded.paths.path.map((p: any) => p.name), Object.keys(swagger.paths));
  assert.deepEqual(decoded.definitions.additional_properties.map((d: any) => d.name), Object.keys(swagger.definitions));
  assert.deepEqual(decoded.parameters.additional_properties.map((d: any) => d.name), Object.keys(swagger.parameters));
  const patch = decoded.paths.path.find((p: any) => p.name === '/api/v1/namespaces/{namespace}/configmaps/{name}').value.patch;
  assert.equal(patch.operation_id, 'patchCoreV1NamespacedConfigMap');
  assert.ok(patch.consumes.includes('application/strategic-merge-patch+json'));
  const gvk = patch.vendor_extension.find((e: any) => e.name === 'x-kubernetes-group-version-kind');
  assert.match(gvk.value.yaml, /kind: ConfigMap/);
  const meta = decoded.definitions.additional_properties.find((d: any) => d.name === 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta').value;
  const owners = meta.properties.additional_properties.find((p: any) => p.name === 'ownerReferences').value;
  assert.deepEqual(owners.type.value, ['array']);
  assert.ok(owners.vendor_extension.some((e: any) => e.name === 'x-kubernetes-patch-strategy' && e.value.yaml.trim() === 'merge'));
  const cm = decoded.definitions.additional_properties.find((d: any) => d.name === 'io.k8s.api.core.v1.ConfigMap').value;
  const md = cm.properties.additional_properties.find((p: any) => p.name === 'metadata').value;
  assert.equal(md._ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  assert.deepEqual(decoded.security_definitions.additional_properties[0].value.api_key_security,
    { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer Token authentication' });
});

test('schemas.json is ready for ajv: IntOrString and Quantity accept numbers', () => {
  const { definitions } = json('schemas.json');
  assert.deepEqual(definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].type, ['integer', 'string']);
  assert.equal(definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].format, undefined);
  assert.deepEqual(definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'].type, ['number', 'string']);
  assert.equal(definitions['io.k8s.api.core.v1.ConfigMap'].properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  const refs = text('schemas.json').match(/"\$ref":"#\/definitions\/[^"]+"/g) ?? [];
  for (const r of refs) assert.ok(definitions[r.slice('"$ref":"#/definitions/'.length, -1)], `${r} resolves`);
  // the served document keeps the upstream form
  assert.equal(json('swagger.json').definitions['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].type, 'string');
});

test('types.ts carries the kinds, with IntOrString as number | string', () => {
  const ts = text('types.ts');
  assert.match(ts, /"io\.k8s\.api\.core\.v1\.ConfigMap": \{/);
  assert.match(ts, /"io\.k8s\.apimachinery\.pkg\.util\.intstr\.IntOrString": number \| string;/);
  assert.match(ts, /"io\.k8s\.apimachinery\.pkg\.api\.resource\.Quantity": number \| string;/);
  assert.match(ts, /export interface operations \{/);
});

test('writeOutputs replaces only codegen outputs and drops stale ones', () => {
  const out = join(tmp, 'out');
  mkdirSync(join(out, 'discovery'), { recursive: true });
  writeFileSync(join(out, 'README.md'), 'keep');
  writeFileSync(join(out, 'discovery', 'apis__apps__v1.json'), '{}');
  writeOutputs(out, new Map([['discovery/api.json', '{"a":1}'], ['kinds.json', '[]']]));
  assert.equal(readFileSync(join(out, 'README.md'), 'utf8'), 'keep');
  assert.equal(readFileSync(join(out, 'discovery', 'api.json'), 'utf8'), '{"a":1}');
  assert.throws(() => readFileSync(join(out, 'discovery', 'apis__apps__v1.json')));
});

test('a project with one kind and its own table columns', async () => {
  const proj = join(tmp, 'proj');
  mkdirSync(join(proj, 'openapi'), { recursive: true });
  writeFileSync(join(proj, 'openapi', 'supported.yaml'), 'v1:\n  configmaps: { shortNames: [cm] }\n');
  writeFileSync(join(proj, 'openapi', 'tables.yaml'),
    'configmaps:\n  - { name: Name, type: string, format: name, path: .metadata.name }\n  - { name: Data, type: string, path: "@datacount" }\n');
  const env = { K8S_OPENAPI: upstreamPath(root), K8S_PROTO: join(root, '../shared/kubernetes-proto') };
  const r = await build({ root: proj, env });
  const kinds = JSON.parse(r.files.get('kinds.json')!.toString()) as KindInfo[];
  assert.deepEqual(kinds.map((k) => k.plural), ['configmaps']);
  assert.deepEqual(kinds[0].columns.map((c) => c.name), ['Name', 'Data']);
  assert.deepEqual(JSON.parse(r.files.get('discovery/apis.json')!.toString()).groups, []);
  assert.deepEqual(JSON.parse(r.files.get('discovery/aggregated-apis-v2.json')!.toString()).items, []);
  assert.ok(!r.files.has('discovery/apis__rbac.authorization.k8s.io__v1.json'));
});

test('selection mistakes fail the build with the place named', () => {
  assert.throws(() => parseSelection('v1:\n  configmaps: { shortname: [cm] }\n'), (e: Error) =>
    e instanceof CodegenError && /v1 configmaps: unknown key "shortname"/.test(e.message));
  assert.throws(() => parseSelection('v1:\n  configmaps: { shortNames: cm }\n'), /shortNames: expected a list of strings/);
  const upstream = loadUpstream(upstreamPath(root));
  assert.throws(() => trim(upstream, parseSelection('v1:\n  configmapz: {}\n')), /v1 configmapz: no such resource/);
  assert.throws(() => trim(upstream, parseSelection('v1:\n  configmaps: { subresources: [status] }\n')),
    /v1 configmaps: no subresource "status"/);
});

function runCodegen(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'codegen/main.ts')], {
    cwd: root, env: { ...process.env, ...env }, encoding: 'utf8',
  });
}

test('a wrong upstream document stops codegen with one clear line', () => {
  const bad = join(tmp, 'swagger.json');
  writeFileSync(bad, '{"swagger":"2.0","paths":{}}');
  const r = runCodegen({ K8S_OPENAPI: bad });
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^codegen: upstream OpenAPI document .*swagger\.json has sha256 [0-9a-f]{64}, expected c316f6e2/);

  const missing = runCodegen({ K8S_OPENAPI: join(tmp, 'nope.json') });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr.trim(), /^codegen: upstream OpenAPI document not found at .*nope\.json/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
});
