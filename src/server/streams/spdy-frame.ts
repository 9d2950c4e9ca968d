// SPDY/3.1 frames: encoding, incremental parsing, and the zlib header codec.
// Only what Kubernetes clients (moby/spdystream inside client-go) exchange; no HTTP semantics.
import zlib from 'node:zlib';
import { spdyDictionary } from './spdy-dictionary.ts';

export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

// RST_STREAM status codes (SPDY/3 2.6.3) and GOAWAY status codes (2.6.6).
export const RST_PROTOCOL_ERROR = 1;
export const RST_INVALID_STREAM = 2;
export const RST_REFUSED_STREAM = 3;
export const RST_CANCEL = 5;
export const RST_FLOW_CONTROL_ERROR = 7;
export const GOAWAY_OK = 0;
export const GOAWAY_PROTOCOL_ERROR = 1;

export const SETTINGS_INITIAL_WINDOW_SIZE = 7;

/** Header names are lowercase on the wire; several values of one name are joined by NUL. */
export type SpdyHeaders = Record<string, string>;

export type Frame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; flags: number; headers: SpdyHeaders }
  | { type: 'syn_reply'; streamId: number; flags: number; headers: SpdyHeaders }
  | { type: 'headers'; streamId: number; flags: number; headers: SpdyHeaders }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: { id: number; flags: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number; flags: number; data: Buffer };

export class SpdyProtocolError extends Error {}

const WINDOW = 32 * 1024;
const MAX_STORED = 0xffff;

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const x of b) { a = (a + x) % 65521; s = (s + a) % 65521; }
  return ((s << 16) | a) >>> 0;
}

function lastWindow(history: Buffer, more: Buffer): Buffer {
  const all = Buffer.concat([history, more]);
  return all.length > WINDOW ? all.subarray(all.length - WINDOW) : all;
}

/**
 * SPDY compresses all header blocks of one direction as ONE zlib stream (preset with the SPDY
 * dictionary), each block ended by a sync flush, and a frame must be complete before the next
 * is read. Node has no synchronous API for a long-lived zlib stream, so:
 * - incoming blocks are inflated one by one as raw deflate, preset with the last 32 KB of what
 *   the stream produced so far (a sync flush leaves every block byte-aligned and complete);
 * - outgoing blocks are written as stored (uncompressed) deflate blocks, which any inflater
 *   reads whatever came before. Servers here send only tiny, empty SYN_REPLY headers.
 */
export class HeaderCodec {
  private inHistory?: Buffer;
  private outStarted = false;

  encode(headers: SpdyHeaders): Buffer {
    const raw = encodeHeaderBlock(headers);
    const parts: Buffer[] = [];
    if (!this.outStarted) {
      this.outStarted = true;
      // zlib header: deflate with a 32 KB window, FDICT set, then the dictionary's Adler-32.
      const head = Buffer.alloc(6);
      head[0] = 0x78;
      head[1] = 0x20 | ((31 - ((0x78 * 256 + 0x20) % 31)) % 31);
      head.writeUInt32BE(adler32(spdyDictionary()), 2);
      parts.push(head);
    }
    for (let off = 0; off < raw.length; off += MAX_STORED) {
      const piece = raw.subarray(off, off + MAX_STORED);
      parts.push(storedBlockHeader(piece.length), piece);
    }
    parts.push(storedBlockHeader(0)); // what a sync flush ends with
    return Buffer.concat(parts);
  }

  decode(block: Buffer): SpdyHeaders {
    let data = block;
    const first = this.inHistory === undefined;
    const dictionary = this.inHistory ?? spdyDictionary();
    if (first) {
      if (block.length < 2 || (block[0] & 0x0f) !== 8 || (block[0] * 256 + block[1]) % 31 !== 0) {
        throw new SpdyProtocolError('header block is not a zlib stream');
      }
      data = block.subarray(2);
      if (block[1] & 0x20) {
        if (block.length < 6 || block.readUInt32BE(2) !== adler32(dictionary)) {
          throw new SpdyProtocolError('header block uses another zlib dictionary');
        }
        data = block.subarray(6);
      }
    }
    let raw: Buffer;
    try {
      raw = zlib.inflateRawSync(data, { dictionary, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch (err) {
      throw new SpdyProtocolError(`header decompression failed: ${(err as Error).message}`);
    }
    this.inHistory = lastWindow(dictionary, raw);
    return decodeHeaderBlock(raw);
  }
}

function storedBlockHeader(length: number): Buffer {
  // BFINAL=0, BTYPE=00 (stored), padded to the byte; then LEN and its one's complement.
  const b = Buffer.alloc(5);
  b.writeUInt16LE(length, 1);
  b.writeUInt16LE(~length & 0xffff, 3);
  return b;
}

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(raw: Buffer): SpdyHeaders {
  const out: SpdyHeaders = {};
  let off = 0;
  const need = (n: number) => {
    if (off + n > raw.length) throw new SpdyProtocolError('truncated header block');
  };
  need(4);
  const count = raw.readUInt32BE(off); off += 4;
  for (let i = 0; i < count; i++) {
    need(4);
    const nl = raw.readUInt32BE(off); off += 4;
    need(nl);
    const name = raw.toString('utf8', off, off + nl).toLowerCase(); off += nl;
    need(4);
    const vl = raw.readUInt32BE(off); off += 4;
    need(vl);
    const value = raw.toString('utf8', off, off + vl); off += vl;
    out[name] = name in out ? `${out[name]}\0${value}` : value;
  }
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt16BE(0x8003, 0); // control bit + version 3
  b.writeUInt16BE(type, 2);
  b.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  payload.copy(b, 8);
  return b;
}

export function encodeData(streamId: number, data: Buffer, fin = false): Buffer {
  const b = Buffer.alloc(8 + data.length);
  b.writeUInt32BE(streamId & 0x7fffffff, 0);
  b.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24 | data.length) >>> 0, 4);
  data.copy(b, 8);
  return b;
}

export function encodeSynStream(codec: HeaderCodec, streamId: number, headers: SpdyHeaders,
  opts: { fin?: boolean; unidirectional?: boolean; priority?: number; associatedId?: number } = {}): Buffer {
  const head = Buffer.alloc(10);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE((opts.associatedId ?? 0) & 0x7fffffff, 4);
  head[8] = ((opts.priority ?? 0) & 7) << 5;
  const flags = (opts.fin ? FLAG_FIN : 0) | (opts.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
  return control(SYN_STREAM, flags, Buffer.concat([head, codec.encode(headers)]));
}

export function encodeSynReply(codec: HeaderCodec, streamId: number, headers: SpdyHeaders = {}, fin = false): Buffer {
  return control(SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId & 0x7fffffff), codec.encode(headers)]));
}

