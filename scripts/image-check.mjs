// Run inside the image's build stage: fails the image build when the bundle would need
// node_modules (which the image does not have) or generated/ is missing.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';

const app = process.argv[2] ?? '/app';
const bundle = readFileSync(join(app, 'dist', 'k2d.js'), 'utf8');
const problems = [];
// esbuild leaves only static imports of what it did not bundle; each must be a node builtin.
for (const m of bundle.matchAll(/\bimport\s*(?:[\w$*{}\s,]+from\s*)?["']([^"']+)["']/g)) {
  if (!isBuiltin(m[1])) problems.push(`dist/k2d.js imports "${m[1]}", which is not bundled`);
}
const generated = join(app, 'generated');
if (!existsSync(join(generated, 'kinds.json'))) problems.push('generated/kinds.json missing: run `npm run build` first');
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`image-check: bundle ${Math.round(bundle.length / 1024)} KB, generated/ ${readdirSync(generated).length} files`);
