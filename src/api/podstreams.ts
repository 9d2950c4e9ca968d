// pods/log, pods/exec, pods/attach and pods/portforward: the API side. The engine side is a
// PodIO (src/docker), the wire protocols are src/server/streams.
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable, Writable } from 'node:stream';
import { ApiError, badRequest, notFound, toApiError } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KObject } from '../machinery/types.ts';
import type { ApiContext, ApiRequest } from './generic.ts';
import { q1, qBool } from './generic.ts';
import { handleExecUpgrade, handlePortForwardUpgrade, parseStreamQuery, rejectUpgrade } from '../server/streams/index.ts';
import { log } from '../log.ts';

export interface LogOptions {
  follow: boolean; previous: boolean; timestamps: boolean;
  tailLines?: number; sinceSeconds?: number; sinceTime?: string; limitBytes?: number;
}

export interface ProcessIO {
  stdin?: Writable;
  stdout: Readable;
  stderr?: Readable;
  resize(width: number, height: number): void;
  exitCode: Promise<number>;
}

export interface PodIO {
  logs(pod: KObject, container: string, opts: LogOptions): Promise<Readable>;
  exec(pod: KObject, container: string, command: string[], opts: { stdin: boolean; tty: boolean }): Promise<ProcessIO>;
  attach(pod: KObject, container: string, opts: { stdin: boolean; tty: boolean }): Promise<ProcessIO>;
  /** A byte stream to the pod's port, inside the pod's network namespace. */
  dial(pod: KObject, port: number): Promise<Duplex>;
}

type Obj = Record<string, any>;

function namesOf(pod: KObject, field: 'containers' | 'initContainers' | 'ephemeralContainers'): string[] {
  return (((pod.spec ?? {}) as Obj)[field] ?? []).map((c: Obj) => c.name as string);
}

/** The container a request means, with the apiserver's messages when it is unclear. */
export function pickContainer(pod: KObject, asked: string | undefined): string {
  const app = namesOf(pod, 'containers');
  const init = namesOf(pod, 'initContainers');
  const ephemeral = namesOf(pod, 'ephemeralContainers');
  if (asked) {
    if (![...app, ...init, ...ephemeral].includes(asked)) throw badRequest(`container ${asked} is not valid for pod ${pod.metadata.name}`);
    return asked;
  }
  if (app.length === 1) return app[0];
  throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${app.join(' ')}]`
    + (init.length ? ` or one of the init containers: [${init.join(' ')}]` : '')
    + (ephemeral.length ? ` or one of the ephemeral containers: [${ephemeral.join(' ')}]` : ''));
}

function podOf(registry: Registry, namespace: string | undefined, name: string): KObject {
  const kind = registry.kind('pods');
  const pod = registry.peek(kind, namespace, name);
  if (!pod) throw notFound('pods', '', name);
  return pod;
}

function int(v: string | undefined, field: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`${field}: Invalid value: "${v}": must be an integer`);
  return n;
}

export function podLogs(io: () => PodIO) {
  return async (ctx: ApiContext, r: ApiRequest): Promise<void> => {
    const pod = podOf(ctx.registry, r.namespace, r.name!);
    const container = pickContainer(pod, q1(r.query, 'container'));
    const opts: LogOptions = {
      follow: qBool(r.query, 'follow'), previous: qBool(r.query, 'previous'), timestamps: qBool(r.query, 'timestamps'),
      tailLines: int(q1(r.query, 'tailLines'), 'tailLines'), sinceSeconds: int(q1(r.query, 'sinceSeconds'), 'sinceSeconds'),
      sinceTime: q1(r.query, 'sinceTime'), limitBytes: int(q1(r.query, 'limitBytes'), 'limitBytes'),
    };
    const stream = await io().logs(pod, container, opts);
    r.res.statusCode = 200;
    r.res.setHeader('Content-Type', 'text/plain');
    r.res.setHeader('Transfer-Encoding', 'chunked');
    r.res.flushHeaders();
    let sent = 0;
    stream.on('data', (c: Buffer) => {
      if (opts.limitBytes !== undefined) {
        const room = opts.limitBytes - sent;
        if (room <= 0) { stream.destroy(); r.res.end(); return; }
        if (c.length > room) c = c.subarray(0, room);
      }
      sent += c.length;
      r.res.write(c);
    });
    const end = () => { if (!r.res.writableEnded) r.res.end(); };
    stream.on('end', end);
    stream.on('error', end);
    r.req.on('close', () => stream.destroy());
    ctx.watches.add(() => { stream.destroy(); end(); });
  };
}

/** exec/attach/portforward reached without an upgrade. */
export async function upgradeRequired(): Promise<void> {
  throw new ApiError(400, 'BadRequest', 'Upgrade request required');
}

/** The https server's 'upgrade' event for pods/exec, pods/attach and pods/portforward. */
export function handlePodUpgrade(registry: Registry, io: PodIO, req: IncomingMessage, socket: Duplex, head: Buffer,
  what: 'exec' | 'attach' | 'portforward', namespace: string | undefined, name: string): void {
  try {
    const pod = podOf(registry, namespace, name);
    if ((pod.status as Obj)?.phase === 'Succeeded' || (pod.status as Obj)?.phase === 'Failed') {
      throw badRequest(`cannot exec into a container in a completed pod; current phase is ${(pod.status as Obj).phase}`);
    }
    if (what === 'portforward') {
      handlePortForwardUpgrade(req, socket, head, (port) => io.dial(pod, port));
      return;
    }
    const q = parseStreamQuery(req.url ?? '', { requireCommand: what === 'exec' });
    const container = pickContainer(pod, q.container);
    handleExecUpgrade(req, socket, head, q, (session) => {
      void (async () => {
        try {
          const p = what === 'exec'
            ? await io.exec(pod, container, q.command, { stdin: q.stdin, tty: q.tty })
            : await io.attach(pod, container, { stdin: q.stdin, tty: q.tty });
          if (session.stdin && p.stdin) session.stdin.pipe(p.stdin);
          else p.stdin?.end();
          session.resize?.on('resize', (s) => p.resize(s.width, s.height));
          const outDone = new Promise<void>((ok) => { p.stdout.on('end', ok); p.stdout.on('error', ok); p.stdout.on('close', ok); });
          if (session.stdout) p.stdout.pipe(session.stdout, { end: false }); else p.stdout.resume();
          if (p.stderr) { if (session.stderr) p.stderr.pipe(session.stderr, { end: false }); else p.stderr.resume(); }
          void session.closed.then(() => { p.stdin?.destroy(); p.stdout.destroy(); p.stderr?.destroy(); });
          const code = await p.exitCode;
          await Promise.race([outDone, new Promise((ok) => setTimeout(ok, 2000))]);
          session.finish({ exitCode: code });
        } catch (e) {
          log('exec failed', { level: 'warn', pod: name, error: (e as Error).message });
          session.finish({ error: (e as Error).message });
        }
      })();
    });
  } catch (e) {
    rejectUpgrade(socket, toApiError(e));
  }
}