export function encodeHeaders(codec: HeaderCodec, streamId: number, headers: SpdyHeaders, fin = false): Buffer {
  return control(HEADERS, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId & 0x7fffffff), codec.encode(headers)]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return control(RST_STREAM, 0, Buffer.concat([u32(streamId & 0x7fffffff), u32(status)]));
}

export function encodeSettings(entries: { id: number; value: number; flags?: number }[], flags = 0): Buffer {
  const parts = [u32(entries.length)];
  for (const e of entries) parts.push(u32(((e.flags ?? 0) << 24 | (e.id & 0xffffff)) >>> 0), u32(e.value));
  return control(SETTINGS, flags, Buffer.concat(parts));
}

export function encodePing(id: number): Buffer {
  return control(PING, 0, u32(id));
}

export function encodeGoaway(lastStreamId: number, status = GOAWAY_OK): Buffer {
  return control(GOAWAY, 0, Buffer.concat([u32(lastStreamId & 0x7fffffff), u32(status)]));
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  return control(WINDOW_UPDATE, 0, Buffer.concat([u32(streamId & 0x7fffffff), u32(delta & 0x7fffffff)]));
}

/** Turns a byte stream into frames; bytes of an unfinished frame wait for the next push. */
export class FrameParser {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private codec: HeaderCodec, private maxFrame = 16 << 20) {}

  push(chunk: Buffer): Frame[] {
    if (chunk.length) { this.chunks.push(chunk); this.buffered += chunk.length; }
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 8) break;
      const head = this.peek(8);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (length > this.maxFrame) throw new SpdyProtocolError(`frame of ${length} bytes is too large`);
      if (this.buffered < 8 + length) break;
      const whole = this.take(8 + length);
      frames.push(this.decode(whole));
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const first = this.peek(n);
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }

  private decode(f: Buffer): Frame {
    const flags = f[4];
    const body = f.subarray(8);
    if (!(f[0] & 0x80)) {
      return { type: 'data', streamId: f.readUInt32BE(0) & 0x7fffffff, flags, data: body };
    }
    const version = f.readUInt16BE(0) & 0x7fff;
    if (version !== 3) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
    const type = f.readUInt16BE(2);
    const need = (n: number) => {
      if (body.length < n) throw new SpdyProtocolError(`control frame ${type} too short`);
    };
    const id31 = (off: number) => body.readUInt32BE(off) & 0x7fffffff;
    switch (type) {
      case SYN_STREAM:
        need(10);
        return {
          type: 'syn_stream', streamId: id31(0), associatedId: id31(4), priority: body[8] >> 5, flags,
          headers: this.codec.decode(body.subarray(10)),
        };
      case SYN_REPLY:
        need(4);
        return { type: 'syn_reply', streamId: id31(0), flags, headers: this.codec.decode(body.subarray(4)) };
      case HEADERS:
        need(4);
        return { type: 'headers', streamId: id31(0), flags, headers: this.codec.decode(body.subarray(4)) };
      case RST_STREAM:
        need(8);
        return { type: 'rst_stream', streamId: id31(0), status: body.readUInt32BE(4) };
      case SETTINGS: {
        need(4);
        const n = body.readUInt32BE(0);
        need(4 + n * 8);
        const entries = [];
        for (let i = 0; i < n; i++) {
          const w = body.readUInt32BE(4 + i * 8);
          entries.push({ flags: w >>> 24, id: w & 0xffffff, value: body.readUInt32BE(8 + i * 8) });
        }
        return { type: 'settings', flags, entries };
      }
      case PING:
        need(4);
        return { type: 'ping', id: body.readUInt32BE(0) };
      case GOAWAY:
        need(4);
        return { type: 'goaway', lastStreamId: id31(0), status: body.length >= 8 ? body.readUInt32BE(4) : 0 };
      case WINDOW_UPDATE:
        need(8);
        return { type: 'window_update', streamId: id31(0), delta: id31(4) };
      default:
        return { type: 'unknown', frameType: type, flags, data: body };
    }
  }
}
