// The base of every end-to-end test: starts the real server (the bundle, as production runs it),
// drives it with real clients, and removes everything it started, also when a test fails.
//
// Each e2e file runs in its own process, in parallel with others: every server gets its own
// port, data dir and K2D_INSTANCE label, and every kubectl/helm run its own cache and home.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import YAML from 'yaml';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const testTmp = join(repoRoot, '.test-tmp');
export const binDir = join(testTmp, 'bin');
/** The server bundle under test: dist/k2d.js, or K2D_TEST_BUNDLE to test another build. */
export const serverBundle = resolve(process.env.K2D_TEST_BUNDLE ?? join(repoRoot, 'dist', 'k2d.js'));
/** The node flags production runs with (package.json "start"), so tests run what ships. */
export const serverNodeFlags: string[] = (() => {
  const start: string = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts.start;
  return start.split(/\s+/).filter((a) => a.startsWith('--'));
})();
const sdkBin = '/usr/lib/google-cloud-sdk/bin';
const keepData = !!process.env.K2D_KEEP_TEST_DATA;
const verbose = !!process.env.K2D_TEST_VERBOSE;

export type KubectlVersion = '1.27' | '1.28' | '1.29' | '1.30' | '1.31' | '1.32' | '1.33' | '1.35';
export const kubectlVersions: KubectlVersion[] = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33', '1.35'];

/** What the clients need to reach a server: one the harness started, or any kubeconfig (connect). */
export interface Target {
  port: number;
  /** https://127.0.0.1:<port>, where the harness sends its own requests */
  url: string;
  token: string;
  /** Path of the kubeconfig the server wrote. */
  kubeconfig: string;
  /** CA certificate (PEM) from the kubeconfig. */
  ca: string;
  /** Private scratch space of this server's clients (kubectl cache, helm homes). */
  workDir: string;
}

