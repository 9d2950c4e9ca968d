// Container lifecycle. Bodies are the Engine API's own JSON (translate/ builds them); what comes
// back is trimmed to what status, logs and the controllers read, so nothing large stays cached.
import type { Engine } from './engine.ts';
import { dial, EngineError, isNotFound, NameConflictError, requireInstanceLabel } from './http.ts';

export interface ContainerState {
  Status: string; Running: boolean; Paused: boolean; Restarting: boolean; OOMKilled: boolean;
  Dead: boolean; Pid: number; ExitCode: number; Error: string; StartedAt: string; FinishedAt: string;
  Health?: { Status: string; FailingStreak: number };
}

/** The part of `docker inspect` that status, logs and exec need (a superset of translate's DockerInspect). */
export interface ContainerInspect {
  Id: string;
  /** without the leading '/' */
  Name: string;
  Created: string;
  /** image id, sha256:... */
  Image: string;
  RestartCount: number;
  Config: {
    Image: string; Labels: Record<string, string>; Tty: boolean; OpenStdin: boolean; StdinOnce: boolean;
    User: string; Env: string[]; Hostname: string;
  };
  State: ContainerState;
  HostConfig: { NetworkMode: string };
  NetworkSettings: {
    IPAddress: string; GlobalIPv6Address: string;
    Networks: Record<string, { IPAddress: string; GlobalIPv6Address: string; Aliases: string[] | null; NetworkID: string }>;
  };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
}

export interface ContainerSummary {
  Id: string;
  /** the first name, without the leading '/' */
  Name: string;
  Image: string;
  ImageID: string;
  Labels: Record<string, string>;
  /** created, running, paused, restarting, removing, exited, dead */
  State: string;
  /** `Up 3 minutes`, `Exited (1) 2 seconds ago` */
  Status: string;
  /** seconds since the epoch */
  Created: number;
}

const id = (s: string) => encodeURIComponent(s);

/**
 * Creates a container; resolves with its id. A taken name fails with NameConflictError (409,
 * AlreadyExists) carrying the holder's id; a missing image with EngineError 404.
 */
export async function create<B extends { Labels?: Record<string, string> }>(engine: Engine, name: string, body: B): Promise<string> {
  requireInstanceLabel(body.Labels, `container ${name}`);
  try {
    const r = await dial<{ Id: string }>(engine, { method: 'POST', path: '/containers/create', query: { name }, body });
    return r.Id;
  } catch (err) {
    if (err instanceof EngineError && err.engineStatus === 409) {
      // `Conflict. The container name "/x" is already in use by container "<id>". You have to ...`
      const holder = /by container "([0-9a-f]+)"/.exec(err.message)?.[1];
      throw new NameConflictError(name, holder, err.message);
    }
    throw err;
  }
}

/** Starts a container; starting a running one is not an error. */
export async function start(engine: Engine, containerId: string): Promise<void> {
  await dial(engine, { method: 'POST', path: `/containers/${id(containerId)}/start`, ok: [204, 304] });
}

/** StopSignal, then SIGKILL after timeoutSeconds; stopping a stopped container is not an error. */
export async function stop(engine: Engine, containerId: string, timeoutSeconds: number): Promise<void> {
  await dial(engine, { method: 'POST', path: `/containers/${id(containerId)}/stop`, query: { t: Math.max(0, Math.floor(timeoutSeconds)) }, ok: [204, 304] });
}

/** Sends a signal (default SIGKILL); a container that is not running is left as it is. */
export async function kill(engine: Engine, containerId: string, signal = 'SIGKILL'): Promise<void> {
  try {
    await dial(engine, { method: 'POST', path: `/containers/${id(containerId)}/kill`, query: { signal } });
  } catch (err) {
    if (err instanceof EngineError && err.engineStatus === 409 && /is not running/.test(err.message)) return;
    throw err;
  }
}

