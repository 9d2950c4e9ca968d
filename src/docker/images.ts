// Images: presence, ids, and pulls with the credentials of a pod's imagePullSecrets, matched to
// the image's registry the way kubelet's credential keyring matches them.
import type { KObject } from '../machinery/types.ts';
import type { Engine } from './engine.ts';
import { dial, engineMessage, isAbort, isNotFound, isUnreachable } from './http.ts';

export const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const HUB_SERVER = 'https://index.docker.io/v1/';

export interface ImageRef {
  /** registry host[:port]; `docker.io` for Docker Hub */
  registry: string;
  /** repository path inside the registry (`library/busybox`) */
  path: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const DOMAIN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

/** Docker's reference grammar with its defaults (docker.io, library/); undefined when invalid. */
export function parseImageRef(ref: string): ImageRef | undefined {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  let registry = DOCKER_HUB;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN.test(first)) return undefined;
      registry = HUB_ALIASES.has(first) ? DOCKER_HUB : first;
      rest = rest.slice(slash + 1);
    }
  }
  if (!rest || rest.length > 255 || !rest.split('/').every((c) => COMPONENT.test(c))) return undefined;
  if (registry === DOCKER_HUB && !rest.includes('/')) rest = `library/${rest}`;
  return { registry, path: rest, tag, digest };
}

/** `registry/path:tag` or `registry/path@digest`, with `latest` when neither is given. */
export function canonicalRef(r: ImageRef): string {
  return `${r.registry}/${r.path}${r.digest ? `@${r.digest}` : `:${r.tag ?? 'latest'}`}`;
}

// ---- credentials ----------------------------------------------------------------------------

/** X-Registry-Auth as the engine reads it. */
export interface RegistryAuth {
  username?: string; password?: string; email?: string; serveraddress?: string;
  identitytoken?: string; registrytoken?: string;
}

interface ConfigEntry { username?: string; password?: string; auth?: string; email?: string; identitytoken?: string; registrytoken?: string }

