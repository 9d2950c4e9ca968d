// exec and attach: negotiates the client's stream protocol and hands the caller one
// protocol-neutral ExecSession. Served: WebSocket v5.channel.k8s.io / v4.channel.k8s.io
// (kubectl 1.30+, the JavaScript client) and SPDY/3.1 with v4.channel.k8s.io (older kubectl, and
// newer kubectl's fallback).
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { Readable, Writable, type Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { badRequest, internalError } from '../../machinery/errors.ts';
import { CLOSE, ERROR, RESIZE, ResizeParser, STDERR, STDIN, STDOUT, V4, V5, encodeChannel, type TerminalSize } from './channel.ts';
import { SpdySession, type SpdyStream } from './spdy-session.ts';
import {
  acceptSpdy, acceptWebSocket, isSpdyUpgrade, isWebSocketUpgrade, offeredSpdyProtocols,
  offeredWebSocketProtocols, pickProtocol, rejectUpgrade,
} from './upgrade.ts';

export type { TerminalSize } from './channel.ts';

export interface ExecOptions { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }

export type ExecResult = { exitCode: number } | { error: string };

export interface ExecSession {
  /** The client's stdin; ends when the client closes it (v5 close signal, SPDY FIN) or leaves. */
  stdin?: Readable;
  stdout?: Writable;
  /** Absent with tty: the terminal merges stderr into stdout. */
  stderr?: Writable;
  /** Emits 'resize' with a TerminalSize each time the client's terminal changes (tty only). */
  resize?: EventEmitter<{ resize: [TerminalSize] }>;
  /** Ends the session: flushes stdout/stderr, writes the Status, closes. Idempotent. */
  finish(result: ExecResult): void;
  /** Settles when the connection is gone (client left, or after finish). */
  closed: Promise<void>;
  /** The negotiated protocol, e.g. `v5.channel.k8s.io` or `SPDY/3.1 v4.channel.k8s.io`. */
  protocol: string;
}

/** Exec, attach and their query parameters, read as the apiserver reads them. */
export interface StreamQuery extends ExecOptions { command: string[]; container?: string }

const WS_SERVED = [V5, V4] as const;
const SPDY_SERVED = [V4] as const;
// kubelet's streamCreationTimeout: the client opens all its SPDY streams right after the 101.
const STREAM_CREATION_TIMEOUT_MS = 30_000;

function goBool(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False', ''].includes(v)) return false;
  throw badRequest(`strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/** Reads exec/attach query parameters (`command` repeats). Throws ApiError 400 when no stream
 * is asked for. With tty, stderr is dropped, as kubelet does. */
export function parseStreamQuery(url: string | URL, opts: { requireCommand?: boolean } = {}): StreamQuery {
  const q = (typeof url === 'string' ? new URL(url, 'http://x') : url).searchParams;
  const stdin = goBool(q.get('stdin')) ?? false;
  const stdout = goBool(q.get('stdout')) ?? false;
  const stderrAsked = goBool(q.get('stderr')) ?? false;
  const tty = goBool(q.get('tty')) ?? false;
  const command = q.getAll('command');
  if (!stdin && !stdout && !stderrAsked) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (opts.requireCommand && command.length === 0) throw badRequest('you must specify at least one command for the container');
  return { command, container: q.get('container') || undefined, stdin, stdout, stderr: stderrAsked && !tty, tty };
}

/** The Status written on the error channel; client-go turns NonZeroExitCode into the exit code. */
export function execStatus(result: ExecResult): Record<string, unknown> {
  if ('error' in result) return internalError(result.error).toStatus() as unknown as Record<string, unknown>;
  if (result.exitCode === 0) return { metadata: {}, status: 'Success' };
  // client-go parses the cause as an 8-bit unsigned number.
  const code = ((result.exitCode % 256) + 256) % 256 || 1;
  return {
    metadata: {}, status: 'Failure',
    message: `command terminated with non-zero exit code: ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** How a session reaches the client, whatever the protocol. */
interface Transport {
  /** Resolves when more may be sent; silently drops data once the client is gone. */
  send(channel: number, data: Buffer): Promise<void>;
  endChannel(channel: number): Promise<void>;
  close(): void;
}

function endWritable(w: Writable | undefined): Promise<void> {
  if (!w || w.writableFinished || w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    w.once('finish', resolve);
    w.once('close', resolve);
    if (!w.writableEnded) w.end();
  });
}

/** stdout/stderr as handed to the caller. Output that races finish() is dropped: a write after
 * end() would otherwise destroy the stream, and with it output still queued before the end. */
class OutputStream extends Writable {
  override write(chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    if (this.writableEnded || this.destroyed) {
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return false;
    }
    return super.write(chunk, encoding as BufferEncoding, cb as (err?: Error | null) => void);
  }
}

/** The protocol-neutral half: the streams handed to the caller, fed by a Transport. */
class Core {
  readonly session: ExecSession;
  private stdinStream?: Readable;
  private resizeEvents?: EventEmitter<{ resize: [TerminalSize] }>;
  private finished = false;
  private gone!: () => void;
  /** Called when the caller wants more stdin (undo a pause of the transport). */
  onStdinDrained: () => void = () => {};

  constructor(opts: ExecOptions, private t: Transport, protocol: string) {
    const closed = new Promise<void>((resolve) => { this.gone = resolve; });
    if (opts.stdin) this.stdinStream = new Readable({ highWaterMark: 256 * 1024, read: () => this.onStdinDrained() });
    if (opts.tty) this.resizeEvents = new EventEmitter();
    const out = (channel: number) => {
      const w = new OutputStream({
        write: (chunk: Buffer, _enc, cb) => { t.send(channel, chunk).then(() => cb(), () => cb()); },
        final: (cb) => { t.endChannel(channel).then(() => cb(), () => cb()); },
      });
      w.on('error', () => {});
      return w;
    };
    this.session = {
      stdin: this.stdinStream,
      stdout: opts.stdout ? out(STDOUT) : undefined,
      stderr: opts.stderr && !opts.tty ? out(STDERR) : undefined,
      resize: this.resizeEvents,
      finish: (r) => { void this.finish(r); },
      closed,
      protocol,
    };
  }

  /** Returns false when the transport should pause until onStdinDrained. */
  stdin(data: Buffer): boolean {
    const s = this.stdinStream;
    if (!s || s.readableEnded || s.destroyed || !data.length) return true;
    return s.push(data);
  }

  stdinEnd(): void {
    const s = this.stdinStream;
    if (s && !s.readableEnded && !s.destroyed) s.push(null);
  }

  resize(size: TerminalSize): void {
    this.resizeEvents?.emit('resize', size);
  }

  clientGone(): void {
    this.stdinEnd();
    this.finished = true;
    this.gone();
  }

  private async finish(result: ExecResult): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await Promise.all([endWritable(this.session.stdout), endWritable(this.session.stderr)]);
    await this.t.send(ERROR, Buffer.from(JSON.stringify(execStatus(result))));
    await this.t.endChannel(ERROR);
    this.t.close();
  }
}

/**
 * Serves an exec or attach upgrade request. The caller has authenticated the request and
 * checked the pod; `opts` come from the query (see parseStreamQuery). `run` is called once the
 * client's streams are ready; a request that is no upgrade, or offers no protocol served here,
 * is answered with an error and `run` is never called.
 */
export function handleExecUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, opts: ExecOptions,
  run: (s: ExecSession) => void): void {
  const o = { ...opts, stderr: opts.stderr && !opts.tty };
  if (isWebSocketUpgrade(req)) {
    const protocol = pickProtocol(offeredWebSocketProtocols(req), WS_SERVED);
    if (!protocol) {
      rejectUpgrade(socket, badRequest(`unable to upgrade: requested protocol(s) are not supported: `
        + `[${offeredWebSocketProtocols(req).join(' ')}]; supports [${WS_SERVED.join(' ')}]`));
      return;
    }
    acceptWebSocket(req, socket, head, protocol, (ws) => run(webSocketExec(ws, protocol, o)));
    return;
  }
  if (isSpdyUpgrade(req)) {
    const offered = offeredSpdyProtocols(req);
    const protocol = pickProtocol(offered, SPDY_SERVED);
    if (!protocol) {
      rejectUpgrade(socket, {
        code: 403,
        message: `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${SPDY_SERVED.join(' ')}]`,
      }, { 'X-Accepted-Stream-Protocol-Versions': SPDY_SERVED.join(', ') });
      return;
    }
    acceptSpdy(socket, protocol);
    spdyExec(socket, head, protocol, o, run);
    return;
  }
  rejectUpgrade(socket, badRequest('Upgrade request required'));
}

