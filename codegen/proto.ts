// Builds generated/k8s-proto.json: a protobufjs JSON descriptor of the upstream generated.proto
// files for the API groups k2d may serve, so request bodies in application/vnd.kubernetes.protobuf
// can be decoded at run time (src/machinery/protobuf.ts) without parsing .proto text. Type
// references are written fully qualified so the run-time reader needs no scope rules.
//
// The .proto files alone cannot say how a message looks in JSON. What Go's JSON encoder does
// differently is read from the upstream OpenAPI document and written into the descriptor as
// options that src/machinery/protobuf.ts reads:
//   field option json_name     the JSON key when it differs from the proto name (uID -> uid)
//   field option k2d_inline    an embedded Go struct (`json:",inline"`): its fields join the parent
//   field option k2d_required  a scalar the OpenAPI lists as required: Go has no omitempty on it,
//                              so its zero value is written in JSON and must be kept
//   type option  k2d_items     a Go named slice (ExtraValue []string) wrapped in a message for
//                              protobuf: in JSON it is the bare list
//   root option  k2d_kinds     "<apiVersion>/<kind>" -> message, from x-kubernetes-group-version-kind
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { CodegenError, loadUpstream, upstreamPath } from './upstream.ts';

/** Group-versions (k8s.io/api/<dir>) whose messages can arrive as request bodies: GA only, as served. */
export const PROTO_PACKAGES = [
  'core/v1', 'apps/v1', 'batch/v1', 'rbac/v1', 'policy/v1', 'networking/v1',
  'autoscaling/v1', 'autoscaling/v2', 'scheduling/v1', 'coordination/v1', 'authorization/v1',
  'authentication/v1', 'events/v1', 'storage/v1', 'discovery/v1',
];

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function protoDir(root = PROJECT_ROOT, env = process.env): string {
  return env.K8S_PROTO ? resolve(env.K8S_PROTO) : resolve(root, '../shared/kubernetes-proto');
}

// Messages whose JSON form is a scalar written by a custom MarshalJSON; the decoder knows them
// by name, so their proto fields have no OpenAPI counterpart to match.
const WIRE_TYPES = new Set([
  'k8s.io.apimachinery.pkg.apis.meta.v1.Time', 'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime',
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1',
  'k8s.io.apimachinery.pkg.runtime.RawExtension', 'k8s.io.apimachinery.pkg.util.intstr.IntOrString',
  'k8s.io.apimachinery.pkg.api.resource.Quantity',
]);

type Schema = { properties?: Record<string, any>; required?: string[]; [k: string]: any };

const messageName = (t: protobuf.ReflectionObject) => t.fullName.slice(1);
// k8s.io.api.core.v1.Pod <-> io.k8s.api.core.v1.Pod
const definitionName = (message: string) => `io.k8s.${message.slice('k8s.io.'.length)}`;

function allTypes(ns: protobuf.NamespaceBase, out: protobuf.Type[] = []): protobuf.Type[] {
  for (const o of ns.nestedArray) {
    if (o instanceof protobuf.Type) out.push(o);
    if (o instanceof protobuf.Namespace || o instanceof protobuf.Type) allTypes(o, out);
  }
  return out;
}

export function loadProtoRoot(dir: string, packages = PROTO_PACKAGES): protobuf.Root {
  const root = new protobuf.Root();
  // Imports name files by Go import path (k8s.io/apimachinery/...), relative to the proto tree.
  root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(dir, target));
  try {
    root.loadSync(packages.map((p) => join(dir, 'k8s.io/api', p, 'generated.proto')), { keepCase: true });
    root.resolveAll();
  } catch (e) {
    throw new CodegenError(`cannot load the Kubernetes .proto files from ${dir} (set K8S_PROTO): ${(e as Error).message}`);
  }
  return root;
}

/** The JSON keys a message contributes to its parent's object, inlined fields flattened. */
function jsonKeys(t: protobuf.Type, props: Record<string, unknown>): string[] | undefined {
  const keys: string[] = [];
  for (const f of t.fieldsArray) {
    if (f.name in props) keys.push(f.name);
    else if (f.resolvedType instanceof protobuf.Type && !f.repeated && !f.map) {
      const inner = jsonKeys(f.resolvedType, props);
      if (!inner) return undefined;
      keys.push(...inner);
    } else return undefined;
  }
  return keys;
}

