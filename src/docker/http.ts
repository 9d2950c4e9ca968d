// Requests to the engine through dockerode's modem (which knows DOCKER_HOST, TLS and the socket),
// and the mapping of its failures to the Status a client sees.
//
// dockerode's own methods send their options as query AND body (a create body ends up in the
// URL) and buffer logs unless followed, so the operations here call modem.dial directly with
// `_query` and `_body`; `_body: {}` is how the modem is told to send no body at all.
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ApiError, serviceUnavailable } from '../machinery/errors.ts';
import type { Engine } from './engine.ts';

/** An engine failure as a client sees it; `engineStatus` is the engine's HTTP code (0: unreachable). */
export class EngineError extends ApiError {
  constructor(code: number, reason: string, message: string, readonly engineStatus: number) {
    super(code, reason, message, code === 503 ? { retryAfterSeconds: 1 } : undefined);
  }
}

/** `POST /containers/create` found the name taken; `existingId` is the holder when the engine says. */
export class NameConflictError extends EngineError {
  constructor(readonly containerName: string, readonly existingId: string | undefined, message: string) {
    super(409, 'AlreadyExists', message, 409);
  }
}

const UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN', 'ECONNABORTED']);

interface ModemError extends Error { statusCode?: number; json?: unknown; code?: string }

/** The engine's own message text (`No such container: x`), without the modem's decoration. */
export function engineMessage(err: unknown): string {
  const e = err as ModemError;
  const j = e?.json as { message?: string } | string | Buffer | undefined;
  if (j && typeof j === 'object' && !Buffer.isBuffer(j) && typeof j.message === 'string') return j.message.trim();
  if (typeof j === 'string' && j.trim()) return j.trim();
  if (Buffer.isBuffer(j) && j.length) return j.toString('utf8').trim();
  return (e?.message ?? String(err)).replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

export function isUnreachable(err: unknown): boolean {
  const e = err as ModemError;
  if (err instanceof EngineError) return err.engineStatus === 0;
  return !!e && e.statusCode === undefined && (UNREACHABLE.has(e.code ?? '') || /socket hang up/.test(e.message ?? ''));
}

export function isNotFound(err: unknown): boolean {
  return err instanceof EngineError ? err.engineStatus === 404 : (err as ModemError)?.statusCode === 404;
}

export function isAbort(err: unknown): boolean {
  const name = (err as Error)?.name;
  return name === 'AbortError' || name === 'TimeoutError' || (err as ModemError)?.code === 'ABORT_ERR';
}

/** Any failure of an engine call -> EngineError (an ApiError). Aborts pass through untouched. */
export function toEngineError(err: unknown): Error {
  if (err instanceof ApiError || isAbort(err)) return err as Error;
  const status = (err as ModemError)?.statusCode;
  const msg = engineMessage(err);
  if (status === undefined) {
    if (isUnreachable(err)) {
      const s = serviceUnavailable(`the Docker engine is not reachable: ${msg}`);
      return new EngineError(503, s.reason, s.message, 0);
    }
    return new EngineError(500, 'InternalError', `Internal error occurred: ${msg}`, 0);
  }
  switch (status) {
    case 400: return new EngineError(400, 'BadRequest', msg, status);
    case 401: return new EngineError(401, 'Unauthorized', msg, status);
    case 403: return new EngineError(403, 'Forbidden', msg, status);
    case 404: return new EngineError(404, 'NotFound', msg, status);
    case 409: return new EngineError(409, 'Conflict', msg, status);
    default: return new EngineError(500, 'InternalError', `Internal error occurred: ${msg}`, status);
  }
}

export interface DialOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** without query string */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body */
  body?: object;
  /** raw body (a tar archive) */
  file?: Buffer | Readable;
  /** status codes that are success; default 200, 201, 204 */
  ok?: number[];
  /** resolve with the response stream instead of its parsed body */
  stream?: boolean;
  /** X-Registry-Auth */
  auth?: object;
  signal?: AbortSignal;
}

interface Modem {
  dial(opts: Record<string, unknown>, cb: (err: ModemError | null, data: unknown) => void): void;
}

function dialOptions(o: DialOptions, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const statusCodes: Record<number, boolean> = {};
  for (const c of o.ok ?? [200, 201, 204]) statusCodes[c] = true;
  const query: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) query[k] = v;
  const d: Record<string, unknown> = {
    path: `${o.path}?`, method: o.method, statusCodes, isStream: !!o.stream,
    options: { _query: query, _body: o.body ?? {} }, ...extra,
  };
  if (o.file) d.file = o.file;
  if (o.auth) d.authconfig = o.auth;
  if (o.signal) d.abortSignal = o.signal;
  return d;
}

/** One engine call; failures arrive as EngineError. */
export function dial<T = any>(engine: Engine, o: DialOptions): Promise<T> {
  const modem = engine.docker.modem as unknown as Modem;
  return new Promise<T>((ok, fail) => {
    modem.dial(dialOptions(o), (err, data) => (err ? fail(toEngineError(err)) : ok(data as T)));
  });
}

/**
 * A hijacked connection (exec start, attach): the engine answers 101 and the socket then carries
 * the raw streams both ways. The modem ends the request at once, so whatever stdin we write
 * arrives after the upgrade.
 */
export function hijack(engine: Engine, o: DialOptions): Promise<Socket> {
  const modem = engine.docker.modem as unknown as Modem;
  return new Promise<Socket>((ok, fail) => {
    modem.dial(dialOptions(o, { hijack: true }), (err, data) => (err ? fail(toEngineError(err)) : ok(data as Socket)));
  });
}

/** Reads a whole response stream. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Objects we create must be traceable to one translator instance (cleanup, restart). */
export function requireInstanceLabel(labels: Record<string, string> | undefined, what: string): void {
  if (!labels?.['k2d.io/instance']) throw new Error(`${what}: the k2d.io/instance label is required`);
}
