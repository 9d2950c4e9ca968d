// The server end of a SPDY/3.1 session over any byte duplex (a TLS socket after a 101, or a
// WebSocket carrying SPDY). Clients open every stream; each arrives as a SpdyStream (a Duplex)
// on the 'stream' event, already answered with SYN_REPLY, which spdystream's CreateStream waits for.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import {
  FrameParser, HeaderCodec, SpdyProtocolError, type Frame, type SpdyHeaders,
  encodeData, encodeGoaway, encodePing, encodeRstStream, encodeSynReply, encodeWindowUpdate,
  FLAG_FIN, FLAG_UNIDIRECTIONAL, GOAWAY_OK, GOAWAY_PROTOCOL_ERROR,
  RST_CANCEL, RST_PROTOCOL_ERROR, RST_REFUSED_STREAM, SETTINGS_INITIAL_WINDOW_SIZE,
} from './spdy-frame.ts';

const DEFAULT_WINDOW = 64 * 1024;
const MAX_DATA_FRAME = 64 * 1024;
// Acknowledging received bytes in batches keeps WINDOW_UPDATE traffic small; half the window
// leaves the peer room to keep sending meanwhile.
const ACK_THRESHOLD = 32 * 1024;
// How long a peer gets to close its end after our GOAWAY before the socket is dropped.
const CLOSE_GRACE_MS = 5000;

export class SpdyStream extends Duplex {
  readonly headers: SpdyHeaders;
  /** Set when either side reset the stream; nothing more is sent on it. */
  wasReset = false;
  sendWindow: number;
  unacked = 0;
  finSent = false;
  finReceived = false;

  constructor(private session: SpdySession, readonly id: number, headers: SpdyHeaders,
    readonly unidirectional: boolean, initialWindow: number) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024 });
    this.headers = headers;
    this.sendWindow = initialWindow;
    // Nothing may be sent on a unidirectional stream, so its writable side is born finished.
    if (unidirectional) this.finSent = true;
  }

  override _read(): void {
    this.session.acknowledge(this, true);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.session.sendData(this, chunk, false).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.finSent || this.wasReset) { cb(); return; }
    this.session.sendData(this, Buffer.alloc(0), true).then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.session.forget(this, !(this.finSent && this.finReceived));
    cb(err);
  }

  /** Sends RST_STREAM and drops the stream. */
  reset(): void {
    if (this.destroyed) return;
    this.destroy();
  }
}

export interface SpdySessionEvents {
  stream: [SpdyStream];
  close: [];
}

export class SpdySession extends EventEmitter<SpdySessionEvents> {
  private codec = new HeaderCodec();
  private parser = new FrameParser(this.codec);
  private streams = new Map<number, SpdyStream>();
  private lastStreamId = 0;
  private carrierBlocked = false;
  private waiters: (() => void)[] = [];
  private sendWindow = DEFAULT_WINDOW;
  private initialSendWindow = DEFAULT_WINDOW;
  private sessionUnacked = 0;
  // spdystream (every Kubernetes client) neither sends WINDOW_UPDATE nor honours it: holding
  // to the 64 KB window would stall any large transfer. A peer that does take part in flow
  // control says so with a WINDOW_UPDATE or an INITIAL_WINDOW_SIZE setting; from then on the
  // windows (counted from the start) are respected.
  private flowControlled = false;
  /** We sent GOAWAY. */
  private goingAway = false;
  /** The peer sent GOAWAY: it opens no more streams. */
  private peerGoingAway = false;
  private pausedBy = new Set<SpdyStream>();
  /** The peer broke the protocol: nothing more it sends is read. */
  private failed = false;
  closed = false;

  constructor(private carrier: Duplex) {
    super();
    carrier.on('drain', () => { this.carrierBlocked = false; this.wake(); });
    carrier.on('end', () => this.destroy());
    carrier.on('close', () => this.destroy());
    carrier.on('error', () => this.destroy());
  }

  /** Starts reading, after the caller's 'stream' listener is in place; `head` is what the
   * HTTP server read past the upgrade request. */
  start(head?: Buffer): void {
    if (head?.length) this.receive(head);
    this.carrier.on('data', (chunk: Buffer) => this.receive(chunk));
  }

  /** Ends the session politely: GOAWAY, then the carrier is ended once written. */
  goaway(status = GOAWAY_OK): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.write(encodeGoaway(this.lastStreamId, status));
    this.carrier.end();
    setTimeout(() => this.destroy(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) { s.wasReset = true; s.destroy(); }
    this.streams.clear();
    this.wake();
    this.carrier.destroy();
    this.emit('close');
  }

