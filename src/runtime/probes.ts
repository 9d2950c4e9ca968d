// Liveness, readiness and startup probes, run as kubelet's prober workers run them
// (pkg/kubelet/prober/worker.go): one timer per probe of a running container, thresholds counted
// over consecutive results, a startup probe holding the other two back until it succeeds, and a
// failed liveness or startup probe killing the container so the pod controller restarts it.
// A pod without probes gets no state and no timer. Nothing here dials a container's address: exec
// runs in the container and every network probe goes through `dial`, a byte stream to a port on
// 127.0.0.1 inside the pod's network namespace.
import type { Duplex } from 'node:stream';
import type { KObject } from '../machinery/types.ts';
import { expand, LABELS, type DockerInspect } from '../translate/index.ts';

type Obj = Record<string, any>;

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** How probes reach a pod; src/runtime/adapter.ts implements it over the engine. */
export interface ProbeTransport {
  /** Runs `cmd` in the container: exit code and stdout+stderr (see execOutput). Closes the
   *  session when `signal` aborts. Rejects when the command cannot be run at all. */
  exec(containerId: string, cmd: string[], signal: AbortSignal): Promise<{ exitCode: number; output: string }>;
  /** A byte stream to 127.0.0.1:port inside the pod's network namespace (PodIO.dial). */
  dial(pod: KObject, port: number): Promise<Duplex>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ProbeOutcome { result: 'success' | 'failure'; output: string }

/** The probe could not be run (bad port, container gone): kubelet throws such a result away. */
export class ProbeError extends Error {}

export interface ProbeTarget {
  pod: KObject;
  /** the container's spec */
  container: Obj;
  containerId: string;
  /** shown where kubelet shows the address it dialled, and the default Host header */
  podIP?: string;
}

// kubelet's limit on what it keeps of a probe's output (pkg/probe/exec).
const MAX_OUTPUT = 10 * 1024;
// The apiserver version we claim; kubelet sends its own as kube-probe/<major>.<minor>.
const USER_AGENT = 'kube-probe/1.36';
// A relay that cannot say "connected" (nc in the pod) ends its stream within a few tens of ms
// when the port is closed; a stream still open after this long is taken as connected.
const TCP_SETTLE_MS = 500;

/** kubelet's probe.ResolveContainerPort: a number, a named port of the container, or a number in a string. */
export function resolvePort(port: unknown, container: Obj): number {
  let n: number;
  if (typeof port === 'number') n = port;
  else if (typeof port === 'string') {
    const named = ((container.ports ?? []) as Obj[]).find((p) => p.name === port);
    if (named) n = Number(named.containerPort);
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new ProbeError(`strconv.Atoi: parsing ${JSON.stringify(port)}: invalid syntax`);
  } else throw new ProbeError(`intOrString had no kind: ${JSON.stringify(port)}`);
  if (n > 0 && n < 65536) return n;
  throw new ProbeError(`invalid port number: ${n}`);
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
const seconds = (p: Obj) => Math.max(1, Number(p.timeoutSeconds ?? 1));

/** Go's http.CanonicalHeaderKey, as kubelet's header map applies it. */
function canonical(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** The GET request kubelet's HTTP prober writes (DisableKeepAlives, no compression). */
export function httpProbeRequest(httpGet: Obj, port: number, podIP: string | undefined): { text: string; url: string } {
  const host = httpGet.host || podIP || '127.0.0.1';
  let path = String(httpGet.path ?? '/') || '/';
  if (!path.startsWith('/')) path = `/${path}`;
  const scheme = String(httpGet.scheme ?? 'HTTP').toLowerCase();
  const url = `${scheme}://${hostPort(host, port)}${path}`;
  const headers = new Map<string, string[]>();
  for (const h of (httpGet.httpHeaders ?? []) as Obj[]) {
    const k = canonical(String(h.name));
    headers.set(k, [...(headers.get(k) ?? []), String(h.value ?? '')]);
  }
  if (!headers.has('User-Agent')) headers.set('User-Agent', [USER_AGENT]);
  if (!headers.has('Accept')) headers.set('Accept', ['*/*']);
  else if (!headers.get('Accept')![0]) headers.delete('Accept');
  const hostHeader = headers.get('Host')?.[0] || hostPort(host, port);
  headers.delete('Host');
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostHeader}`];
  for (const [k, vs] of [...headers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) for (const v of vs) lines.push(`${k}: ${v}`);
  lines.push('Connection: close', '', '');
  return { text: lines.join('\r\n'), url };
}

/** Collects an exec session's output (capped) and exit code; closes it when `signal` aborts. */
export async function execOutput(
  session: { stdout: NodeJS.ReadableStream; stderr?: NodeJS.ReadableStream; exitCode: Promise<number>; close(): void },
  signal: AbortSignal,
): Promise<{ exitCode: number; output: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const keep = (b: Buffer) => {
    if (size >= MAX_OUTPUT) return;
    const part = b.subarray(0, MAX_OUTPUT - size);
    chunks.push(part);
    size += part.length;
  };
  session.stdout.on('data', keep);
  session.stderr?.on('data', keep);
  const abort = () => session.close();
  if (signal.aborted) abort();
  else signal.addEventListener('abort', abort, { once: true });
  try {
    const exitCode = await session.exitCode;
    return { exitCode, output: Buffer.concat(chunks).toString('utf8') };
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

/** Resolves with `fn`'s outcome, or the timeout's once `ms` passed (aborting `fn`'s signal). */
function withTimeout<T>(clock: Clock, ms: number, onTimeout: () => T, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => { ac.abort(); resolve(onTimeout()); }, ms);
    fn(ac.signal).then(
      (v) => { clock.clearTimeout(timer); if (!ac.signal.aborted) resolve(v); },
      (e) => { clock.clearTimeout(timer); if (!ac.signal.aborted) reject(e); },
    );
  });
}

/** Reads from a stream until `done` says it has enough, or the stream ends; null on a stream
 *  that ends or fails before delivering anything. */
function readUntil(stream: Duplex, signal: AbortSignal, done: (data: Buffer) => boolean): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const finish = () => {
      stream.off('data', onData);
      signal.removeEventListener('abort', finish);
      resolve(data.length ? data : null);
    };
    const onData = (b: Buffer) => {
      data = Buffer.concat([data, b]).subarray(0, MAX_OUTPUT);
      if (done(data) || data.length >= MAX_OUTPUT) finish();
    };
    stream.on('data', onData);
    stream.once('end', finish);
    stream.once('close', finish);
    stream.once('error', finish);
    signal.addEventListener('abort', finish, { once: true });
  });
}

/** Dials for one probe run: the stream goes when the run times out, even if the dial was late. */
async function dialFor(transport: ProbeTransport, pod: KObject, port: number, signal: AbortSignal): Promise<Duplex> {
  const s = await transport.dial(pod, port);
  s.on('error', () => {});
  if (signal.aborted) { s.destroy(); throw new Error('timed out'); }
  signal.addEventListener('abort', () => s.destroy(), { once: true });
  return s;
}

async function tlsOver(stream: Duplex, servername: string | undefined): Promise<Duplex> {
  const tls = await import('node:tls');
  return new Promise((resolve, reject) => {
    // kubelet's prober skips certificate verification (InsecureSkipVerify).
    const s = tls.connect({ socket: stream, rejectUnauthorized: false, servername: servername && !/^[\d.:]+$/.test(servername) ? servername : undefined });
    s.once('secureConnect', () => { s.on('error', () => {}); resolve(s); });
    s.once('error', reject);
  });
}

async function probeHttp(probe: Obj, t: ProbeTarget, transport: ProbeTransport, clock: Clock): Promise<ProbeOutcome> {
  const httpGet = probe.httpGet as Obj;
  const port = resolvePort(httpGet.port, t.container);
  const { text, url } = httpProbeRequest(httpGet, port, t.podIP);
  const where = hostPort(httpGet.host || t.podIP || '127.0.0.1', port);
  const timeout = seconds(probe);
  let stream: Duplex | undefined;
  let conn: Duplex | undefined;
  try {
    return await withTimeout(clock, timeout * 1000,
      () => ({ result: 'failure', output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }),
      async (signal) => {
        conn = stream = await dialFor(transport, t.pod, port, signal);
        if (String(httpGet.scheme ?? '').toUpperCase() === 'HTTPS') {
          try {
            conn = await tlsOver(stream, httpGet.host);
            const tlsConn = conn;
            signal.addEventListener('abort', () => tlsConn.destroy(), { once: true });
          } catch (e) {
            return { result: 'failure', output: `Get "${url}": ${(e as Error).message}` };
          }
        }
        conn.write(text);
        const head = await readUntil(conn, signal, (d) => d.includes('\n'));
        if (signal.aborted) return { result: 'failure', output: '' };
        if (!head) return { result: 'failure', output: `Get "${url}": dial tcp ${where}: connect: connection refused` };
        const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(head.toString('latin1'));
        if (!m) return { result: 'failure', output: `Get "${url}": malformed HTTP response ${JSON.stringify(head.toString('latin1').split(/\r?\n/)[0])}` };
        const code = Number(m[1]);
        return code >= 200 && code < 400
          ? { result: 'success', output: '' }
          : { result: 'failure', output: `HTTP probe failed with statuscode: ${code}` };
      });
  } catch (e) {
    if (e instanceof ProbeError) throw e;
    return { result: 'failure', output: `Get "${url}": ${(e as Error).message}` };
  } finally {
    conn?.destroy();
    stream?.destroy();
  }
}

async function probeTcp(probe: Obj, t: ProbeTarget, transport: ProbeTransport, clock: Clock): Promise<ProbeOutcome> {
  const port = resolvePort((probe.tcpSocket as Obj).port, t.container);
  const where = hostPort((probe.tcpSocket as Obj).host || t.podIP || '127.0.0.1', port);
  const timeout = seconds(probe);
  let stream: Duplex | undefined;
  try {
    return await withTimeout(clock, timeout * 1000,
      () => ({ result: 'failure', output: `dial tcp ${where}: i/o timeout` }),
      async (signal) => {
        const s = stream = await dialFor(transport, t.pod, port, signal);
        return new Promise<ProbeOutcome>((resolve) => {
          let settle: unknown;
          const done = (o: ProbeOutcome) => { clock.clearTimeout(settle); resolve(o); };
          const refused = () => done({ result: 'failure', output: `dial tcp ${where}: connect: connection refused` });
          const connected = () => done({ result: 'success', output: '' });
          // A net.Socket says when it is connected; a relay says it by staying open or by answering.
          const sock = s as Duplex & { connecting?: boolean; remoteAddress?: string };
          if (sock.connecting === false && sock.remoteAddress) return connected();
          s.once('connect', connected);
          s.once('data', connected);
          s.once('end', refused);
          s.once('close', refused);
          s.once('error', refused);
          signal.addEventListener('abort', () => clock.clearTimeout(settle), { once: true });
          if (sock.connecting !== true) settle = clock.setTimeout(connected, Math.min(TCP_SETTLE_MS, timeout * 1000));
        });
      });
  } catch (e) {
    if (e instanceof ProbeError) throw e;
    return { result: 'failure', output: `dial tcp ${where}: ${(e as Error).message}` };
  } finally {
    stream?.destroy();
  }
}

const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
const GRPC_CODES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists',
  'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal',
  'Unavailable', 'DataLoss', 'Unauthenticated'];

/** grpc.health.v1.HealthCheckRequest{service}, in a gRPC length-prefixed frame. */
export function grpcHealthRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const msg = name.length ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return Buffer.from(out);
}

/** The status field of a framed grpc.health.v1.HealthCheckResponse (0, UNKNOWN, when absent). */
export function grpcHealthStatus(body: Buffer): number | undefined {
  if (body.length < 5) return undefined;
  const len = body.readUInt32BE(1);
  const msg = body.subarray(5, 5 + len);
  for (let i = 0; i < msg.length;) {
    const tag = msg[i++];
    let v = 0;
    let shift = 0;
    const wire = tag & 7;
    if (wire === 0) {
      while (i < msg.length) { const b = msg[i++]; v += (b & 0x7f) * 2 ** shift; shift += 7; if (!(b & 0x80)) break; }
      if (tag >> 3 === 1) return v;
    } else if (wire === 2) {
      while (i < msg.length) { const b = msg[i++]; v += (b & 0x7f) * 2 ** shift; shift += 7; if (!(b & 0x80)) break; }
      i += v;
    } else return undefined;
  }
  return 0;
}

async function probeGrpc(probe: Obj, t: ProbeTarget, transport: ProbeTransport, clock: Clock): Promise<ProbeOutcome> {
  const grpc = probe.grpc as Obj;
  const port = Number(grpc.port);
  if (!(port > 0 && port < 65536)) throw new ProbeError(`invalid port number: ${port}`);
  const addr = hostPort(t.podIP || '127.0.0.1', port);
  const timeout = seconds(probe);
  const http2 = await import('node:http2');
  let session: import('node:http2').ClientHttp2Session | undefined;
  let stream: Duplex | undefined;
  try {
    return await withTimeout(clock, timeout * 1000,
      () => ({ result: 'failure', output: `timeout: health rpc did not complete within ${timeout}s` }),
      async (signal) => {
        const s = stream = await dialFor(transport, t.pod, port, signal);
        return new Promise<ProbeOutcome>((resolve) => {
          const fail = (output: string) => resolve({ result: 'failure', output });
          const sess = session = http2.connect(`http://${addr}`, { createConnection: () => s });
          sess.on('error', (e: Error) => fail(`error: failed to connect service at "${addr}": ${e.message}`));
          sess.on('close', () => fail(`error: failed to connect service at "${addr}": connection closed`));
          const req = sess.request({
            ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc',
            te: 'trailers', 'user-agent': USER_AGENT,
          });
          const body: Buffer[] = [];
          let headers: Obj = {};
          req.on('response', (h) => { headers = h; });
          req.on('data', (b: Buffer) => body.push(b));
          req.on('trailers', (tr) => { headers = { ...headers, ...tr }; });
          req.on('error', (e: Error) => fail(`error: health rpc probe failed: ${e.message}`));
          req.on('end', () => {
            if (headers[':status'] === undefined) return fail(`error: failed to connect service at "${addr}": connection closed`);
            const code = Number(headers['grpc-status'] ?? (headers[':status'] === 200 ? 0 : 2));
            const message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
            if (code === 12) return fail(`error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${message}`);
            if (code !== 0) return fail(`error: health rpc probe failed: rpc error: code = ${GRPC_CODES[code] ?? `Code(${code})`} desc = ${message}`);
            const status = grpcHealthStatus(Buffer.concat(body));
            if (status === 1) return resolve({ result: 'success', output: 'service healthy' });
            fail(`service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[status ?? 0] ?? String(status))})`);
          });
          req.end(grpcHealthRequest(String(grpc.service ?? '')));
        });
      });
  } catch (e) {
    if (e instanceof ProbeError) throw e;
    return { result: 'failure', output: `error: failed to connect service at "${addr}": ${(e as Error).message}` };
  } finally {
    session?.destroy();
    stream?.destroy();
  }
}

