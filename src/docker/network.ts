// The one flat cluster network. Service DNS names are network aliases of the pod sandboxes, so a
// Service created or changed later costs a disconnect + connect of each selected sandbox.
import type { Engine } from './engine.ts';
import { dial, EngineError, requireInstanceLabel } from './http.ts';

export interface NetworkInfo { Id: string; Name: string; Driver: string; Created: string; Labels: Record<string, string>; Subnets: string[] }

/** Every network of exactly this name (the engine's name filter matches substrings). */
async function byName(engine: Engine, name: string): Promise<NetworkInfo[]> {
  const list = await dial<any[]>(engine, { method: 'GET', path: '/networks', query: { filters: JSON.stringify({ name: [name] }) } });
  return list.filter((n) => n.Name === name).map((n) => ({
    Id: n.Id, Name: n.Name, Driver: n.Driver, Created: n.Created ?? '', Labels: n.Labels ?? {},
    Subnets: (n.IPAM?.Config ?? []).map((c: { Subnet?: string }) => c.Subnet).filter(Boolean),
  }));
}

/** A sortable form of the engine's RFC3339Nano times (their fractions lose trailing zeros). */
function createdKey(t: string): string {
  const ms = Date.parse(t);
  const frac = /\.(\d+)/.exec(t)?.[1] ?? '';
  return `${String(Number.isNaN(ms) ? 0 : ms).padStart(15, '0')}${frac.padEnd(9, '0').slice(3, 9)}`;
}

const pending = new WeakMap<Engine, Map<string, Promise<NetworkInfo>>>();

/**
 * A user-defined bridge network (the only kind with embedded DNS and aliases), created when
 * absent. Concurrent callers share one attempt; a race with another process (the engine's
 * duplicate check is not atomic before API 1.44) converges on the oldest network of the name.
 */
export function ensureNetwork(engine: Engine, name: string, labels: Record<string, string>): Promise<NetworkInfo> {
  requireInstanceLabel(labels, `network ${name}`);
  let m = pending.get(engine);
  if (!m) pending.set(engine, (m = new Map()));
  let p = m.get(name);
  if (!p) {
    p = ensureOnce(engine, name, labels);
    m.set(name, p);
    const done = () => m!.delete(name);
    p.then(done, done);
  }
  return p;
}

async function ensureOnce(engine: Engine, name: string, labels: Record<string, string>): Promise<NetworkInfo> {
  let found = await byName(engine, name);
  if (!found.length) {
    try {
      await dial(engine, { method: 'POST', path: '/networks/create', body: { Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels } });
    } catch (err) {
      if (!(err instanceof EngineError && err.engineStatus === 409)) throw err;
    }
    found = await byName(engine, name);
  }
  if (!found.length) throw new EngineError(500, 'InternalError', `Internal error occurred: network ${name} vanished right after it was created`, 404);
  found.sort((a, b) => createdKey(a.Created).localeCompare(createdKey(b.Created)) || a.Id.localeCompare(b.Id));
  // Twins from a race lose; one already in use stays (the engine refuses), harmless but unused.
  for (const twin of found.slice(1)) {
    await dial(engine, { method: 'DELETE', path: `/networks/${twin.Id}` }).catch(() => undefined);
  }
  return found[0];
}

/** Connects a container with these aliases; false when it was already connected (aliases unchanged). */
export async function connect(engine: Engine, network: string, containerId: string, aliases: string[]): Promise<boolean> {
  try {
    await dial(engine, {
      method: 'POST', path: `/networks/${encodeURIComponent(network)}/connect`,
      body: { Container: containerId, EndpointConfig: { Aliases: aliases } },
    });
    return true;
  } catch (err) {
    // 20.10 says 403 `endpoint with name x already exists in network y`; later engines 409.
    if (err instanceof EngineError && (err.engineStatus === 403 || err.engineStatus === 409) && /already exists/.test(err.message)) return false;
    throw err;
  }
}

/** Disconnects; false when it was not connected. */
export async function disconnect(engine: Engine, network: string, containerId: string, force = false): Promise<boolean> {
  try {
    await dial(engine, { method: 'POST', path: `/networks/${encodeURIComponent(network)}/disconnect`, body: { Container: containerId, Force: force } });
    return true;
  } catch (err) {
    if (err instanceof EngineError && /is not connected/.test(err.message)) return false;
    throw err;
  }
}

/**
 * Replaces a running container's aliases: disconnect + connect (about 150 ms; its processes keep
 * running and app containers sharing its network namespace follow). The engine usually hands the
 * freed address straight back, but may not: the caller compares the returned IP with podIP.
 */
export async function reconnectWithAliases(engine: Engine, network: string, containerId: string, aliases: string[]): Promise<string> {
  await disconnect(engine, network, containerId);
  await connect(engine, network, containerId, aliases);
  const c = await dial(engine, { method: 'GET', path: `/containers/${encodeURIComponent(containerId)}/json` });
  const nets: Record<string, { IPAddress?: string; NetworkID?: string }> = c.NetworkSettings?.Networks ?? {};
  const e = nets[network] ?? Object.values(nets).find((x) => x.NetworkID?.startsWith(network));
  return e?.IPAddress ?? '';
}
