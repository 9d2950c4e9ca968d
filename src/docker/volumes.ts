// Named volumes: pod-owned ones are made implicitly by the sandbox's mounts (translate/), claim
// volumes explicitly here; both are found again and removed by label.
import type { Engine } from './engine.ts';
import { dial, EngineError, isNotFound, requireInstanceLabel } from './http.ts';

export interface VolumeInfo { Name: string; Driver: string; Labels: Record<string, string>; CreatedAt: string; Mountpoint: string }

const info = (v: any): VolumeInfo => ({ Name: v.Name, Driver: v.Driver, Labels: v.Labels ?? {}, CreatedAt: v.CreatedAt ?? '', Mountpoint: v.Mountpoint ?? '' });

/** Creates the volume unless it exists (the engine's create is idempotent for the same name). */
export async function ensureVolume(engine: Engine, name: string, labels: Record<string, string>, driverOpts?: Record<string, string>): Promise<VolumeInfo> {
  requireInstanceLabel(labels, `volume ${name}`);
  const body: Record<string, unknown> = { Name: name, Driver: 'local', Labels: labels };
  if (driverOpts) body.DriverOpts = driverOpts;
  return info(await dial(engine, { method: 'POST', path: '/volumes/create', body }));
}

/** Volumes carrying all these labels (`true`: the label is present, any value). */
export async function listVolumesByLabels(engine: Engine, labels: Record<string, string | true>): Promise<VolumeInfo[]> {
  const label = Object.entries(labels).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  const r = await dial<{ Volumes?: any[] | null }>(engine, { method: 'GET', path: '/volumes', query: { filters: JSON.stringify({ label }) } });
  return (r.Volumes ?? []).map(info);
}

/** Removes a volume; false when it was already gone. One still mounted fails with EngineError 409. */
export async function removeVolume(engine: Engine, name: string, force = false): Promise<boolean> {
  try {
    await dial(engine, { method: 'DELETE', path: `/volumes/${encodeURIComponent(name)}`, query: { force } });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** The engine refused to remove a volume because a container (running or not) still refers to it. */
export function isVolumeInUse(err: unknown): boolean {
  return err instanceof EngineError && err.engineStatus === 409;
}
