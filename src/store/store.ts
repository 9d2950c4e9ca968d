// Durable store for the objects Docker cannot hold. The registry keeps the working set in
// memory; this only makes every change survive a kill -9 or a power cut before the client
// is answered, and writes nothing while nothing changes (SD cards wear out).
//
// On disk, under <dataDir>:
//   objects/<resource>/<namespace or _>/<name>.json   one file per object
//   resourceVersion                                   counter, written only on delete
//   encryption.key                                    AES-256 key (base64) for encrypted resources
// Each object file is one JSON header line ({"v":1,"key":...}) and then the payload: the
// object's JSON, or for encrypted resources iv(12) + GCM tag(16) + ciphertext, with the
// header as additional authenticated data so a file cannot be swapped for another key's.
// The key lives in the header, so file names only need to be unique, never decoded.

import {
  closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync,
  rmdirSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { join, dirname } from 'node:path';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { KObject } from '../machinery/types.ts';

export interface ObjectStoreOptions {
  /** resources whose objects are encrypted at rest, e.g. ['secrets'] */
  encryptedResources?: string[];
  /** where corrupt or unexpected files are reported; default stderr */
  warn?: (message: string) => void;
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const CLUSTER_DIR = '_';
// Dot-files are never object files (escape() never yields a leading '.'), so anything
// starting with '.' under objects/ is a leftover temp file from a crash.
const TMP = `.k2d-tmp-${process.pid}`;
const TMP_PREFIX = '.k2d-tmp-';
const MAX_COMPONENT = 200; // bytes; NAME_MAX is 255 and names may be 253 chars before escaping
const IV_LEN = 12;
const TAG_LEN = 16;
const NL = 0x0a;

interface Header { v: 1; key: string; enc?: 'aes-256-gcm' }

export class ObjectStore {
  private readonly objectsDir: string;
  private readonly counterFile: string;
  private readonly keyFile: string;
  private readonly encrypted: Set<string>;
  private readonly warn: (message: string) => void;
  private aesKey: Buffer | undefined;
  /** key -> digest of what is on disk, to skip identical writes without reading the file */
  private digests = new Map<string, string>();
  private knownDirs = new Set<string>();
  private savedCounter = 0;
  private opened = false;

  constructor(private readonly dataDir: string, opts: ObjectStoreOptions = {}) {
    this.objectsDir = join(dataDir, 'objects');
    this.counterFile = join(dataDir, 'resourceVersion');
    this.keyFile = join(dataDir, 'encryption.key');
    this.encrypted = new Set(opts.encryptedResources ?? []);
    this.warn = opts.warn ?? ((m) => console.error(`store: ${m}`));
  }

  /** Loads every object; also the resourceVersion counter (never goes backwards, even after deletes). */
  open(): { objects: Array<{ key: string; obj: KObject }>; resourceVersion: number } {
    this.digests = new Map();
    this.knownDirs = new Set();
    this.ensureDir(this.objectsDir);
    this.removeTemps(this.dataDir, TMP_PREFIX);
    this.loadKey();
    this.savedCounter = this.readCounter();

    let rv = this.savedCounter;
    const objects: Array<{ key: string; obj: KObject }> = [];
    for (const res of subdirs(this.objectsDir)) {
      const resDir = join(this.objectsDir, res);
      for (const ns of subdirs(resDir)) {
        const nsDir = join(resDir, ns);
        this.knownDirs.add(resDir).add(nsDir);
        for (const ent of readdirSync(nsDir, { withFileTypes: true })) {
          const file = join(nsDir, ent.name);
          if (ent.name.startsWith('.')) {
            try { unlinkSync(file); } catch { /* harmless */ }
            continue;
          }
          if (!ent.isFile()) continue;
          const loaded = this.readObject(file);
          if (!loaded) continue;
          objects.push({ key: loaded.key, obj: loaded.obj });
          this.digests.set(loaded.key, loaded.digest);
          rv = Math.max(rv, rvOf(loaded.obj));
        }
      }
    }
    this.opened = true;
    return { objects, resourceVersion: rv };
  }

  /** Atomic + durable; skips the write when the stored bytes would be identical. */
  put(key: string, obj: KObject): void {
    this.assertOpen();
    const { resource } = splitKey(key);
    const json = JSON.stringify(obj);
    const enc = this.encrypted.has(resource);
    const digest = digestOf(enc, json);
    if (this.digests.get(key) === digest) return;

    const header: Header = enc ? { v: 1, key, enc: 'aes-256-gcm' } : { v: 1, key };
    const head = Buffer.from(JSON.stringify(header) + '\n');
    const payload = enc ? this.seal(head, json) : [Buffer.from(json)];
    const file = this.pathOf(key);
    this.ensureDir(dirname(file));
    writeAtomic(file, [head, ...payload]);
    this.digests.set(key, digest);
  }

  /** Removes the object and records `resourceVersion` so the counter survives the deletion of the newest object. */
  delete(key: string, resourceVersion: number): void {
    this.assertOpen();
    // Counter first: a crash between the two steps must leave the object (delete not
    // acknowledged) rather than lose the counter (resourceVersion going backwards).
    this.saveResourceVersion(resourceVersion);
    const file = this.pathOf(key);
    this.digests.delete(key);
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const dir = dirname(file);
    fsyncDir(dir);
    // An emptied namespace directory would otherwise stay forever; ENOTEMPTY is the common case.
    try {
      rmdirSync(dir);
      this.knownDirs.delete(dir);
      fsyncDir(dirname(dir));
    } catch { /* not empty */ }
  }

  /**
   * Persists the counter when it is ahead of the saved one. delete() calls it; the registry
   * may call it too for resourceVersions handed out for objects the store never sees.
   */
  saveResourceVersion(resourceVersion: number): void {
    this.assertOpen();
    if (!(resourceVersion > this.savedCounter)) return;
    writeAtomic(this.counterFile, [Buffer.from(`${resourceVersion}\n`)]);
    this.savedCounter = resourceVersion;
  }

  close(): void {
    this.digests = new Map();
    this.knownDirs = new Set();
    this.aesKey = undefined;
    this.opened = false;
  }

  /** The file that holds `key` (for tests and debugging). */
  pathOf(key: string): string {
    const { resource, namespace, name } = splitKey(key);
    return join(this.objectsDir, component(resource),
      namespace ? component(namespace) : CLUSTER_DIR, `${component(name)}.json`);
  }

  private assertOpen(): void {
    if (!this.opened) throw new Error('object store is not open');
  }

  private seal(aad: Buffer, json: string): Buffer[] {
    const iv = randomBytes(IV_LEN);
    const c = createCipheriv('aes-256-gcm', this.requireKey(), iv);
    c.setAAD(aad);
    const body = Buffer.concat([c.update(json, 'utf8'), c.final()]);
    return [iv, c.getAuthTag(), body];
  }

  private unseal(aad: Buffer, payload: Buffer): string {
    if (payload.length < IV_LEN + TAG_LEN) throw new Error('encrypted payload truncated');
    const d = createDecipheriv('aes-256-gcm', this.requireKey(), payload.subarray(0, IV_LEN));
    d.setAAD(aad);
    d.setAuthTag(payload.subarray(IV_LEN, IV_LEN + TAG_LEN));
    return Buffer.concat([d.update(payload.subarray(IV_LEN + TAG_LEN)), d.final()]).toString('utf8');
  }

  private requireKey(): Buffer {
    if (!this.aesKey) throw new Error(`no encryption key (${this.keyFile})`);
    return this.aesKey;
  }

  private loadKey(): void {
    this.aesKey = undefined;
    let text: string;
    try {
      const st = statSync(this.keyFile);
      if (st.mode & 0o077) this.warn(`${this.keyFile} is readable by others (mode ${(st.mode & 0o777).toString(8)})`);
      text = readFileSync(this.keyFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Generated only when something needs it; without it encrypted files stay unreadable.
      if (this.encrypted.size === 0) return;
      const key = randomBytes(32);
      writeAtomic(this.keyFile, [Buffer.from(key.toString('base64') + '\n')]);
      this.aesKey = key;
      return;
    }
    const key = Buffer.from(text.trim(), 'base64');
    // Never replace a bad key file: that would make every stored Secret unreadable for good.
    if (key.length !== 32) throw new Error(`${this.keyFile}: expected 32 base64-encoded bytes, got ${key.length}`);
    this.aesKey = key;
  }

  private readCounter(): number {
    let text: string;
    try {
      text = readFileSync(this.counterFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    const n = Number(text.trim());
    if (Number.isSafeInteger(n) && n >= 0) return n;
    this.warn(`${this.counterFile}: not a number, ignored`);
    return 0;
  }

  private readObject(file: string): { key: string; obj: KObject; digest: string } | undefined {
    try {
      const buf = readFileSync(file);
      const nl = buf.indexOf(NL);
      if (nl < 0) throw new Error('no header line');
      const head = buf.subarray(0, nl + 1);
      const header = JSON.parse(head.toString('utf8')) as Header;
      if (header.v !== 1 || typeof header.key !== 'string') throw new Error('unknown header');
      if (this.pathOf(header.key) !== file) throw new Error(`holds key ${header.key}, which belongs elsewhere`);
      const payload = buf.subarray(nl + 1);
      let json: string;
      if (header.enc === 'aes-256-gcm') json = this.unseal(head, payload);
      else if (header.enc === undefined) json = payload.toString('utf8');
      else throw new Error(`unknown encryption ${String(header.enc)}`);
      const obj = JSON.parse(json) as KObject;
      if (!obj || typeof obj !== 'object' || typeof obj.metadata !== 'object') throw new Error('not an object');
      return { key: header.key, obj, digest: digestOf(header.enc !== undefined, json) };
    } catch (err) {
      this.warn(`skipping ${file}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  private removeTemps(dir: string, prefix: string): void {
    for (const name of readdirSync(dir)) {
      if (name.startsWith(prefix)) try { unlinkSync(join(dir, name)); } catch { /* harmless */ }
    }
  }

  private ensureDir(dir: string): void {
    if (this.knownDirs.has(dir)) return;
    const first = mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    // New directory entries are durable only once their parents are synced.
    if (first) {
      for (let d = dir; ; d = dirname(d)) {
        fsyncDir(dirname(d));
        if (d === first || d === dirname(d)) break;
      }
    }
    this.knownDirs.add(dir);
  }
}

function splitKey(key: string): { resource: string; namespace: string; name: string } {
  const a = key.indexOf('/');
  const b = key.indexOf('/', a + 1);
  const resource = key.slice(0, a);
  const namespace = key.slice(a + 1, b);
  const name = key.slice(b + 1);
  if (a <= 0 || b < 0 || !name || name.includes('/')) throw new Error(`bad store key ${JSON.stringify(key)}`);
  return { resource, namespace, name };
}

/**
 * File-name component: lowercase letters, digits, '-' and non-leading '.' stay as they are;
 * everything else becomes %XX of its UTF-8 bytes (so case-insensitive file systems are safe
 * and nothing starts with '.'). Over-long results keep a prefix plus a hash; '~' cannot
 * appear in an escaped name, so the two forms never collide.
 */
function component(s: string): string {
  let out = '';
  for (const ch of s) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '-' || (ch === '.' && out !== '')) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  if (out.length <= MAX_COMPONENT) return out;
  return `${out.slice(0, 120)}~${createHash('sha256').update(s).digest('hex').slice(0, 40)}`;
}

function digestOf(encrypted: boolean, json: string): string {
  return (encrypted ? 'e' : 'p') + createHash('sha256').update(json).digest('base64');
}

function rvOf(obj: KObject): number {
  const n = Number(obj.metadata?.resourceVersion);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

function subdirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** Write temp, fsync, rename over the target, fsync the directory. */
function writeAtomic(file: string, chunks: Buffer[]): void {
  const dir = dirname(file);
  const tmp = join(dir, TMP);
  const fd = openSync(tmp, 'w', FILE_MODE);
  try {
    for (const chunk of chunks) {
      for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off);
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* best effort */ }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
  fsyncDir(dir);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}