function webSocketExec(ws: WebSocket, protocol: string, opts: ExecOptions): ExecSession {
  const t: Transport = {
    send: (channel, data) => new Promise((resolve) => {
      if (ws.readyState !== ws.OPEN) { resolve(); return; }
      ws.send(encodeChannel(channel, data), () => resolve());
    }),
    // Closing a channel ([255, n]) is client-to-server only: kubectl logs an error for each.
    endChannel: () => Promise.resolve(),
    close: () => { if (ws.readyState === ws.OPEN) ws.close(1000); },
  };
  const core = new Core(opts, t, protocol);
  core.onStdinDrained = () => { if (ws.isPaused) ws.resume(); };
  const sizes = new ResizeParser();
  ws.on('message', (msg: Buffer, isBinary: boolean) => {
    if (!isBinary || msg.length === 0) return;
    const data = msg.subarray(1);
    switch (msg[0]) {
      case STDIN:
        if (!core.stdin(data)) ws.pause();
        break;
      case RESIZE:
        for (const s of sizes.push(data)) core.resize(s);
        break;
      case CLOSE:
        if (protocol === V5 && data[0] === STDIN) core.stdinEnd();
        break;
      default:
        break;
    }
  });
  ws.on('close', () => core.clientGone());
  // As kubelet does: an empty message on the lowest writable channel tells clients that wait
  // for it that the streams are open.
  void t.send(opts.stdout ? STDOUT : opts.stderr ? STDERR : ERROR, Buffer.alloc(0));
  return core.session;
}

