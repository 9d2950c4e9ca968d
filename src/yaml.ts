// The yaml package costs several MB of RSS: it loads on the first YAML body or reply only.
import type * as Yaml from 'yaml';

let mod: typeof Yaml | undefined;

export async function loadYaml(): Promise<typeof Yaml> {
  return (mod ??= await import('yaml'));
}

/** For code that runs only after a YAML body was parsed (so the module is loaded). */
export function loadedYaml(): typeof Yaml {
  if (!mod) throw new Error('yaml used before loadYaml()');
  return mod;
}