/** Removes a container; false when it was already gone. `volumes` also removes its anonymous volumes. */
export async function remove(engine: Engine, containerId: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<boolean> {
  try {
    await dial(engine, { method: 'DELETE', path: `/containers/${id(containerId)}`, query: { force: !!opts.force, v: !!opts.volumes } });
    return true;
  } catch (err) {
    // 409 `removal of container x is already in progress` ends the same way.
    if (isNotFound(err) || (err instanceof EngineError && err.engineStatus === 409 && /already in progress/.test(err.message))) return false;
    throw err;
  }
}

/** The container by id or name, or undefined when there is none. */
export async function inspect(engine: Engine, containerId: string): Promise<ContainerInspect | undefined> {
  let c: any;
  try {
    c = await dial(engine, { method: 'GET', path: `/containers/${id(containerId)}/json` });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const s = c.State ?? {};
  const ns = c.NetworkSettings ?? {};
  const networks: ContainerInspect['NetworkSettings']['Networks'] = {};
  for (const [n, e] of Object.entries<any>(ns.Networks ?? {})) {
    networks[n] = { IPAddress: e?.IPAddress ?? '', GlobalIPv6Address: e?.GlobalIPv6Address ?? '', Aliases: e?.Aliases ?? null, NetworkID: e?.NetworkID ?? '' };
  }
  return {
    Id: c.Id, Name: String(c.Name ?? '').replace(/^\//, ''), Created: c.Created, Image: c.Image, RestartCount: c.RestartCount ?? 0,
    Config: {
      Image: c.Config?.Image ?? '', Labels: c.Config?.Labels ?? {}, Tty: !!c.Config?.Tty, OpenStdin: !!c.Config?.OpenStdin,
      StdinOnce: !!c.Config?.StdinOnce, User: c.Config?.User ?? '', Env: c.Config?.Env ?? [], Hostname: c.Config?.Hostname ?? '',
    },
    State: {
      Status: s.Status, Running: !!s.Running, Paused: !!s.Paused, Restarting: !!s.Restarting, OOMKilled: !!s.OOMKilled,
      Dead: !!s.Dead, Pid: s.Pid ?? 0, ExitCode: s.ExitCode ?? 0, Error: s.Error ?? '', StartedAt: s.StartedAt ?? '',
      FinishedAt: s.FinishedAt ?? '',
      ...(s.Health ? { Health: { Status: s.Health.Status, FailingStreak: s.Health.FailingStreak ?? 0 } } : {}),
    },
    HostConfig: { NetworkMode: c.HostConfig?.NetworkMode ?? '' },
    NetworkSettings: { IPAddress: ns.IPAddress ?? '', GlobalIPv6Address: ns.GlobalIPv6Address ?? '', Networks: networks },
    Mounts: (c.Mounts ?? []).map((m: any) => ({ Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, RW: !!m.RW })),
  };
}

/**
 * Every container (running or not) carrying all these labels; a value of `true` only requires
 * the label to be present.
 */
export async function listByLabels(engine: Engine, labels: Record<string, string | true>): Promise<ContainerSummary[]> {
  const label = Object.entries(labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  const list = await dial<any[]>(engine, {
    method: 'GET', path: '/containers/json', query: { all: true, filters: JSON.stringify({ label }) },
  });
  return list.map((c) => ({
    Id: c.Id, Name: String(c.Names?.[0] ?? '').replace(/^\//, ''), Image: c.Image, ImageID: c.ImageID,
    Labels: c.Labels ?? {}, State: c.State, Status: c.Status, Created: c.Created,
  }));
}

export interface WaitResult { exitCode: number; error?: string }

/**
 * Resolves when the container is not running (`not-running`, the default: at once for a stopped
 * one) or after its next exit (`next-exit`). Abort with the signal; the request otherwise stays
 * open as long as the container runs.
 */
export async function wait(
  engine: Engine, containerId: string, opts: { condition?: 'not-running' | 'next-exit' | 'removed'; signal?: AbortSignal } = {},
): Promise<WaitResult> {
  const r = await dial<{ StatusCode: number; Error?: { Message?: string } | null }>(engine, {
    method: 'POST', path: `/containers/${id(containerId)}/wait`, query: { condition: opts.condition ?? 'not-running' }, signal: opts.signal,
  });
  const out: WaitResult = { exitCode: r.StatusCode };
  if (r.Error?.Message) out.error = r.Error.Message;
  return out;
}

/** Renames a container (e.g. to free a kubelet-style name for the next attempt). */
export async function rename(engine: Engine, containerId: string, newName: string): Promise<void> {
  try {
    await dial(engine, { method: 'POST', path: `/containers/${id(containerId)}/rename`, query: { name: newName } });
  } catch (err) {
    if (err instanceof EngineError && err.engineStatus === 409) {
      throw new NameConflictError(newName, /by container "([0-9a-f]+)"/.exec(err.message)?.[1], err.message);
    }
    throw err;
  }
}