async function probeExec(probe: Obj, t: ProbeTarget, transport: ProbeTransport, clock: Clock): Promise<ProbeOutcome> {
  // kubelet expands $(VAR) with the container's literal env values only (ExpandContainerCommandOnlyStatic).
  const env = new Map<string, string>();
  for (const e of (t.container.env ?? []) as Obj[]) if (e.value !== undefined && !e.valueFrom) env.set(e.name, String(e.value));
  const cmd = ((probe.exec as Obj).command ?? []).map((a: string) => expand(String(a), (n) => env.get(n)));
  const timeout = seconds(probe);
  const r = await withTimeout(clock, timeout * 1000, () => undefined, async (signal) => {
    try {
      return await transport.exec(t.containerId, cmd, signal);
    } catch (e) {
      throw new ProbeError((e as Error).message);
    }
  });
  if (!r) return { result: 'failure', output: `command ${JSON.stringify(cmd.join(' '))} timed out` };
  return { result: r.exitCode === 0 ? 'success' : 'failure', output: r.output };
}

/** Runs one probe once. Throws ProbeError when it could not be run (the result is thrown away). */
export function runProbe(probe: Obj, target: ProbeTarget, transport: ProbeTransport, clock: Clock = realClock): Promise<ProbeOutcome> {
  if (probe.exec) return probeExec(probe, target, transport, clock);
  if (probe.httpGet) return probeHttp(probe, target, transport, clock);
  if (probe.tcpSocket) return probeTcp(probe, target, transport, clock);
  if (probe.grpc) return probeGrpc(probe, target, transport, clock);
  return Promise.reject(new ProbeError('missing probe handler'));
}

