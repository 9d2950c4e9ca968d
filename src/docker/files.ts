// configMap, secret, downwardAPI and projected volume contents, written into Docker named volumes
// through the pod's running sandbox, and rewritten live the way kubelet's AtomicWriter does it:
//
//   <volume>/..2024_05_01_12_00_00.123456789/<files>   one directory per version
//   <volume>/..data -> ..2024_05_01_12_00_00.123456789
//   <volume>/<key>  -> ..data/<key>                       what the application opens
//
// A new version is unpacked beside the old one (PUT archive), then `..data_tmp` -> new is renamed
// over `..data`: rename(2) is atomic, so a reader sees the old set or the new set, never a mix.
// The engine API cannot rename or delete, so those two steps exec the sandbox's own /pause
// program (pause-elf.ts: `r SRC DST`, `u PATH...`). A directory is deleted by unpacking an empty
// file over it (the engine replaces it whole) and unlinking that file.
//
// Only the engine API is used (no host path is touched), so this works unchanged when the
// translator itself runs in a container with nothing but the engine socket, and on secret
// volumes (tmpfs kept mounted by the sandbox, so data never reaches a disk).
import { constants } from 'node:os';
import { randomInt } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Engine } from './engine.ts';
import { exec } from './exec.ts';
import { inspect } from './containers.ts';
import { dial, EngineError, isNotFound, readAll } from './http.ts';
import { PAUSE_PATH } from './sandbox.ts';
import { packTar, unpackTar, type TarEntry } from './tar.ts';

/** One entry of a volume, as translate/'s FileSpec (without its volume name). */
export interface VolumeFile {
  /** relative to the volume root; '' is the root itself (directories only) */
  path: string;
  content: Buffer;
  mode: number;
  dir?: boolean;
  /** create only when absent; never change an existing one */
  ifMissing?: boolean;
  gid?: number;
}

/** A running container of the sandbox image that has the volume mounted at `path`. */
export interface VolumeTarget { container: string; path: string }

const DATA = '..data';
const DATA_TMP = '..data_tmp';

function checkPath(p: string): void {
  const parts = p.split('/');
  // kubelet's AtomicWriter rules: relative, no '..' element, must not start with '..'
  if (!p || p.startsWith('/') || parts.some((x) => x === '' || x === '.' || x === '..') || p.startsWith('..')) {
    throw new Error(`invalid volume file path ${JSON.stringify(p)}`);
  }
}

function errnoName(code: number): string {
  const name = Object.entries(constants.errno).find(([, v]) => v === code)?.[0];
  return name ? `${name} (${code})` : `exit status ${code}`;
}

/** Runs `/pause <args>` in the target as root. */
async function pauseOp(engine: Engine, container: string, args: string[]): Promise<void> {
  const s = await exec(engine, container, { cmd: [PAUSE_PATH, ...args], user: '0' });
  s.stdout.resume();
  s.stderr.resume();
  const code = await s.exitCode;
  if (code !== 0) {
    const what = args[0] === 'r' ? `rename ${args[1]} -> ${args[2]}` : `unlink ${args.slice(1).join(' ')}`;
    throw new Error(`${what} in container ${container.slice(0, 12)} failed: ${errnoName(code)}`);
  }
}

async function putArchive(engine: Engine, container: string, path: string, entries: TarEntry[]): Promise<void> {
  await dial(engine, {
    method: 'PUT', path: `/containers/${encodeURIComponent(container)}/archive`, query: { path }, file: packTar(entries), ok: [200],
  });
}

type Listed = ReturnType<typeof unpackTar>[number];

/** Everything below `path` in the container, names relative to it. */
async function listTree(engine: Engine, container: string, path: string): Promise<Listed[]> {
  const res = await dial<Readable>(engine, { method: 'GET', path: `/containers/${encodeURIComponent(container)}/archive`, query: { path }, stream: true, ok: [200] });
  const out: Listed[] = [];
  for (const e of unpackTar(await readAll(res))) {
    // The archive's first element is the directory's own name.
    const i = e.name.indexOf('/');
    if (i < 0) continue;
    out.push({ ...e, name: e.name.slice(i + 1) });
  }
  return out;
}