/** Entries of a `kubernetes.io/dockerconfigjson` or legacy `kubernetes.io/dockercfg` Secret, keyed by registry as written. */
export function parsePullSecret(secret: KObject): Array<{ key: string; auth: RegistryAuth }> {
  const data = (secret.data ?? {}) as Record<string, string>;
  let entries: Record<string, ConfigEntry> | undefined;
  try {
    if (data['.dockerconfigjson'] !== undefined) {
      entries = (JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8')) as { auths?: Record<string, ConfigEntry> }).auths;
    } else if (data['.dockercfg'] !== undefined) {
      entries = JSON.parse(Buffer.from(data['.dockercfg'], 'base64').toString('utf8')) as Record<string, ConfigEntry>;
    }
  } catch {
    return []; // kubelet, too, skips a secret it cannot read
  }
  const out: Array<{ key: string; auth: RegistryAuth }> = [];
  for (const [key, e] of Object.entries(entries ?? {})) {
    if (!e || typeof e !== 'object') continue;
    const auth: RegistryAuth = {};
    let { username, password } = e;
    if (e.auth) {
      // `auth` is base64("user:password") and wins, as in kubelet's DockerConfigEntry.
      const plain = Buffer.from(e.auth, 'base64').toString('utf8');
      const i = plain.indexOf(':');
      if (i >= 0) { username = plain.slice(0, i); password = plain.slice(i + 1); }
    }
    if (username !== undefined) auth.username = username;
    if (password !== undefined) auth.password = password;
    if (e.email) auth.email = e.email;
    if (e.identitytoken) auth.identitytoken = e.identitytoken;
    if (e.registrytoken) auth.registrytoken = e.registrytoken;
    out.push({ key, auth });
  }
  return out;
}

interface KeyMatch { host: string; port: string; path: string }

/** A keyring key (`https://index.docker.io/v1/`, `reg.io:5000/team`, `*.reg.io`) as host, port and path. */
function parseKey(key: string): KeyMatch | undefined {
  let k = key.trim().replace(/^[a-z]+:\/\//i, '');
  if (!k) return undefined;
  const slash = k.indexOf('/');
  let path = slash >= 0 ? k.slice(slash) : '';
  k = slash >= 0 ? k.slice(0, slash) : k;
  // The docker client treats /v1/ and /v2/ as the bare host.
  if (/^\/v[12]\//.test(path) || path === '/v1' || path === '/v2') path = path.slice(3);
  path = path.replace(/^\/+|\/+$/g, '');
  const m = /^(.*?)(?::(\d+))?$/.exec(k)!;
  let host = m[1].toLowerCase();
  if (HUB_ALIASES.has(host)) host = DOCKER_HUB;
  return { host, port: m[2] ?? '', path };
}

function globLabel(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]')}$`);
  return re.test(s);
}

function keyMatches(k: KeyMatch, image: ImageRef): boolean {
  const m = /^(.*?)(?::(\d+))?$/.exec(image.registry)!;
  const host = m[1].toLowerCase();
  const port = m[2] ?? '';
  if (port !== k.port) return false;
  const hl = host.split('.');
  const kl = k.host.split('.');
  if (hl.length !== kl.length || !kl.every((p, i) => globLabel(p, hl[i]))) return false;
  // kubelet compares paths as plain string prefixes; Docker Hub's implicit `library/` is part of the path.
  return image.path.startsWith(k.path);
}

/**
 * The credentials to try for an image, most specific registry key first, from all of a pod's
 * imagePullSecrets. Empty: pull anonymously.
 */
export function credentialsFor(image: string, secrets: KObject[]): RegistryAuth[] {
  const ref = parseImageRef(image);
  if (!ref) return [];
  const matches: Array<{ k: KeyMatch; auth: RegistryAuth }> = [];
  for (const s of secrets) {
    for (const { key, auth } of parsePullSecret(s)) {
      const k = parseKey(key);
      if (k && keyMatches(k, ref)) matches.push({ k, auth });
    }
  }
  matches.sort((a, b) => (b.k.host.length + b.k.path.length) - (a.k.host.length + a.k.path.length));
  const out: RegistryAuth[] = [];
  const seen = new Set<string>();
  for (const { auth } of matches) {
    const full = { ...auth, serveraddress: ref.registry === DOCKER_HUB ? HUB_SERVER : ref.registry };
    const sig = JSON.stringify(full);
    if (!seen.has(sig)) { seen.add(sig); out.push(full); }
  }
  return out;
}

// ---- engine ---------------------------------------------------------------------------------

export interface ImageInfo {
  Id: string; RepoTags: string[]; RepoDigests: string[];
  /** Config.User: '' means root */
  User: string;
  Size: number;
}

export async function inspectImage(engine: Engine, ref: string): Promise<ImageInfo | undefined> {
  try {
    const i = await dial(engine, { method: 'GET', path: `/images/${encodeURIComponent(ref)}/json` });
    return { Id: i.Id, RepoTags: i.RepoTags ?? [], RepoDigests: i.RepoDigests ?? [], User: i.Config?.User ?? '', Size: i.Size ?? 0 };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function imagePresent(engine: Engine, ref: string): Promise<boolean> {
  return (await inspectImage(engine, ref)) !== undefined;
}

/** The image id (sha256:...), or undefined when the engine does not have the image. */
export async function resolveImageId(engine: Engine, ref: string): Promise<string | undefined> {
  return (await inspectImage(engine, ref))?.Id;
}

export type PullFailure = 'NotFound' | 'Unauthorized' | 'InvalidImageName' | 'Failed' | 'Unreachable';
export type PullResult =
  | { ok: true; imageId: string }
  /** message: the engine's own text (what kubelet shows after `Failed to pull image "x": `) */
  | { ok: false; reason: PullFailure; message: string };

/** What a pull error message means; 'Failed' covers everything else (network, disk, timeouts). */
export function classifyPullError(message: string): Exclude<PullFailure, 'Unreachable'> {
  if (/invalid reference format/i.test(message)) return 'InvalidImageName';
  if (/repository does not exist|manifest unknown|not found|no such image|name unknown/i.test(message)) return 'NotFound';
  if (/unauthorized|authentication required|access denied|denied:|forbidden|no basic auth credentials|incorrect username or password/i.test(message)) return 'Unauthorized';
  return 'Failed';
}

async function pullOnce(engine: Engine, ref: ImageRef, auth: RegistryAuth | undefined, signal?: AbortSignal): Promise<string | undefined> {
  const stream = await dial<NodeJS.ReadableStream>(engine, {
    method: 'POST', path: '/images/create', stream: true, signal, auth: auth ?? {},
    query: { fromImage: `${ref.registry}/${ref.path}`, tag: ref.digest ?? ref.tag ?? 'latest' },
  });
  // Failures after the 200 arrive as a JSON line with `error`; the last one is the reason.
  let buf = '';
  let error: string | undefined;
  for await (const chunk of stream) {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      try {
        const m = JSON.parse(line) as { error?: string };
        if (m.error) error = m.error.trim();
      } catch { /* a progress line cut oddly: not an error */ }
    }
  }
  return error;
}

/**
 * Pulls `image` trying each credential in turn (as kubelet does; none: anonymously). Never
 * throws for a failed pull: the reason tells a missing or forbidden image from an engine that
 * cannot be reached. An abort (signal) rejects with the AbortError.
 */
export async function pull(engine: Engine, image: string, opts: { auth?: RegistryAuth[]; signal?: AbortSignal } = {}): Promise<PullResult> {
  const ref = parseImageRef(image);
  if (!ref) return { ok: false, reason: 'InvalidImageName', message: `invalid reference format: ${JSON.stringify(image)}` };
  const attempts: Array<RegistryAuth | undefined> = opts.auth?.length ? opts.auth : [undefined];
  let last: PullResult | undefined;
  for (const auth of attempts) {
    let error: string | undefined;
    try {
      error = await pullOnce(engine, ref, auth, opts.signal);
    } catch (err) {
      if (isAbort(err)) throw err;
      if (isUnreachable(err)) return { ok: false, reason: 'Unreachable', message: engineMessage(err) };
      error = engineMessage(err);
    }
    if (!error) {
      const id = await resolveImageId(engine, canonicalRef(ref));
      if (id) return { ok: true, imageId: id };
      error = `the engine reported ${canonicalRef(ref)} pulled but does not have it`;
    }
    last = { ok: false, reason: classifyPullError(error), message: error };
  }
  return last!;
}

/**
 * Image inspections remembered until the engine reports any image change (pull, tag, untag,
 * delete, load) or its event stream drops: a pod start asks about the same image several times.
 * Only found images are kept, so an image that appears is seen at once; bounded, oldest first out.
 */
export class ImageFacts {
  private known = new Map<string, ImageInfo>();
  private asking = new Map<string, Promise<ImageInfo | undefined>>();
  private generation = 0;

  constructor(private engine: Engine, private max = 64) {
    engine.on('event', (ev: { Type?: string }) => { if (ev?.Type === 'image') this.clear(); });
    engine.on('lost', () => this.clear());
  }

  clear(): void {
    this.generation++;
    this.known.clear();
    this.asking.clear();
  }

  inspect(ref: string): Promise<ImageInfo | undefined> {
    const hit = this.known.get(ref);
    if (hit) return Promise.resolve(hit);
    let p = this.asking.get(ref);
    if (p) return p;
    const gen = this.generation;
    p = inspectImage(this.engine, ref).then((info) => {
      if (gen === this.generation) {
        this.asking.delete(ref);
        if (info) {
          if (this.known.size >= this.max) this.known.delete(this.known.keys().next().value!);
          this.known.set(ref, info);
        }
      }
      return info;
    }, (err) => {
      if (gen === this.generation) this.asking.delete(ref);
      throw err;
    });
    this.asking.set(ref, p);
    return p;
  }
}