export interface ProberHooks {
  transport: ProbeTransport;
  /** A container's readiness or startedness changed: the pod's status needs recomputing. */
  changed(uid: string): void;
  /** An Event about the pod's container, as kubelet records it. */
  event(pod: KObject, type: 'Normal' | 'Warning', reason: string, message: string, container: string): void;
  /** Stops the container; the controller restarts it as the restart policy says. */
  kill(pod: KObject, container: string, containerId: string, gracePeriodSeconds: number): Promise<void>;
  clock?: Clock;
}

interface Worker {
  kind: ProbeKind;
  spec: Obj;
  timer?: unknown;
  due: number;
  last?: 'success' | 'failure';
  run: number;
}

interface Tracked {
  uid: string;
  pod: KObject;
  container: Obj;
  id: string;
  podIP?: string;
  startedAt: number;
  /** startup probe passed (or there is none) */
  started: boolean;
  ready: boolean;
  workers: Worker[];
  /** killed, or forgotten: no more probing of this container */
  done: boolean;
}

const KIND_TEXT: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };
const PROBE_FIELD: Record<ProbeKind, string> = { liveness: 'livenessProbe', readiness: 'readinessProbe', startup: 'startupProbe' };

const attemptOf = (c: DockerInspect) => Number(c.Config?.Labels?.[LABELS.restartCount] ?? 0);
const created = (c: DockerInspect) => (c as { Created?: string }).Created ?? '';