/** Annotates the descriptor in place from the OpenAPI definitions; returns what did not match. */
export function annotate(root: protobuf.Root, definitions: Record<string, Schema>): string[] {
  const problems: string[] = [];
  const done = new Set<protobuf.Type>();

  const visit = (t: protobuf.Type, schema: Schema, where: string) => {
    if (done.has(t) || WIRE_TYPES.has(messageName(t))) return;
    done.add(t);
    const props = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    for (const f of t.fieldsArray) {
      let key = f.name;
      if (!(key in props)) {
        const renamed = Object.keys(props).find((p) => p.toLowerCase() === f.name.toLowerCase());
        if (renamed) {
          f.setOption('json_name', renamed);
          key = renamed;
        } else if (f.resolvedType instanceof protobuf.Type && !f.repeated && !f.map
          && jsonKeys(f.resolvedType, props)) {
          f.setOption('k2d_inline', true);
          // An embedded struct has no definition of its own: its fields are the parent's.
          visit(f.resolvedType, definitions[definitionName(messageName(f.resolvedType))] ?? schema, where);
          continue;
        } else {
          problems.push(`${where}: proto field "${f.name}" has no OpenAPI property`);
          continue;
        }
      }
      const prop = props[key] ?? {};
      if (!(f.resolvedType instanceof protobuf.Type)) {
        if (required.has(key) && !f.repeated && !f.map) f.setOption('k2d_required', true);
        continue;
      }
      const inner = f.resolvedType;
      const jsonType = f.map ? prop.additionalProperties?.type : prop.type;
      if (jsonType === 'array' && !f.repeated) {
        const only = inner.fieldsArray;
        if (only.length !== 1 || !only[0].repeated) {
          problems.push(`${where}.${key}: JSON list carried by ${messageName(inner)}, which is not a single repeated field`);
        } else inner.setOption('k2d_items', true);
        continue;
      }
      const def = definitions[definitionName(messageName(inner))];
      if (def) visit(inner, def, messageName(inner));
      else if (!WIRE_TYPES.has(messageName(inner))) problems.push(`${where}.${key}: no OpenAPI definition for ${messageName(inner)}`);
    }
  };

  const kinds: Record<string, string> = {};
  const types = allTypes(root);
  const byName = new Map(types.map((t) => [messageName(t), t]));
  const served = new Set<string>();
  for (const t of types) {
    const name = messageName(t);
    const def = definitions[definitionName(name)];
    if (!def) continue;
    visit(t, def, name);
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      const apiVersion = gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
      if (name.startsWith('k8s.io.api.')) served.add(apiVersion);
      kinds[`${apiVersion}/${gvk.kind}`] = name;
    }
  }
  // meta/v1 kinds (DeleteOptions, Status, ...) are listed under every group: keep the served ones.
  for (const key of Object.keys(kinds)) {
    if (!served.has(key.slice(0, key.lastIndexOf('/'))) || !byName.has(kinds[key])) delete kinds[key];
  }
  root.setOption('k2d_kinds', kinds);
  return problems;
}

export function buildProtoDescriptor(dir: string, definitions: Record<string, Schema>) {
  const root = loadProtoRoot(dir);
  const problems = annotate(root, definitions);
  // References as written in .proto are relative to the referring package; written fully
  // qualified, the run-time reader needs no scope resolution.
  for (const t of allTypes(root)) {
    for (const f of t.fieldsArray) if (f.resolvedType) f.type = f.resolvedType.fullName;
  }
  return { descriptor: root.toJSON(), problems };
}

export async function generateProtoDescriptor(outDir: string): Promise<void> {
  const { definitions } = loadUpstream(upstreamPath(PROJECT_ROOT));
  const { descriptor, problems } = buildProtoDescriptor(protoDir(), definitions);
  if (problems.length) {
    throw new CodegenError(`proto descriptor does not match the OpenAPI document:\n  ${problems.join('\n  ')}`);
  }
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'k8s-proto.json'), JSON.stringify(descriptor));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const out = join(PROJECT_ROOT, 'generated');
  generateProtoDescriptor(out).then(
    () => console.log(`proto: generated/k8s-proto.json in ${Date.now() - started} ms`),
    (e) => { console.error(`proto: ${e instanceof Error ? e.message : e}`); process.exit(1); },
  );
}
