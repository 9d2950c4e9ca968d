// The pod sandbox image, built on the engine itself from bytes we carry: no registry, no base
// image, no compiler. See pause-elf.ts for the program.
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Engine } from './engine.ts';
import { dial } from './http.ts';
import { pauseArch, pauseElf } from './pause-elf.ts';
import { packTar } from './tar.ts';

export const SANDBOX_REPOSITORY = 'k2d/pause';
/** The program inside the sandbox image. */
export const PAUSE_PATH = '/pause';

// SIGKILL: the pause process is PID 1 and has no handler, so the kernel would ignore SIGTERM and
// every stop would wait out its whole timeout. 65535: the user Kubernetes' own pause runs as;
// files.ts runs its exec calls as root explicitly.
const DOCKERFILE = `FROM scratch
COPY pause ${PAUSE_PATH}
USER 65535:65535
STOPSIGNAL SIGKILL
ENTRYPOINT ["${PAUSE_PATH}"]
`;

/** The tar build context: Dockerfile and the program. */
export function sandboxContext(binary: Buffer): Buffer {
  return packTar([
    { name: 'Dockerfile', type: 'file', mode: 0o644, content: Buffer.from(DOCKERFILE) },
    { name: 'pause', type: 'file', mode: 0o755, content: binary },
  ]);
}

/** The tag for this binary: content-addressed, so a changed program never reuses an old image. */
export function sandboxTag(binary: Buffer): string {
  const h = createHash('sha256').update(DOCKERFILE).update(binary).digest('hex').slice(0, 12);
  return `${SANDBOX_REPOSITORY}:${h}`;
}

export interface SandboxImageOptions {
  /** another tag (tests) */
  tag?: string;
  /** more image labels (tests: k2d.test=1) */
  labels?: Record<string, string>;
}

/**
 * The argv after PAUSE_PATH for the sandbox program's TCP balancer: listen on `port` and relay
 * each connection to the next backend in turn. The program parses only decimal numbers, so each
 * IPv4 address goes as one number in host order (10.0.0.5 -> 167772165). With no backends the
 * program exits 2: do not start it then.
 */
export function listenArgs(port: number, backends: Array<{ ip: string; port: number }>): string[] {
  const out = ['l', portArg(port)];
  for (const b of backends) {
    if (!isIPv4(b.ip)) throw new Error(`not an IPv4 address: ${JSON.stringify(b.ip)}`);
    out.push(String(b.ip.split('.').reduce((n, o) => n * 256 + Number(o), 0)), portArg(b.port));
  }
  return out;
}

function portArg(port: number): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`not a TCP port: ${port}`);
  return String(port);
}

const building = new WeakMap<Engine, Map<string, Promise<string>>>();

/**
 * Builds the sandbox image once per engine (images are shared by every translator instance on
 * it, so they carry k2d.io/component=pause, not an instance label) and returns its tag.
 */
export function ensureSandboxImage(engine: Engine, opts: SandboxImageOptions = {}): Promise<string> {
  let m = building.get(engine);
  if (!m) building.set(engine, (m = new Map()));
  const key = opts.tag ?? '';
  let p = m.get(key);
  if (!p) {
    p = build(engine, opts);
    m.set(key, p);
    p.catch(() => m!.delete(key));
  }
  return p;
}

async function build(engine: Engine, opts: SandboxImageOptions): Promise<string> {
  const version = await dial<{ Arch?: string }>(engine, { method: 'GET', path: '/version' });
  const arch = pauseArch(version.Arch ?? '');
  if (!arch) throw new Error(`no sandbox program for engine architecture ${JSON.stringify(version.Arch)} (have amd64, arm64, arm)`);
  const binary = pauseElf(arch);
  const tag = opts.tag ?? sandboxTag(binary);
  try {
    await dial(engine, { method: 'GET', path: `/images/${encodeURIComponent(tag)}/json` });
    return tag;
  } catch (err) {
    if ((err as { engineStatus?: number }).engineStatus !== 404) throw err;
  }
  const labels = { 'k2d.io/component': 'pause', ...opts.labels };
  const stream = await dial<NodeJS.ReadableStream>(engine, {
    method: 'POST', path: '/build', stream: true, file: sandboxContext(binary),
    query: { t: tag, labels: JSON.stringify(labels), rm: true, forcerm: true, q: true },
  });
  // The build reports failure inside a 200 stream, as a JSON line with `error`.
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let msg: { error?: string };
    try { msg = JSON.parse(line); } catch { continue; }
    if (msg.error) throw new Error(`building ${tag}: ${msg.error.trim()}`);
  }
  return tag;
}