/** Containers kubelet probes: app containers and sidecars (restartable init containers). */
function probedContainers(pod: KObject): Obj[] {
  const spec = (pod.spec ?? {}) as Obj;
  return [...((spec.initContainers ?? []) as Obj[]).filter((c) => c.restartPolicy === 'Always'), ...((spec.containers ?? []) as Obj[])]
    .filter((c) => c.livenessProbe || c.readinessProbe || c.startupProbe);
}

export class Prober {
  private pods = new Map<string, Map<string, Tracked>>();
  private clock: Clock;
  private stopped = false;

  constructor(private hooks: ProberHooks) {
    this.clock = hooks.clock ?? realClock;
  }

  /** Matches the workers to the pod's current containers: a new container gets fresh workers,
   *  a stopped or replaced one loses its own. Call it on every sync of the pod. */
  sync(pod: KObject, containers: DockerInspect[], podIP?: string): void {
    if (this.stopped) return;
    const uid = pod.metadata.uid!;
    const probed = probedContainers(pod);
    let mine = this.pods.get(uid);
    if (!probed.length || pod.metadata.deletionTimestamp) {
      if (mine) this.forget(uid);
      return;
    }
    const newest = new Map<string, DockerInspect>();
    for (const c of containers) {
      const labels = c.Config?.Labels ?? {};
      if (labels[LABELS.kind] === 'sandbox') continue;
      const name = labels[LABELS.containerName];
      const seen = name && newest.get(name);
      if (name && (!seen || attemptOf(c) - attemptOf(seen) > 0 || (attemptOf(c) === attemptOf(seen) && created(c) > created(seen)))) newest.set(name, c);
    }
    if (!mine) this.pods.set(uid, (mine = new Map()));
    for (const spec of probed) {
      const cur = newest.get(spec.name);
      const t = mine.get(spec.name);
      if (t && (!cur || cur.Id !== t.id || !cur.State.Running)) this.drop(mine, spec.name);
      if (!cur || !cur.State.Running) continue;
      const kept = mine.get(spec.name);
      if (kept) { kept.pod = pod; kept.podIP = podIP ?? kept.podIP; continue; }
      this.track(mine, pod, spec, cur, podIP);
    }
    for (const name of [...mine.keys()]) if (!probed.some((c) => c.name === name)) this.drop(mine, name);
    if (!mine.size) this.pods.delete(uid);
  }

