// `npm run codegen`: derive generated/ from the upstream OpenAPI document and openapi/.
// Env: K8S_OPENAPI (the upstream swagger.json), K8S_PROTO (the kubernetes-proto folder).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.ts';
import { CodegenError } from './upstream.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const t0 = performance.now();
try {
  const r = await generate({ root });
  const ms = Math.round(performance.now() - t0);
  console.log(`codegen: ${r.paths} paths, ${r.operations} operations, ${r.definitions} definitions -> generated/ (${r.files.size} files, ${ms} ms)`);
} catch (e) {
  if (!(e instanceof CodegenError)) throw e;
  console.error(`codegen: ${e.message}`);
  process.exit(1);
}
