import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The sources run from src/ (tsx) and the bundle from dist/: find generated/ by walking up.
function findGenerated(): string {
  if (process.env.K2D_GENERATED_DIR) return process.env.K2D_GENERATED_DIR;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'generated');
    if (existsSync(join(candidate, 'kinds.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('generated/ not found: run `npm run codegen` first');
}

let cached: string | undefined;
export function generatedDir(): string {
  return (cached ??= findGenerated());
}
export const generatedPath = (...parts: string[]) => join(generatedDir(), ...parts);