  /** Readiness by the probe: undefined when the container has no readiness probe. */
  ready(pod: KObject, name: string, containerId?: string): boolean | undefined {
    if (!probedContainers(pod).find((c) => c.name === name)?.readinessProbe) return undefined;
    const t = this.find(pod.metadata.uid!, name, containerId);
    return !!t && t.started && t.ready;
  }

  /** Startup probe passed: undefined when the container has no startup probe. */
  started(pod: KObject, name: string, containerId?: string): boolean | undefined {
    if (!probedContainers(pod).find((c) => c.name === name)?.startupProbe) return undefined;
    return !!this.find(pod.metadata.uid!, name, containerId)?.started;
  }

  /** The pod is gone or going: its timers stop. */
  forget(uid: string): void {
    const mine = this.pods.get(uid);
    if (!mine) return;
    for (const name of [...mine.keys()]) this.drop(mine, name);
    this.pods.delete(uid);
  }

  stop(): void {
    this.stopped = true;
    for (const uid of [...this.pods.keys()]) this.forget(uid);
  }

  /** Armed timers, all pods together. */
  get timers(): number {
    let n = 0;
    for (const mine of this.pods.values()) for (const t of mine.values()) for (const w of t.workers) if (w.timer !== undefined) n++;
    return n;
  }

