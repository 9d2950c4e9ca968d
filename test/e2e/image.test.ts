// The Dockerfile end to end: a base image made from this machine's node (no registry here), the
// translator image on top, one container with the engine socket mounted, and kubectl against it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  connect, docker, freePort, kubectlOk, removeDockerObjects, repoRoot, request, run, testTmp, waitFor, type Target, serverNodeFlags,
} from './harness.ts';

// K2D_TEST_IMAGE_CONTEXT: build from another folder holding the same layout (harness checks).
const context = process.env.K2D_TEST_IMAGE_CONTEXT ?? repoRoot;
const baseTag = 'k2d-node-base:local';
const id = `${process.pid}-${randomBytes(2).toString('hex')}`;
const instance = `e2e-image-${id}`;
const tag = `k2d-e2e:${id}`;
const name = `k2d-e2e-${id}`;
const workDir = join(testTmp, 'e2e', instance);
const dataDir = join(workDir, 'data');
const buildEnv = { ...process.env, DOCKER_BUILDKIT: '0' };

let baseWasThere = false;
let buildStageImage: string | undefined;

after(async () => {
  await docker(['rm', '-f', '-v', name]);
  await removeDockerObjects(instance);
  await docker(['rmi', tag]);
  // The legacy builder leaves the build stage behind as an untagged image.
  if (buildStageImage) await docker(['rmi', buildStageImage]);
  if (!baseWasThere) await docker(['rmi', baseTag]);
  if (!process.env.K2D_KEEP_TEST_DATA) rmSync(workDir, { recursive: true, force: true });
});

async function containerState(): Promise<{ running: boolean; exitCode: number; logs: string }> {
  const r = await docker(['inspect', '-f', '{{.State.Running}} {{.State.ExitCode}}', name]);
  const [running, code] = r.stdout.trim().split(' ');
  const logs = await docker(['logs', '--tail', '80', name]);
  return { running: running === 'true', exitCode: Number(code), logs: logs.stdout + logs.stderr };
}

test('the image builds, starts with the engine socket and answers kubectl', { timeout: 600_000 }, async (t) => {
  baseWasThere = (await docker(['image', 'inspect', baseTag])).code === 0;
  const base = await run('bash', [join(repoRoot, 'scripts', 'make-node-base.sh'), baseTag], { timeoutMs: 120_000 });
  assert.equal(base.code, 0, base.stderr);
  const nodeInBase = await docker(['run', '--rm', '--label', 'k2d.test=1', baseTag, 'node', '-p', 'process.version']);
  assert.equal(nodeInBase.stdout.trim(), process.version, nodeInBase.stderr);

  assert.ok(existsSync(join(context, 'dist', 'k2d.js')), 'dist/k2d.js missing: npm run build');
  const build = await run('docker', [
    'build', '--build-arg', `BASE_IMAGE=${baseTag}`, '--label', 'k2d.test=1', '-t', tag, context,
  ], { env: buildEnv, timeoutMs: 300_000 });
  buildStageImage = lastImageOfFirstStage(build.stdout);
  assert.equal(build.code, 0, `docker build failed:\n${build.stdout}\n${build.stderr}`);
  // The context is the bundle and generated/, never node_modules.
  const sent = /Sending build context to Docker daemon\s+([\d.]+)([kMG]?B)/.exec(build.stdout);
  assert.ok(sent, build.stdout);
  const mb = Number(sent[1]) * ({ B: 1e-6, kB: 1e-3, MB: 1, GB: 1e3 } as Record<string, number>)[sent[2]];
  assert.ok(mb < 50, `build context is ${sent[1]} ${sent[2]}: .dockerignore lets too much in`);

  const inspect = JSON.parse((await docker(['image', 'inspect', tag])).stdout)[0];
  const baseSize = JSON.parse((await docker(['image', 'inspect', baseTag])).stdout)[0].Size;
  assert.deepEqual(Object.keys(inspect.Config.ExposedPorts), ['6443/tcp']);
  assert.deepEqual(Object.keys(inspect.Config.Volumes), ['/var/lib/k2d']);
  assert.deepEqual(inspect.Config.Entrypoint, ['node', ...serverNodeFlags, '/app/dist/k2d.js'], 'the image runs node with the flags npm start uses');
  assert.ok(inspect.Config.Env.includes('K2D_DATA_DIR=/var/lib/k2d'));
  const added = (inspect.Size - baseSize) / 1e6;
  assert.ok(added < 40, `the image adds ${added.toFixed(1)} MB on top of node: more than the bundle and generated/`);
  t.diagnostic(`image ${tag}: ${(inspect.Size / 1e6).toFixed(0)} MB, ${added.toFixed(1)} MB on top of node`);

  // Same port inside and out, so the kubeconfig the server writes (advertising 127.0.0.1) works
  // from the host as it is.
  const port = await freePort();
  mkdirSync(dataDir, { recursive: true });
  const started = await docker([
    'run', '-d', '--name', name,
    '--label', 'k2d.test=1', '--label', `k2d.io/instance=${instance}`,
    '-e', `K2D_INSTANCE=${instance}`, '-e', `K2D_PORT=${port}`,
    '-p', `127.0.0.1:${port}:${port}`,
    '-v', '/var/run/docker.sock:/var/run/docker.sock',
    '-v', `${dataDir}:/var/lib/k2d`,
    tag,
  ]);
  assert.equal(started.code, 0, started.stderr);

  const kubeconfig = join(dataDir, 'kubeconfig');
  let target: Target | undefined;
  await waitFor(async () => {
    const s = await containerState();
    if (!s.running) throw new Error(`the container exited with ${s.exitCode}:\n${s.logs}`);
    if (!existsSync(kubeconfig)) return false;
    target ??= connect(kubeconfig, join(workDir, 'clients'));
    const health = await request(target, 'GET', '/healthz', { timeoutMs: 3_000 });
    return health.status === 200;
  }, { timeoutMs: 60_000, intervalMs: 500, what: 'the container to answer /healthz over HTTPS' }).catch(async (e) => {
    const s = await containerState();
    throw new Error(`${(e as Error).message}\n--- container logs ---\n${s.logs}`);
  });
  assert.equal(target!.url, `https://127.0.0.1:${port}`);

  const version = await kubectlOk(target!, ['version', '-o', 'json']);
  const v = JSON.parse(version.stdout);
  assert.equal(v.clientVersion.gitVersion, 'v1.35.2');
  assert.match(v.serverVersion.gitVersion, /^v1\.\d+/);
  assert.ok(v.serverVersion.platform, 'serverVersion.platform is empty');
});

/** The image id the first stage ended with: the last " ---> id" before the second FROM. */
function lastImageOfFirstStage(out: string): string | undefined {
  let froms = 0;
  let last: string | undefined;
  for (const line of out.split('\n')) {
    if (/^Step \d+\/\d+ : FROM /i.test(line) && ++froms === 2) return last;
    const m = /^\s*---> ([0-9a-f]{12})\s*$/.exec(line);
    if (m) last = m[1];
  }
  return undefined;
}
