// The few tar archives the engine API wants (build contexts, putArchive) and the listings it
// returns (getArchive). ustar with PAX records for long names: what Go's archive/tar reads and
// writes, so it round-trips with the engine. Small archives only: everything is in memory.

export interface TarEntry {
  /** relative path; directories may end in '/' */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  content?: Buffer;
  /** symlink target */
  linkname?: string;
  uid?: number;
  gid?: number;
  /** seconds since the epoch */
  mtime?: number;
}

const BLOCK = 512;

function octal(buf: Buffer, off: number, len: number, value: number): void {
  buf.write(value.toString(8).padStart(len - 1, '0') + '\0', off, len, 'ascii');
}

function paxRecord(key: string, value: string): string {
  // The length prefix counts itself, so grow it until it is stable.
  const body = ` ${key}=${value}\n`;
  let n = Buffer.byteLength(body);
  while (String(n).length + Buffer.byteLength(body) !== n) n = String(n).length + Buffer.byteLength(body);
  return `${n}${body}`;
}

function header(e: { name: string; typeflag: string; mode: number; size: number; linkname?: string; uid?: number; gid?: number; mtime?: number }): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(e.name, 0, 100, 'utf8');
  octal(h, 100, 8, e.mode & 0o7777);
  octal(h, 108, 8, e.uid ?? 0);
  octal(h, 116, 8, e.gid ?? 0);
  octal(h, 124, 12, e.size);
  octal(h, 136, 12, e.mtime ?? 0);
  h.fill(' ', 148, 156);
  h.write(e.typeflag, 156, 1, 'ascii');
  if (e.linkname) h.write(e.linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest ? [data, Buffer.alloc(BLOCK - rest)] : [data];
}

export function packTar(entries: TarEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    let name = e.name;
    if (e.type === 'dir' && !name.endsWith('/')) name += '/';
    const content = e.type === 'file' ? e.content ?? Buffer.alloc(0) : Buffer.alloc(0);
    const long = Buffer.byteLength(name) > 99 || Buffer.byteLength(e.linkname ?? '') > 99;
    if (long) {
      const pax = Buffer.from(paxRecord('path', name) + (e.linkname ? paxRecord('linkpath', e.linkname) : ''));
      out.push(header({ name: 'PaxHeader', typeflag: 'x', mode: 0o644, size: pax.length }), ...padded(pax));
    }
    const typeflag = e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0';
    out.push(header({
      name: long ? name.slice(0, 99) : name, typeflag, mode: e.mode, size: content.length,
      linkname: long ? e.linkname?.slice(0, 99) : e.linkname, uid: e.uid, gid: e.gid, mtime: e.mtime,
    }));
    if (content.length) out.push(...padded(content));
  }
  out.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(out);
}

function cstr(buf: Buffer, off: number, len: number): string {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

function num(buf: Buffer, off: number, len: number): number {
  // GNU base-256 for values octal cannot hold.
  if (buf[off] & 0x80) {
    let v = buf[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + buf[off + i];
    return v;
  }
  const s = cstr(buf, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.toString('ascii', i, sp), 10);
    if (!(len > 0)) break;
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Entries of an archive; other types (devices, fifos, hard links) come back as type 'other'. */
export function unpackTar(buf: Buffer): Array<Omit<TarEntry, 'type'> & { type: TarEntry['type'] | 'other' }> {
  const out: Array<Omit<TarEntry, 'type'> & { type: TarEntry['type'] | 'other' }> = [];
  let off = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = num(h, 124, 12);
    const typeflag = String.fromCharCode(h[156] || 0x30);
    const data = buf.subarray(off + BLOCK, off + BLOCK + size);
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x') { pax = parsePax(data); continue; }
    if (typeflag === 'g') continue;
    if (typeflag === 'L') { longName = cstr(data, 0, data.length); continue; }
    if (typeflag === 'K') { longLink = cstr(data, 0, data.length); continue; }
    const prefix = h.toString('ascii', 257, 262) === 'ustar' ? cstr(h, 345, 155) : '';
    let name = pax.path ?? longName ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100));
    const linkname = pax.linkpath ?? longLink ?? cstr(h, 157, 100);
    pax = {}; longName = undefined; longLink = undefined;
    const type = typeflag === '0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'dir' : typeflag === '2' ? 'symlink' : 'other';
    if (type === 'dir') name = name.replace(/\/+$/, '');
    out.push({
      name, type, mode: num(h, 100, 8), uid: num(h, 108, 8), gid: num(h, 116, 8), mtime: num(h, 136, 12),
      content: type === 'file' ? Buffer.from(data) : undefined, linkname: type === 'symlink' ? linkname : undefined,
    });
  }
  return out;
}