  private write(frame: Buffer): void {
    if (this.closed) return;
    if (!this.carrier.write(frame)) this.carrierBlocked = true;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Sends data on a stream, split into frames, as the carrier (and windows, if any) allow.
   * Resolves without error when the stream or session is gone: the data has nowhere to go. */
  async sendData(s: SpdyStream, data: Buffer, fin: boolean): Promise<void> {
    if (!data.length && !fin) return;
    let off = 0;
    do {
      if (this.closed || s.wasReset || s.finSent) return;
      const room = this.flowControlled ? Math.min(s.sendWindow, this.sendWindow) : Infinity;
      if (this.carrierBlocked || (off < data.length && room <= 0)) { await this.changed(); continue; }
      const n = Math.min(data.length - off, MAX_DATA_FRAME, room);
      const last = off + n >= data.length;
      this.write(encodeData(s.id, data.subarray(off, off + n), fin && last));
      s.sendWindow -= n;
      this.sendWindow -= n;
      off += n;
      if (fin && last) { s.finSent = true; this.maybeDone(s); }
    } while (off < data.length);
  }

  /** Gives the peer back the window of bytes the stream's reader consumed. */
  acknowledge(s: SpdyStream, reading: boolean): void {
    if (reading && this.pausedBy.delete(s) && this.pausedBy.size === 0) this.carrier.resume();
    if (s.unacked >= ACK_THRESHOLD) {
      if (!s.finReceived && !s.wasReset) this.write(encodeWindowUpdate(s.id, s.unacked));
      s.unacked = 0;
    }
    this.acknowledgeSession();
  }

  private acknowledgeSession(): void {
    if (this.sessionUnacked >= ACK_THRESHOLD) {
      this.write(encodeWindowUpdate(0, this.sessionUnacked));
      this.sessionUnacked = 0;
    }
  }

  forget(s: SpdyStream, sendReset: boolean): void {
    if (this.pausedBy.delete(s) && this.pausedBy.size === 0 && !this.closed) this.carrier.resume();
    if (this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    if (sendReset && !s.wasReset && !this.closed) this.write(encodeRstStream(s.id, RST_CANCEL));
    s.wasReset ||= sendReset;
    this.wake();
  }

  private maybeDone(s: SpdyStream): void {
    if (s.finSent && s.finReceived) this.streams.delete(s.id);
  }

  private receive(chunk: Buffer): void {
    if (this.closed || this.failed) return;
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (err) {
      if (err instanceof SpdyProtocolError) { this.failed = true; this.goaway(GOAWAY_PROTOCOL_ERROR); return; }
      throw err;
    }
    for (const f of frames) {
      if (this.closed) return;
      this.handle(f);
    }
  }

  private handle(f: Frame): void {
    switch (f.type) {
      case 'syn_stream': {
        if (this.goingAway || this.peerGoingAway) { this.write(encodeRstStream(f.streamId, RST_REFUSED_STREAM)); return; }
        if (f.streamId % 2 === 0 || f.streamId <= this.lastStreamId) {
          this.write(encodeRstStream(f.streamId, RST_PROTOCOL_ERROR));
          return;
        }
        this.lastStreamId = f.streamId;
        const unidirectional = (f.flags & FLAG_UNIDIRECTIONAL) !== 0;
        const s = new SpdyStream(this, f.streamId, f.headers, unidirectional, this.initialSendWindow);
        this.streams.set(s.id, s);
        if (!unidirectional) this.write(encodeSynReply(this.codec, s.id));
        if (f.flags & FLAG_FIN) { s.finReceived = true; s.push(null); }
        this.emit('stream', s);
        return;
      }
      case 'data': {
        this.sessionUnacked += f.data.length;
        const s = this.streams.get(f.streamId);
        if (!s || s.wasReset || s.finReceived) { this.acknowledgeSession(); return; }
        if (f.data.length) {
          s.unacked += f.data.length;
          if (s.push(f.data)) this.acknowledge(s, false);
          else if (!this.pausedBy.has(s)) { this.pausedBy.add(s); this.carrier.pause(); }
        }
        if (f.flags & FLAG_FIN) { s.finReceived = true; s.push(null); this.maybeDone(s); }
        return;
      }
      case 'rst_stream': {
        const s = this.streams.get(f.streamId);
        if (s) { s.wasReset = true; s.destroy(); }
        return;
      }
      case 'settings':
        for (const e of f.entries) {
          if (e.id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          const delta = e.value - this.initialSendWindow;
          this.initialSendWindow = e.value;
          for (const s of this.streams.values()) s.sendWindow += delta;
          this.flowControlled = true;
          this.wake();
        }
        return;
      case 'window_update':
        this.flowControlled = true;
        if (f.streamId === 0) this.sendWindow += f.delta;
        else {
          const s = this.streams.get(f.streamId);
          if (s) s.sendWindow += f.delta;
        }
        this.wake();
        return;
      case 'ping':
        // Odd ids are the client's pings, to be echoed; even ones would be answers to ours.
        if (f.id % 2 === 1) this.write(encodePing(f.id));
        return;
      case 'goaway':
        this.peerGoingAway = true;
        return;
      case 'headers': {
        const s = this.streams.get(f.streamId);
        if (s) Object.assign(s.headers, f.headers);
        if (s && f.flags & FLAG_FIN && !s.finReceived) { s.finReceived = true; s.push(null); this.maybeDone(s); }
        return;
      }
      default:
        // SYN_REPLY (we open no streams) and unknown types carry nothing for a server.
        return;
    }
  }
}
