// Container logs as one byte stream: stdout and stderr interleaved in the order the engine
// recorded them, as kubelet serves pods/log.
import { PassThrough, type Readable } from 'node:stream';
import { inspect } from './containers.ts';
import type { Engine } from './engine.ts';
import { dial, EngineError } from './http.ts';
import { FrameParser } from './mux.ts';

export interface LogOptions {
  /** keep streaming until the container stops (or the returned stream is destroyed) */
  follow?: boolean;
  /** last N lines only */
  tail?: number;
  /** only entries at or after this time (Date, or seconds since the epoch, fractions allowed) */
  since?: Date | number;
  /** prefix each line with its RFC3339Nano time and a space */
  timestamps?: boolean;
  /** end the stream after this many bytes (a last line may be cut) */
  limitBytes?: number;
  /** whether the container has a TTY; looked up when not given */
  tty?: boolean;
}

function unixSeconds(t: Date | number): string {
  const ms = t instanceof Date ? t.getTime() : t * 1000;
  return (ms / 1000).toFixed(3);
}

/**
 * The container's logs. For `previous` logs the caller passes the id of the stopped container of
 * the run before. Destroying the returned stream ends the engine request (a follow included).
 */
export async function logs(engine: Engine, containerId: string, opts: LogOptions = {}): Promise<Readable> {
  let tty = opts.tty;
  if (tty === undefined) {
    const c = await inspect(engine, containerId);
    if (!c) throw new EngineError(404, 'NotFound', `No such container: ${containerId}`, 404);
    tty = c.Config.Tty;
  }
  const res = await dial<Readable>(engine, {
    method: 'GET', path: `/containers/${encodeURIComponent(containerId)}/logs`, stream: true,
    query: {
      stdout: true, stderr: true, follow: !!opts.follow, timestamps: !!opts.timestamps,
      tail: opts.tail === undefined ? 'all' : Math.max(0, Math.floor(opts.tail)),
      since: opts.since === undefined ? undefined : unixSeconds(opts.since),
    },
  });
  const out = new PassThrough();
  let left = opts.limitBytes && opts.limitBytes > 0 ? opts.limitBytes : Infinity;
  let done = false;
  let paused = false;
  const finish = () => {
    if (done) return;
    done = true;
    res.destroy();
    out.end();
  };
  const emit = (data: Buffer) => {
    if (done || !data.length) return;
    if (data.length >= left) {
      out.write(data.subarray(0, left));
      left = 0;
      finish();
      return;
    }
    left -= data.length;
    if (!out.write(data) && !paused) {
      paused = true;
      res.pause();
      out.once('drain', () => { paused = false; res.resume(); });
    }
  };
  const parser = tty ? undefined : new FrameParser((_s, payload) => emit(payload));
  res.on('data', (chunk: Buffer) => (parser ? parser.push(chunk) : emit(chunk)));
  res.once('end', finish);
  // A connection cut by the engine ends the logs: the caller sees a short stream, never an
  // 'error' event nobody listens to.
  res.once('close', finish);
  res.on('error', finish);
  out.once('close', () => { done = true; res.destroy(); });
  return out;
}