async function exists(engine: Engine, container: string, path: string): Promise<boolean> {
  try {
    const res = await dial<Readable>(engine, { method: 'HEAD', path: `/containers/${encodeURIComponent(container)}/archive`, query: { path }, stream: true, ok: [200] });
    res.resume();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function timestampDir(now = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const t = `${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}`;
  return `..${t}.${randomInt(0, 1e9).toString().padStart(9, '0')}`;
}

const locks = new Map<string, Promise<unknown>>();

/** One writer per volume at a time: a second call waits for the first. */
function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const next = prev.catch(() => {}).then(fn);
  locks.set(key, next);
  const clear = () => { if (locks.get(key) === next) locks.delete(key); };
  next.then(clear, clear);
  return next;
}

function sameContent(current: Map<string, Listed>, wanted: VolumeFile[]): boolean {
  if (current.size !== wanted.length) return false;
  return wanted.every((f) => {
    const c = current.get(f.path);
    return !!c && c.type === 'file' && (c.mode & 0o7777) === (f.mode & 0o7777) && (c.gid ?? 0) === (f.gid ?? 0)
      && !!c.content && c.content.equals(f.content);
  });
}

/**
 * Makes the volume hold exactly `files` (its whole wanted content), switching atomically from
 * whatever it held. Resolves true when something changed, false when it already matched.
 */
export function writeVolumeFiles(engine: Engine, target: VolumeTarget, files: VolumeFile[]): Promise<boolean> {
  for (const f of files) {
    if (f.dir) throw new Error(`writeVolumeFiles: ${JSON.stringify(f.path)} is a directory entry; use ensureVolumeDirs`);
    checkPath(f.path);
  }
  const root = target.path.replace(/\/+$/, '');
  return serialized(`${target.container}:${root}`, async () => {
    // A stopped sandbox has unmounted its tmpfs volumes (secrets would land on disk) and cannot
    // run the swap: refuse before writing anything.
    const c = await inspect(engine, target.container);
    if (!c?.State.Running) throw new EngineError(409, 'Conflict', `container ${target.container} is not running: volume files are written through a running sandbox`, 409);
    const tree = await listTree(engine, target.container, root);
    const top = new Map<string, Listed>();
    for (const e of tree) if (!e.name.includes('/')) top.set(e.name, e);
    const dataLink = top.get(DATA);
    // Only a version directory we made counts; anything else `..data` names is left to `stale`.
    const oldDir = dataLink?.type === 'symlink' && top.get(dataLink.linkname ?? '')?.type === 'dir' ? dataLink.linkname : undefined;
    const wantedTop = new Set(files.map((f) => f.path.split('/')[0]));
    const current = new Map<string, Listed>();
    if (oldDir) {
      for (const e of tree) {
        if (e.name.startsWith(`${oldDir}/`) && e.type !== 'dir') current.set(e.name.slice(oldDir.length + 1), e);
      }
    }
    const linksOk = [...wantedTop].every((n) => top.get(n)?.type === 'symlink' && top.get(n)?.linkname === `${DATA}/${n}`);
    const stale = [...top.keys()].filter((n) => n !== DATA && n !== oldDir && !wantedTop.has(n));
    if (oldDir && linksOk && stale.length === 0 && sameContent(current, files)) return false;

    const ts = timestampDir();
    const mtime = Math.floor(Date.now() / 1000);
    const entries: TarEntry[] = [{ name: ts, type: 'dir', mode: 0o755, mtime }];
    const dirs = new Set<string>();
    for (const f of files) {
      const parts = f.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!dirs.has(d)) { dirs.add(d); entries.push({ name: `${ts}/${d}`, type: 'dir', mode: 0o755, mtime }); }
      }
      entries.push({ name: `${ts}/${f.path}`, type: 'file', mode: f.mode, content: f.content, gid: f.gid, mtime });
    }
    entries.push({ name: DATA_TMP, type: 'symlink', mode: 0o777, linkname: ts, mtime });
    for (const n of wantedTop) {
      const e = top.get(n);
      if (!(e?.type === 'symlink' && e.linkname === `${DATA}/${n}`)) entries.push({ name: n, type: 'symlink', mode: 0o777, linkname: `${DATA}/${n}`, mtime });
    }
    await putArchive(engine, target.container, root, entries);
    await pauseOp(engine, target.container, ['r', `${root}/${DATA_TMP}`, `${root}/${DATA}`]);

    // The old version and whatever is no longer projected; kubelet's order: links, then data.
    const gone = [...stale.filter((n) => n !== DATA_TMP), ...(oldDir ? [oldDir] : [])];
    if (gone.length) {
      const dirsToFlatten = gone.filter((n) => top.get(n)?.type === 'dir');
      if (dirsToFlatten.length) {
        await putArchive(engine, target.container, root, dirsToFlatten.map((n) => ({ name: n, type: 'file', mode: 0o600, content: Buffer.alloc(0) })));
      }
      await pauseOp(engine, target.container, ['u', ...gone.map((n) => `${root}/${n}`)]);
    }
    return true;
  });
}

