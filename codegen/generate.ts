// The build step end to end: upstream document + openapi/ selection -> generated/.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { discoveryDocuments } from './discovery.ts';
import { operationsTs, routesJson, schemasJson, typesTs } from './emit.ts';
import { withMetricsAPI } from './metrics.ts';
import { buildModel } from './model.ts';
import { buildProtoDescriptor, protoDir } from './proto.ts';
import { encodeOpenAPIv2, gnosticProtoPath } from './protobuf.ts';
import { loadSelection, loadTables } from './selection.ts';
import { trim } from './trim.ts';
import { CodegenError, loadUpstream, upstreamPath } from './upstream.ts';
import { v3Documents } from './v3.ts';

export interface GenerateOptions {
  /** project root (holds openapi/) */
  root: string;
  /** output folder; default <root>/generated */
  out?: string;
  env?: NodeJS.ProcessEnv;
}

export interface GenerateResult {
  files: Map<string, string | Buffer>;
  paths: number;
  operations: number;
  definitions: number;
}

/** Everything codegen writes, relative to the output folder; nothing else there is touched. */
export const OWNED = ['swagger.json', 'openapi-v2.pb', 'openapi-v3', 'schemas.json', 'types.ts',
  'discovery', 'kinds.json', 'operations.ts', 'routes.json', 'k8s-proto.json'];

export async function build(opts: GenerateOptions): Promise<GenerateResult> {
  const env = opts.env ?? process.env;
  const upstream = loadUpstream(upstreamPath(opts.root, env));
  const selection = loadSelection(join(opts.root, 'openapi/supported.yaml'));
  const tables = loadTables(join(opts.root, 'openapi/tables.yaml'));
  const trimmed = trim(withMetricsAPI(upstream), selection);
  const { doc } = trimmed;
  const model = buildModel(trimmed, selection, tables);

  const files = new Map<string, string | Buffer>();
  files.set('swagger.json', JSON.stringify(doc));
  const protos = protoDir(opts.root, env);
  files.set('openapi-v2.pb', encodeOpenAPIv2(doc, gnosticProtoPath(protos)));
  // Request bodies in protobuf (codegen/proto.ts): decoded against the same upstream document.
  const proto = buildProtoDescriptor(protos, upstream.definitions);
  if (proto.problems.length) {
    throw new CodegenError(`proto descriptor does not match the OpenAPI document:\n  ${proto.problems.join('\n  ')}`);
  }
  files.set('k8s-proto.json', JSON.stringify(proto.descriptor));
  const v3 = v3Documents(doc);
  for (const [name, bytes] of v3.files) files.set(`openapi-v3/${name}`, bytes);
  files.set('openapi-v3/index.json', v3.index);
  files.set('schemas.json', schemasJson(doc));
  files.set('types.ts', await typesTs(doc));
  for (const [name, text] of discoveryDocuments(model.groupVersions)) files.set(`discovery/${name}`, text);
  files.set('kinds.json', `${JSON.stringify(model.groupVersions.flatMap((gv) => gv.resources.map((r) => r.info)), null, 1)}\n`);
  files.set('operations.ts', operationsTs(model.operations));
  files.set('routes.json', routesJson(model.operations));
  return {
    files, paths: Object.keys(doc.paths).length, operations: model.operations.length,
    definitions: Object.keys(doc.definitions).length,
  };
}

/** Replaces codegen's own outputs in `out` (stale files of a removed kind go too). */
export function writeOutputs(out: string, files: Map<string, string | Buffer>): void {
  for (const name of OWNED) {
    const p = join(out, name);
    if (existsSync(p) && !files.has(name)) {
      for (const f of readdirSync(p)) if (!files.has(`${name}/${f}`)) rmSync(join(p, f), { recursive: true });
    }
  }
  for (const [name, data] of files) {
    const p = join(out, name);
    mkdirSync(dirname(p), { recursive: true });
    // Whole files only: a reader (or a test) never sees half a document.
    writeFileSync(`${p}.tmp`, data);
    renameSync(`${p}.tmp`, p);
  }
}

export async function generate(opts: GenerateOptions): Promise<GenerateResult> {
  const result = await build(opts);
  writeOutputs(opts.out ?? join(opts.root, 'generated'), result.files);
  return result;
}
