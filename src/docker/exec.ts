// exec and attach over the engine's hijacked connection: after the 101 the socket carries stdin
// one way and stdout/stderr the other (multiplexed without a TTY, raw with one). Ending stdin
// half-closes the socket, which is how `cat` and friends see EOF while their output still flows.
import type { Socket } from 'node:net';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { inspect, wait } from './containers.ts';
import type { Engine } from './engine.ts';
import { dial, EngineError, hijack, isAbort, isNotFound } from './http.ts';
import { FrameParser } from './mux.ts';

export interface ExecOptions {
  cmd: string[];
  stdin?: boolean;
  tty?: boolean;
  env?: string[];
  /** default: the container's user */
  user?: string;
  workingDir?: string;
}

export interface Session<Exit> {
  /** present when stdin was asked for; end() delivers EOF */
  stdin?: Writable;
  /** with a TTY everything arrives here */
  stdout: Readable;
  /** with a TTY: empty, ended together with stdout */
  stderr: Readable;
  /** terminal size (TTY only); never rejects, a failed resize is only a cosmetic loss */
  resize(width: number, height: number): Promise<void>;
  exitCode: Promise<Exit>;
  /** tears the connection down (the client went away) */
  close(): void;
}

/** An exec session; exitCode is the command's exit status. */
export type ExecSession = Session<number> & { id: string };
/** exitCode: the container's exit status once it stopped, undefined when only the stream ended (detach). */
export type AttachSession = Session<number | undefined>;

interface Plumbing { stdin?: Writable; stdout: PassThrough; stderr: PassThrough; ended: Promise<void>; close(): void }

/** `halfClose`: the end of stdin half-closes the connection (EOF for the process). */
function plumb(socket: Socket, tty: boolean, withStdin: boolean, halfClose = true): Plumbing {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let paused = false;
  const write = (out: PassThrough, data: Buffer) => {
    if (!out.write(data) && !paused) {
      paused = true;
      socket.pause();
      out.once('drain', () => { paused = false; socket.resume(); });
    }
  };
  const parser = tty ? undefined : new FrameParser((s, payload) => write(s === 2 ? stderr : stdout, payload));
  socket.on('data', (chunk: Buffer) => (parser ? parser.push(chunk) : write(stdout, chunk)));
  const ended = new Promise<void>((ok) => {
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      stdout.end();
      stderr.end();
      ok();
    };
    socket.once('end', end);
    socket.once('close', end);
    // A reset connection ends the output; the exit code (from the engine) says what happened.
    socket.on('error', end);
  });
  let stdin: Writable | undefined;
  if (withStdin) {
    stdin = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (socket.destroyed || socket.writableEnded) return cb();
        socket.write(chunk, () => cb());
      },
      final(cb) {
        if (halfClose && !socket.destroyed && !socket.writableEnded) socket.end();
        cb();
      },
    });
  }
  return { stdin, stdout, stderr, ended, close: () => socket.destroy() };
}

function quiet<T>(p: Promise<T>): Promise<T> {
  // The caller may never read it; an unobserved rejection must not end the process.
  p.catch(() => {});
  return p;
}

async function resizeQuietly(engine: Engine, path: string, width: number, height: number): Promise<void> {
  if (!(width > 0 && height > 0)) return;
  try {
    await dial(engine, { method: 'POST', path, query: { w: Math.floor(width), h: Math.floor(height) } });
  } catch { /* the process may have ended meanwhile */ }
}

/** Runs a command in a running container (409 EngineError when it is not running). */
export async function exec(engine: Engine, containerId: string, opts: ExecOptions): Promise<ExecSession> {
  const tty = !!opts.tty;
  const withStdin = !!opts.stdin;
  const body: Record<string, unknown> = {
    AttachStdin: withStdin, AttachStdout: true, AttachStderr: true, Tty: tty, Cmd: opts.cmd,
  };
  if (opts.env) body.Env = opts.env;
  if (opts.user) body.User = opts.user;
  if (opts.workingDir) body.WorkingDir = opts.workingDir;
  const { Id: id } = await dial<{ Id: string }>(engine, { method: 'POST', path: `/containers/${encodeURIComponent(containerId)}/exec`, body });
  const socket = await hijack(engine, { method: 'POST', path: `/exec/${id}/start`, body: { Detach: false, Tty: tty }, ok: [101, 200] });
  const p = plumb(socket, tty, withStdin);
  const exitCode = quiet(p.ended.then(() => execExitCode(engine, id)));
  return {
    id, stdin: p.stdin, stdout: p.stdout, stderr: p.stderr, exitCode, close: p.close,
    resize: (w, h) => resizeQuietly(engine, `/exec/${id}/resize`, w, h),
  };
}

async function execExitCode(engine: Engine, id: string): Promise<number> {
  // The stream can end a moment before the engine records the exit: a short, bounded wait.
  for (let i = 0; ; i++) {
    const r = await dial<{ Running: boolean; ExitCode: number | null }>(engine, { method: 'GET', path: `/exec/${id}/json` });
    if (!r.Running && r.ExitCode !== null) return r.ExitCode;
    if (i >= 50) throw new EngineError(500, 'InternalError', `Internal error occurred: exec ${id} still running after its streams closed`, 0);
    await new Promise((ok) => setTimeout(ok, 20));
  }
}

/** Attaches to a running container's main process (stdin only if the container keeps it open). */
export async function attach(engine: Engine, containerId: string, opts: { stdin?: boolean; tty?: boolean } = {}): Promise<AttachSession> {
  const withStdin = !!opts.stdin;
  const path = `/containers/${encodeURIComponent(containerId)}`;
  const socket = await hijack(engine, {
    method: 'POST', path: `${path}/attach`, ok: [101, 200],
    query: { stream: true, stdin: withStdin, stdout: true, stderr: true },
  });
  // The engine subscribes to the container's output before it answers, so a container running
  // now ends the stream when it exits. One that stopped before would hold the stream open until
  // its next start: refuse, as the CRI does, and the client falls back to the logs.
  const now = await inspect(engine, containerId).catch(() => undefined);
  if (!now?.State?.Running) {
    socket.destroy();
    throw new EngineError(409, 'Conflict', `container ${containerId} is not running`, 409);
  }
  const tty = opts.tty ?? !!now.Config?.Tty;
  // The engine ends an attach's output when its stdin ends, unless the container closes its
  // stdin after one attach (StdinOnce, no TTY): elsewhere the end of the client's stdin is kept
  // from the engine, so that the output flows until the process exits, as a kubelet's attach does.
  const p = plumb(socket, tty, withStdin, !!now.Config?.StdinOnce && !tty);
  // The stream ends just before the engine records the exit, or on a detach while the process
  // runs on: a short wait tells the two apart.
  const exitCode = quiet(p.ended.then(async () => {
    try {
      return (await wait(engine, containerId, { signal: AbortSignal.timeout(2000) })).exitCode;
    } catch (err) {
      if (isAbort(err) || isNotFound(err)) return undefined;
      throw err;
    }
  }));
  return {
    stdin: p.stdin, stdout: p.stdout, stderr: p.stderr, exitCode, close: p.close,
    resize: (w, h) => resizeQuietly(engine, `${path}/resize`, w, h),
  };
}