export interface Server extends Target {
  dataDir: string;
  instance: string;
  pid: number;
  /** Everything the server printed so far, stdout and stderr interleaved. */
  logs(): string;
  /** SIGTERM, wait for exit (SIGKILL after 15 s); the exit code, null if it died by a signal. */
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
  /** True until the process has exited. */
  running(): boolean;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** Reuse a data dir (restart tests); the instance label then stays that of its first server. */
  dataDir?: string;
  instance?: string;
  port?: number;
  readyTimeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Tracked {
  child: ChildProcess;
  instance: string;
}
const live = new Set<Tracked>();
const instances = new Set<string>();
const instanceOfDataDir = new Map<string, string>();
const ownedDirs = new Set<string>();
let seq = 0;

// ---- cleanup ------------------------------------------------------------------------------

function dockerCleanupScript(instance: string): string {
  const f = `--filter label=k2d.io/instance=${instance}`;
  return [
    `ids=$(docker ps -aq ${f}); [ -z "$ids" ] || docker rm -f -v $ids`,
    `ids=$(docker network ls -q ${f}); [ -z "$ids" ] || docker network rm $ids`,
    `ids=$(docker volume ls -q ${f}); [ -z "$ids" ] || docker volume rm -f $ids`,
  ].join('\n');
}

/** Removes every Docker object labelled with this instance (containers, then networks, volumes). */
export async function removeDockerObjects(instance: string): Promise<void> {
  const r = await run('sh', ['-c', dockerCleanupScript(instance)], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`cleanup of instance ${instance} failed: ${r.stderr}`);
}

async function cleanupAll(): Promise<void> {
  await Promise.all([...live].map((t) => stopChild(t, 5_000)));
  const errors: string[] = [];
  for (const instance of instances) {
    try {
      await removeDockerObjects(instance);
      instances.delete(instance);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (!keepData) for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
  ownedDirs.clear();
  if (errors.length) throw new Error(errors.join('\n'));
}

// The safety net for a process that ends without the after hook (a crash, a signal): it must
// not leave servers or containers behind. Only synchronous work is possible here.
function cleanupSync(): void {
  for (const t of live) {
    try { t.child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  live.clear();
  for (const instance of instances) {
    spawnSync('sh', ['-c', dockerCleanupScript(instance)], { stdio: 'ignore', timeout: 60_000 });
  }
  instances.clear();
  if (!keepData) for (const d of ownedDirs) rmSync(d, { recursive: true, force: true });
}

after(cleanupAll);
process.once('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    cleanupSync();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}

// ---- server -------------------------------------------------------------------------------

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((ok, fail) => srv.once('error', fail).listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((ok) => srv.close(ok));
  return port;
}

function refChild(child: ChildProcess, on: boolean): void {
  for (const h of [child, child.stdout, child.stderr] as Array<{ ref?(): void; unref?(): void } | null>) {
    if (on) h?.ref?.(); else h?.unref?.();
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  refChild(child, true);
  return new Promise((ok) => {
    const timer = setTimeout(() => { child.off('exit', onExit); ok(false); }, ms);
    const onExit = () => { clearTimeout(timer); ok(true); };
    child.once('exit', onExit);
  });
}

async function stopChild(t: Tracked, graceMs: number): Promise<number | null> {
  const { child } = t;
  if (!exited(child)) {
    child.kill('SIGTERM');
    if (!(await waitExit(child, graceMs))) {
      child.kill('SIGKILL');
      await waitExit(child, 10_000);
    }
  }
  live.delete(t);
  return child.exitCode;
}

interface Kubeconfig { server: string; ca: string; token: string }

function readKubeconfig(path: string): Kubeconfig {
  const doc = YAML.parse(readFileSync(path, 'utf8'));
  const ctx = doc.contexts?.find((c: any) => c.name === doc['current-context'])?.context;
  const cluster = doc.clusters?.find((c: any) => c.name === ctx?.cluster)?.cluster;
  const user = doc.users?.find((u: any) => u.name === ctx?.user)?.user;
  if (!cluster?.server || !cluster['certificate-authority-data'] || !user?.token) {
    throw new Error(`${path}: no current context with server, certificate-authority-data and token`);
  }
  return {
    server: cluster.server,
    ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString(),
    token: user.token,
  };
}

class StartError extends Error {
  constructor(message: string, readonly addrInUse: boolean) { super(message); }
}

/**
 * Starts `node dist/k2d.js` on a free 127.0.0.1 port and waits for its ready line.
 * Everything it starts is stopped and its Docker objects removed after the file's tests.
 */
export async function startServer(opts: StartOptions = {}): Promise<Server> {
  if (!existsSync(serverBundle)) throw new Error(`${serverBundle} missing: run \`npm run build\` first`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (e) {
      // Another process can take the port between freePort() and the server's listen().
      if (!(e instanceof StartError && e.addrInUse && !opts.port && attempt < 3)) throw e;
    }
  }
}

async function startOnce(opts: StartOptions): Promise<Server> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ? resolve(opts.dataDir) : undefined;
  const instance = opts.instance ?? (dataDir && instanceOfDataDir.get(dataDir))
    ?? `e2e-${process.pid}-${++seq}-${randomBytes(2).toString('hex')}`;
  const workDir = join(testTmp, 'e2e', `${instance}-${port}`);
  const dir = dataDir ?? join(workDir, 'data');
  mkdirSync(workDir, { recursive: true });
  ownedDirs.add(workDir);
  instances.add(instance);
  instanceOfDataDir.set(dir, instance);

  const env: Record<string, string | undefined> = {
    ...process.env,
    K2D_PORT: String(port),
    K2D_ADDRESS: '127.0.0.1',
    K2D_ADVERTISE_ADDR: '127.0.0.1',
    K2D_DATA_DIR: dir,
    K2D_INSTANCE: instance,
    ...opts.env,
  };
  if (!opts.env?.K2D_TOKEN) delete env.K2D_TOKEN;
  const child = spawn(process.execPath, [...serverNodeFlags, serverBundle], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tracked: Tracked = { child, instance };
  live.add(tracked);

  const maxLog = 4 << 20;
  let out = '';
  const append = (s: string) => {
    out += s;
    if (out.length > maxLog) out = '[... earlier output dropped ...]\n' + out.slice(out.length - maxLog / 2);
    if (verbose) process.stderr.write(s.replace(/^/gm, `[k2d ${port}] `));
  };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8').on('data', append);
  // 'close', not 'exit': the last lines a dying server printed must be in its output.
  const exitNote = new Promise<void>((ok) => child.once('close', (code, sig) => {
    append(`[harness] k2d exited with ${sig ?? code}\n`);
    ok();
  }));

  const timeoutMs = opts.readyTimeoutMs ?? Number(process.env.K2D_TEST_READY_TIMEOUT_MS ?? 30_000);
  const outcome = await new Promise<'ready' | 'exit' | 'timeout'>((ok) => {
    const timer = setTimeout(() => ok('timeout'), timeoutMs);
    let ready = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      append(line + '\n');
      if (!ready && line.includes('"msg":"ready"')) { ready = true; clearTimeout(timer); ok('ready'); }
    });
    child.once('error', (e) => { append(`[harness] spawn error: ${e.message}\n`); clearTimeout(timer); ok('exit'); });
    exitNote.then(() => { clearTimeout(timer); ok('exit'); });
  });
  const fail = async (why: string): Promise<never> => {
    if (outcome === 'timeout' || !exited(child)) await stopChild(tracked, 2_000);
    live.delete(tracked);
    throw new StartError(`k2d on port ${port} ${why}\n--- server output ---\n${out}--- end ---`, /EADDRINUSE/.test(out));
  };
  if (outcome === 'timeout') return fail(`printed no ready line within ${timeoutMs} ms`);
  if (outcome === 'exit') return fail('exited before it was ready');

  const kubeconfig = join(dir, 'kubeconfig');
  let kc: Kubeconfig;
  try {
    kc = readKubeconfig(kubeconfig);
  } catch (e) {
    return fail(`is ready but its kubeconfig is unusable: ${(e as Error).message}`);
  }
  const url = `https://127.0.0.1:${port}`;
  const advertised = env.K2D_ADVERTISE_ADDR!.includes(':') ? `[${env.K2D_ADVERTISE_ADDR}]` : env.K2D_ADVERTISE_ADDR;
  const expected = `https://${advertised}:${port}`;
  if (kc.server !== expected) return fail(`wrote kubeconfig server ${kc.server}, expected ${expected}`);

  // A test that forgets stop() must not keep its process alive; cleanup still reaches the child.
  refChild(child, false);
  return {
    port, url, instance, kubeconfig, workDir, dataDir: dir, token: kc.token, ca: kc.ca, pid: child.pid!,
    logs: () => out,
    stop: () => stopChild(tracked, 15_000),
    kill9: async () => {
      if (!exited(child)) child.kill('SIGKILL');
      await waitExit(child, 10_000);
      live.delete(tracked);
    },
    running: () => !exited(child),
  };
}

/** A Target from a kubeconfig written by a server the harness did not start (the image test). */
export function connect(kubeconfig: string, workDir: string): Target {
  const kc = readKubeconfig(kubeconfig);
  const url = new URL(kc.server);
  if (url.hostname !== '127.0.0.1') throw new Error(`${kubeconfig}: server ${kc.server} is not on 127.0.0.1`);
  mkdirSync(workDir, { recursive: true });
  return { url: kc.server, port: Number(url.port || 443), token: kc.token, ca: kc.ca, kubeconfig, workDir };
}

// ---- processes ----------------------------------------------------------------------------

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** Runs a program to completion; never throws for a non-zero exit (code null: killed by timeout). */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd ?? repoRoot,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      stderr += `\n[harness] ${cmd} killed after ${timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); fail(new Error(`cannot run ${cmd}: ${e.message}`)); });
    child.once('close', (code) => { clearTimeout(timer); ok({ code, stdout, stderr }); });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

function failure(cmd: string, args: string[], r: RunResult): string {
  return `${cmd} ${args.join(' ')} exited with ${r.code}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
}

/** The docker CLI against the same engine the server uses. */
export function docker(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('docker', args, opts);
}

// ---- kubectl / helm -----------------------------------------------------------------------

/** Where the kubectl binary of a version lives on this machine, or undefined. */
export function kubectlPath(version: KubectlVersion): string | undefined {
  const candidates = [join(binDir, `kubectl-${version}`), join(sdkBin, `kubectl.${version}`)];
  return candidates.find((p) => existsSync(p));
}

/** kubectl versions runnable here, oldest first. */
export function availableKubectlVersions(): KubectlVersion[] {
  return kubectlVersions.filter((v) => kubectlPath(v));
}

function clientEnv(home: string): Record<string, string | undefined> {
  mkdirSync(home, { recursive: true });
  const env: Record<string, string | undefined> = { ...process.env, HOME: home };
  delete env.KUBECONFIG;
  delete env.KUBECACHEDIR;
  return env;
}

export interface ClientOptions {
  input?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** kubectl against the server, with its own discovery cache per server and version. */
export function kubectl(
  server: Target, args: string[], opts: ClientOptions & { version?: KubectlVersion } = {},
): Promise<RunResult> {
  const version = opts.version ?? '1.35';
  const bin = kubectlPath(version);
  if (!bin) throw new Error(`kubectl ${version} is not on this machine (run scripts/test-env.sh)`);
  const home = join(server.workDir, `kubectl-${version}`);
  const env = { ...clientEnv(home), ...opts.env };
  const all = ['--kubeconfig', server.kubeconfig, '--cache-dir', join(home, 'cache'), ...args];
  return run(bin, all, { input: opts.input, timeoutMs: opts.timeoutMs, env });
}

/** kubectl that throws (with stderr and stdout) unless it exits 0. */
export async function kubectlOk(
  server: Target, args: string[], opts: ClientOptions & { version?: KubectlVersion } = {},
): Promise<RunResult> {
  const r = await kubectl(server, args, opts);
  if (r.code !== 0) throw new Error(failure(`kubectl ${opts.version ?? '1.35'}`, args, r));
  return r;
}

/** helm 3 (3.16) or 4 (4.1) against the server; its config, cache and data stay per server. */
export function helm(server: Target, args: string[], opts: ClientOptions & { version?: 3 | 4 } = {}): Promise<RunResult> {
  const version = opts.version ?? 4;
  const bin = join(binDir, `helm-${version}`);
  if (!existsSync(bin)) throw new Error(`${bin} missing (run scripts/test-env.sh)`);
  const home = join(server.workDir, `helm-${version}`);
  const env = {
    ...clientEnv(home),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    ...opts.env,
  };
  return run(bin, ['--kubeconfig', server.kubeconfig, ...args], { input: opts.input, timeoutMs: opts.timeoutMs, env });
}

/** helm that throws unless it exits 0. */
export async function helmOk(server: Target, args: string[], opts: ClientOptions & { version?: 3 | 4 } = {}): Promise<RunResult> {
  const r = await helm(server, args, opts);
  if (r.code !== 0) throw new Error(failure(`helm ${opts.version ?? 4}`, args, r));
  return r;
}

/** A KubeConfig of the official JavaScript client, loaded from the server's kubeconfig. */
export function kubeClient(server: Target): KubeConfig {
  // Loaded on first use: it costs ~400 ms and ~70 MB, and most e2e files never need it.
  const k8s = createRequire(import.meta.url)('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(server.kubeconfig);
  return kc;
}

// ---- raw HTTPS ----------------------------------------------------------------------------

export interface RequestOptions {
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Content-Type of the body; application/json unless given. */
  contentType?: string;
  /** Bearer token; the server's by default, null for none. */
  token?: string | null;
  timeoutMs?: number;
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the response says JSON and parses; the text otherwise. */
  body: any;
  text: string;
}

function send(server: Target, method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    payload = Buffer.isBuffer(opts.body) ? opts.body
      : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    headers['content-type'] = opts.contentType ?? 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const token = opts.token === undefined ? server.token : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return new Promise((ok, fail) => {
    const req = https.request({
      host: '127.0.0.1', port: server.port, method, path, headers, ca: server.ca, agent: false,
      timeout: opts.timeoutMs ?? 30_000,
    }, ok);
    req.once('timeout', () => req.destroy(new Error(`${method} ${path}: no response within ${opts.timeoutMs ?? 30_000} ms`)));
    req.once('error', fail);
    req.end(payload);
  });
}

/** One HTTPS request to the server, trusting its CA, with its bearer token. */
export async function request(server: Target, method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const res = await send(server, method, path, opts);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let body: any = text;
  if (/json/.test(String(res.headers['content-type'] ?? ''))) {
    try { body = JSON.parse(text); } catch { /* not one JSON document (a watch stream): keep the text */ }
  }
  return { status: res.statusCode!, headers: res.headers, body, text };
}

export interface Stream {
  status: number;
  headers: IncomingHttpHeaders;
  /** Lines as they arrive (watch events, followed logs); one shared iterator, nothing lost. */
  lines: AsyncIterable<string>;
  close(): void;
}

/** A request whose response is read as it streams (watch, logs with follow=true). */
export async function openStream(server: Target, path: string, opts: RequestOptions & { method?: string } = {}): Promise<Stream> {
  const res = await send(server, opts.method ?? 'GET', path, { timeoutMs: 0, ...opts });
  res.setEncoding('utf8');
  // The iterator is made now: readline drops lines that arrive before one exists, and a test
  // usually makes its changes before it starts reading.
  const it = createInterface({ input: res, crlfDelay: Infinity })[Symbol.asyncIterator]();
  return {
    status: res.statusCode!,
    headers: res.headers,
    lines: { [Symbol.asyncIterator]: () => it },
    close: () => res.destroy(),
  };
}

// ---- small helpers ------------------------------------------------------------------------

let nameSeq = 0;
/** A fresh DNS-1123 name, unique across parallel test processes and reruns. */
export function uniqueName(prefix = 't'): string {
  const p = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 't';
  const tag = `${Date.now().toString(36).slice(-4)}${process.pid.toString(36)}${(++nameSeq).toString(36)}`;
  return `${p}-${tag}`.slice(0, 63).replace(/-+$/, '');
}

/** Polls fn until it returns a truthy value (returned), or throws after timeoutMs. */
export async function waitFor<T>(
  fn: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${opts.what ?? 'condition'} (last: ${why})`);
    }
    await new Promise((ok) => setTimeout(ok, opts.intervalMs ?? 250));
  }
}