  private find(uid: string, name: string, containerId?: string): Tracked | undefined {
    const t = this.pods.get(uid)?.get(name);
    return t && (containerId === undefined || t.id === containerId) ? t : undefined;
  }

  private track(mine: Map<string, Tracked>, pod: KObject, spec: Obj, cur: DockerInspect, podIP?: string): void {
    const startedAt = Date.parse(cur.State.StartedAt);
    // After a restart of the translator the stored status still knows this container: keep what
    // its probes had found, so that a Ready pod does not flap while the first probes run.
    const status = (pod.status ?? {}) as Obj;
    const known = ([...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])] as Obj[])
      .find((s) => s.name === spec.name && s.containerID === `docker://${cur.Id}`);
    const t: Tracked = {
      uid: pod.metadata.uid!, pod, container: spec, id: cur.Id, podIP,
      startedAt: Number.isFinite(startedAt) && startedAt > 0 ? startedAt : this.clock.now(),
      started: !spec.startupProbe || known?.started === true, ready: known?.ready === true, workers: [], done: false,
    };
    for (const kind of ['startup', 'liveness', 'readiness'] as ProbeKind[]) {
      const p = spec[PROBE_FIELD[kind]] as Obj | undefined;
      if (p) t.workers.push({ kind, spec: p, due: 0, run: 0 });
    }
    mine.set(spec.name, t);
    this.armActive(t);
  }

  /** Arms the workers that may run now: the startup probe alone until it passed, then the others. */
  private armActive(t: Tracked): void {
    for (const w of t.workers) {
      if ((w.kind === 'startup') === t.started || w.timer !== undefined) continue;
      const delay = Number(w.spec.initialDelaySeconds ?? 0) * 1000;
      this.arm(t, w, Math.max(this.clock.now(), t.startedAt + delay));
    }
  }

  private arm(t: Tracked, w: Worker, at: number): void {
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    w.due = at;
    w.timer = this.clock.setTimeout(() => { w.timer = undefined; void this.fire(t, w); }, Math.max(0, at - this.clock.now()));
  }

  private drop(mine: Map<string, Tracked>, name: string): void {
    const t = mine.get(name);
    if (!t) return;
    this.halt(t);
    mine.delete(name);
  }

  private halt(t: Tracked): void {
    t.done = true;
    for (const w of t.workers) {
      if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
      w.timer = undefined;
    }
  }

  private async fire(t: Tracked, w: Worker): Promise<void> {
    if (t.done) return;
    const kind = KIND_TEXT[w.kind];
    const name = t.container.name as string;
    let outcome: ProbeOutcome | undefined;
    try {
      outcome = await runProbe(w.spec, { pod: t.pod, container: t.container, containerId: t.id, podIP: t.podIP }, this.hooks.transport, this.clock);
    } catch (e) {
      if (!t.done) this.hooks.event(t.pod, 'Warning', 'Unhealthy', `${kind} probe errored and resulted in unknown state: ${(e as Error).message}`, name);
    }
    if (t.done) return;
    if (outcome) this.record(t, w, outcome);
    if (t.done) return;
    const stillActive = (w.kind === 'startup') !== t.started;
    if (stillActive) {
      const period = Math.max(1, Number(w.spec.periodSeconds ?? 10)) * 1000;
      this.arm(t, w, Math.max(this.clock.now(), w.due + period));
    }
  }

  /** kubelet's worker.doProbe after the probe ran: count the run, act once a threshold is met. */
  private record(t: Tracked, w: Worker, o: ProbeOutcome): void {
    const name = t.container.name as string;
    const kind = KIND_TEXT[w.kind];
    if (o.result === 'failure') this.hooks.event(t.pod, 'Warning', 'Unhealthy', `${kind} probe failed: ${o.output}`, name);
    if (w.last === o.result) w.run++;
    else { w.last = o.result; w.run = 1; }
    const threshold = o.result === 'failure' ? Number(w.spec.failureThreshold ?? 3) : Number(w.spec.successThreshold ?? 1);
    if (w.run < threshold) return;
    if (w.kind === 'readiness') {
      const ready = o.result === 'success';
      if (t.ready !== ready) { t.ready = ready; this.hooks.changed(t.uid); }
      return;
    }
    if (o.result === 'success') {
      if (w.kind === 'startup') {
        t.started = true;
        this.armActive(t);
        this.hooks.changed(t.uid);
      }
      return;
    }
    // A failed liveness or startup probe: the container is killed; probing stops until the
    // controller has started a new one (kubelet puts the worker on hold for the same reason).
    this.halt(t);
    const spec = (t.pod.spec ?? {}) as Obj;
    const restarts = t.container.restartPolicy === 'Always' || spec.restartPolicy !== 'Never';
    this.hooks.event(t.pod, 'Normal', 'Killing', `Container ${name} failed ${w.kind} probe${restarts ? ', will be restarted' : ''}`, name);
    const grace = Number(w.spec.terminationGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30);
    void this.hooks.kill(t.pod, name, t.id, grace).catch(() => {});
  }
}