/**
 * Directory entries of emptyDir and claim volumes (the root's mode, subPath directories):
 * plain writes, no versioning. `ifMissing` ones are left alone when present.
 */
export async function ensureVolumeDirs(engine: Engine, target: VolumeTarget, dirs: VolumeFile[]): Promise<void> {
  const root = target.path.replace(/\/+$/, '');
  const slash = root.lastIndexOf('/');
  if (slash < 0) throw new Error(`ensureVolumeDirs: ${JSON.stringify(target.path)} is not an absolute path`);
  // Unpacked from the parent, so that the volume's own root is an entry too (the engine skips `.`).
  const parent = root.slice(0, slash) || '/';
  const base = root.slice(slash + 1);
  const mtime = Math.floor(Date.now() / 1000);
  const entries: TarEntry[] = [];
  for (const d of dirs) {
    if (!d.dir) throw new Error(`ensureVolumeDirs: ${JSON.stringify(d.path)} is not a directory entry`);
    if (d.path !== '') checkPath(d.path);
    if (d.ifMissing && await exists(engine, target.container, d.path ? `${root}/${d.path}` : root)) continue;
    entries.push({ name: d.path ? `${base}/${d.path}` : base, type: 'dir', mode: d.mode, gid: d.gid, mtime });
  }
  if (entries.length) await putArchive(engine, target.container, parent, entries);
}

/**
 * All of a pod's volume entries through its sandbox, where volume V is mounted at `${root}/V`
 * (translate's SANDBOX_VOLUME_ROOT). `projected` names the volumes written atomically as a whole
 * (configMap, secret, downwardAPI, projected), also when they have no entries now; every other
 * volume only gets its directory entries. Resolves with the volumes whose content changed.
 */
export async function writePodVolumes(
  engine: Engine, sandbox: string, root: string, files: Array<VolumeFile & { volume: string }>, projected: Iterable<string>,
): Promise<string[]> {
  const atomic = new Set(projected);
  const byVolume = new Map<string, VolumeFile[]>();
  for (const v of atomic) byVolume.set(v, []);
  for (const f of files) {
    const list = byVolume.get(f.volume) ?? [];
    list.push(f);
    byVolume.set(f.volume, list);
  }
  const changed: string[] = [];
  await Promise.all([...byVolume].map(async ([volume, list]) => {
    const target = { container: sandbox, path: `${root.replace(/\/+$/, '')}/${volume}` };
    if (atomic.has(volume)) {
      if (await writeVolumeFiles(engine, target, list)) changed.push(volume);
    } else {
      await ensureVolumeDirs(engine, target, list);
    }
  }));
  return changed.sort();
}
