// The engine side of Services: relays inside pod sandboxes (Service port -> targetPort) and the
// small proxy containers that publish NodePort / LoadBalancer ports on the host. Both run the
// sandbox program's listening relay (`/pause l`), so no image beyond the sandbox's is needed.
import { createHash } from 'node:crypto';
import type { Engine } from './engine.ts';
import { create, listByLabels, remove, start } from './containers.ts';
import { dial, EngineError } from './http.ts';
import { listenArgs, PAUSE_PATH } from './sandbox.ts';

const LOOPBACK = '127.0.0.1';

/** Starts `/pause l PORT 127.0.0.1 TARGET` in a running sandbox, detached (it lives as long as the sandbox). */
export async function startRelay(engine: Engine, sandboxId: string, port: number, target: number): Promise<void> {
  const { Id } = await dial<{ Id: string }>(engine, {
    method: 'POST', path: `/containers/${encodeURIComponent(sandboxId)}/exec`,
    // root: Service ports below 1024 are common.
    body: { Cmd: [PAUSE_PATH, ...listenArgs(port, [{ ip: LOOPBACK, port: target }])], AttachStdout: false, AttachStderr: false, User: '0' },
  });
  await dial(engine, { method: 'POST', path: `/exec/${Id}/start`, body: { Detach: true, Tty: false } });
}

/** Ports of the relays running in a sandbox (after a restart of ours, the engine's memory is the truth). */
export async function runningRelays(engine: Engine, sandboxId: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const c = await dial<{ ExecIDs?: string[] | null }>(engine, { method: 'GET', path: `/containers/${encodeURIComponent(sandboxId)}/json` });
  for (const id of c.ExecIDs ?? []) {
    const e = await dial<{ Running?: boolean; ProcessConfig?: { entrypoint?: string; arguments?: string[] } }>(engine, { method: 'GET', path: `/exec/${id}/json` })
      .catch(() => undefined);
    const args = e?.ProcessConfig?.arguments ?? [];
    if (e?.Running && e.ProcessConfig?.entrypoint === PAUSE_PATH && args[0] === 'l') out.set(Number(args[1]), Number(args[3]));
  }
  return out;
}

// A published port is a front container whose relay forwards every connection to two local
// slots, 127.0.0.1:A and 127.0.0.1:B, trying the other when one refuses. A slot is a container
// in the front's network namespace whose relay holds the backends. A membership change starts a
// slot with the new backends on the free port, then removes the old one: the host port never
// stops listening (recreating one container with the backends in its command refused
// connections for a moment on every change of a rollout). The front only changes with its
// host ports.

export interface ProxySpec {
  /** what ties it to its Service: instance, namespace, name, uid */
  labels: Record<string, string>;
  name: string;
  image: string;
  network: string;
  /** port the front's relay listens on inside its container */
  listenPort: number;
  hostPorts: number[];
  backends: Array<{ ip: string; port: number }>;
}

export const PROXY_HASH = 'k2d.io/proxy-hash';
/** on a slot: the id of its front */
export const PROXY_FRONT = 'k2d.io/proxy-front';
/** on a slot: the port its relay listens on */
export const PROXY_SLOT = 'k2d.io/proxy-slot';

const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex').slice(0, 16);

/** A digest of everything that, changed, needs a new front. */
export function frontHash(p: ProxySpec): string {
  return digest([p.image, p.network, p.listenPort, p.hostPorts, slotPorts(p.listenPort)]);
}

/** A digest of what a slot relays to. */
export function slotHash(p: ProxySpec): string {
  return digest([p.image, p.backends]);
}

/** The two slot ports behind a front: unprivileged, and never its own listening port. */
export function slotPorts(listenPort: number): [number, number] {
  const [a, b] = [1025, 1026, 1027].filter((x) => x !== listenPort);
  return [a!, b!];
}

export interface ProxyInfo { id: string; name: string; labels: Record<string, string>; running: boolean }

/** Fronts and slots alike: a slot carries PROXY_FRONT. */
export async function listProxies(engine: Engine, labels: Record<string, string>): Promise<ProxyInfo[]> {
  const list = await listByLabels(engine, labels);
  return list.map((c) => ({ id: c.Id, name: c.Name, labels: c.Labels, running: c.State === 'running' }));
}

const limits = {
  RestartPolicy: { Name: 'no' },
  SecurityOpt: ['no-new-privileges'],
  CapDrop: ['ALL'],
  // A relay per connection is a forked copy of a 1 KiB program.
  Memory: 16 * 1024 * 1024,
  PidsLimit: 4096,
};

async function createAndStart(engine: Engine, name: string, body: Record<string, unknown>): Promise<string> {
  const id = await create(engine, name, body);
  try {
    await start(engine, id);
  } catch (err) {
    await remove(engine, id, { force: true }).catch(() => undefined);
    throw err;
  }
  return id;
}

/** Creates and starts a front; a host port that is taken fails here, with the engine's message. */
export async function runProxy(engine: Engine, p: ProxySpec): Promise<string> {
  const key = `${p.listenPort}/tcp`;
  return createAndStart(engine, p.name, {
    Image: p.image,
    Cmd: listenArgs(p.listenPort, slotPorts(p.listenPort).map((port) => ({ ip: LOOPBACK, port }))),
    Labels: { ...p.labels, [PROXY_HASH]: frontHash(p) },
    ExposedPorts: { [key]: {} },
    HostConfig: { ...limits, NetworkMode: p.network, PortBindings: { [key]: p.hostPorts.map((h) => ({ HostPort: String(h) })) } },
  });
}

/** Creates and starts a slot relaying to p's backends, on `port` in the front's network namespace. */
export async function runSlot(engine: Engine, p: ProxySpec, frontId: string, port: number): Promise<string> {
  return createAndStart(engine, `${p.name}_${port}`, {
    Image: p.image,
    Cmd: listenArgs(port, p.backends),
    Labels: { ...p.labels, [PROXY_HASH]: slotHash(p), [PROXY_FRONT]: frontId, [PROXY_SLOT]: String(port) },
    HostConfig: { ...limits, NetworkMode: `container:${frontId}` },
  });
}

export async function removeProxy(engine: Engine, id: string): Promise<void> {
  try {
    await remove(engine, id, { force: true });
  } catch (err) {
    if (!(err instanceof EngineError && err.engineStatus === 404)) throw err;
  }
}
