// Bundles src/main.ts into dist/k2d.js: one file that plain `node` runs with no node_modules.
//   node scripts/bundle.mjs [ENTRY [OUTFILE]]   (defaults: src/main.ts, dist/k2d.js)
import { build } from 'esbuild';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stub = join(root, 'scripts', 'unused-stub.cjs');
const entry = process.argv[2] ?? join(root, 'src', 'main.ts');
const outfile = process.argv[3] ?? join(root, 'dist', 'k2d.js');

// dockerode requires these at load time, but uses them only for ssh:// hosts and BuildKit
// builds. Left in, they cost ~15 MB RSS and ~100 ms of start-up.
const stubbed = ['ssh2', '@grpc/grpc-js', '@grpc/proto-loader', 'cpu-features'];

// dockerode's BuildKit progress decoder pulls in its own protobufjs 7; the server's protobufjs
// (8) is separate and must stay.
const dropBuildkitProtobuf = {
  name: 'drop-buildkit-protobuf',
  setup(b) {
    b.onResolve({ filter: /^protobufjs$/ }, (args) =>
      /[\\/]dockerode[\\/]lib[\\/]buildkit\.js$/.test(args.importer) ? { path: stub } : undefined,
    );
  },
};

mkdirSync(dirname(outfile), { recursive: true });
const started = Date.now();
const result = await build({
  entryPoints: [entry],
  // Lets an entry outside the repo (a stand-in under /tmp) resolve the repo's packages.
  nodePaths: [join(root, 'node_modules')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Bundled CommonJS calls require() for node builtins and reads __dirname/__filename; ESM has
  // neither. Private names keep the banner from clashing with any bundled top-level binding.
  banner: {
    js: [
      "import { createRequire as __k2dCreateRequire } from 'node:module';",
      "import { fileURLToPath as __k2dFileURLToPath } from 'node:url';",
      'const require = __k2dCreateRequire(import.meta.url);',
      'const __k2d_filename = __k2dFileURLToPath(import.meta.url);',
      "const __k2d_dirname = __k2dFileURLToPath(new URL('.', import.meta.url));",
    ].join('\n'),
  },
  define: { __filename: '__k2d_filename', __dirname: '__k2d_dirname' },
  alias: Object.fromEntries(stubbed.map((m) => [m, stub])),
  plugins: [dropBuildkitProtobuf],
  minifyWhitespace: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
}).catch(() => process.exit(1)); // esbuild has already printed the errors

const kb = (f) => Math.round(statSync(f).size / 1024);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`bundle: ${relative(root, outfile)} ${kb(outfile)} KB from ${inputs} files in ${Date.now() - started} ms`);