const CHANNEL_OF: Record<string, number> = { stdin: STDIN, stdout: STDOUT, stderr: STDERR, error: ERROR, resize: RESIZE };

function spdyExec(socket: Duplex, head: Buffer, protocol: string, opts: ExecOptions, run: (s: ExecSession) => void): void {
  const session = new SpdySession(socket);
  const streams = new Map<number, SpdyStream>();
  const expected = [ERROR];
  if (opts.stdin) expected.push(STDIN);
  if (opts.stdout) expected.push(STDOUT);
  if (opts.stderr) expected.push(STDERR);
  if (opts.tty) expected.push(RESIZE);
  let core: Core | undefined;
  const timer = setTimeout(() => session.goaway(), STREAM_CREATION_TIMEOUT_MS);
  timer.unref();

  const t: Transport = {
    send: (channel, data) => new Promise((resolve) => {
      const s = streams.get(channel);
      if (!s || s.destroyed || s.writableEnded) { resolve(); return; }
      s.write(data, () => resolve());
    }),
    endChannel: (channel) => endWritable(streams.get(channel)),
    close: () => {
      void Promise.all([...streams.values()].map(endWritable)).then(() => session.goaway());
    },
  };

  session.on('stream', (s) => {
    s.on('error', () => {});
    const channel = CHANNEL_OF[s.headers.streamtype ?? ''];
    if (channel === undefined || streams.has(channel) || core) { s.reset(); return; }
    streams.set(channel, s);
    if (expected.every((c) => streams.has(c))) start();
  });

  // Wiring waits for the last stream: client-go opens them all before it copies any data.
  const start = () => {
    clearTimeout(timer);
    const c = new Core(opts, t, `SPDY/3.1 ${protocol}`);
    core = c;
    for (const [channel, s] of streams) {
      if (channel === STDIN) {
        c.onStdinDrained = () => s.resume();
        s.on('data', (d: Buffer) => { if (!c.stdin(d)) s.pause(); });
        s.on('end', () => c.stdinEnd());
        s.on('close', () => c.stdinEnd());
      } else if (channel === RESIZE) {
        const sizes = new ResizeParser();
        s.on('data', (d: Buffer) => { for (const size of sizes.push(d)) c.resize(size); });
      } else {
        // The client sends nothing here, but its FIN must be read for the stream to end.
        s.resume();
      }
    }
    run(c.session);
  };
  session.on('close', () => { clearTimeout(timer); core?.clientGone(); });
  session.start(head);
}

