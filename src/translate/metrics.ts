// metrics.k8s.io from engine stats: CPU as the rate between two cumulative samples (nanocores,
// as metrics-server reports it), memory as the working set (usage less inactive file pages,
// metrics-server's and kubelet's figure), and the window the rate covers.

/** One reading of a cumulative CPU counter, with when it was taken. */
export interface CpuSample {
  /** CPU time used so far, in ns */
  usageNs: number;
  /** ms since the epoch */
  at: number;
}

/** Docker's stats reply, the parts used here. */
export interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/** The CPU sample of a stats reply; undefined for a stopped container (zero read time). */
export function cpuSample(s: DockerStats): CpuSample | undefined {
  const at = s.read ? Date.parse(s.read) : NaN;
  const usageNs = s.cpu_stats?.cpu_usage?.total_usage;
  if (!Number.isFinite(at) || at <= 0 || typeof usageNs !== 'number') return undefined;
  return { usageNs, at };
}

/** Bytes in use less inactive file cache (cgroup v2 `inactive_file`, v1 `total_inactive_file`). */
export function workingSetBytes(s: DockerStats): number {
  const m = s.memory_stats ?? {};
  const usage = m.usage ?? 0;
  const inactive = m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0;
  return Math.max(0, usage - inactive);
}

/** Cores used between two samples, in nanocores; 0 when the window is empty or a counter went back. */
export function nanoCores(prev: CpuSample, cur: CpuSample): number {
  const wallNs = (cur.at - prev.at) * 1e6;
  const used = cur.usageNs - prev.usageNs;
  if (wallNs <= 0 || used <= 0) return 0;
  return Math.round((used / wallNs) * 1e9);
}

/** Quantities as metrics-server writes them: `<n>n` CPU, `<n>Ki` memory. */
export function usage(nanocores: number, workingSet: number): { cpu: string; memory: string } {
  return { cpu: `${Math.max(0, Math.round(nanocores))}n`, memory: `${Math.floor(Math.max(0, workingSet) / 1024)}Ki` };
}

/** A Go duration of whole milliseconds: 10.5s, 1m2.003s. */
export function windowDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const m = Math.floor(total / 60_000);
  const rest = (total % 60_000) / 1000;
  const s = `${Number(rest.toFixed(3))}s`;
  return m ? `${m}m${s}` : s;
}

/** The `cpu ` line of /proc/stat: busy time (all but idle and iowait) in ns, USER_HZ being 100. */
export function procStatBusyNs(text: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 4 || f.some((x) => !Number.isFinite(x))) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is inside user already)
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy * 1e7;
}

/** MemTotal - MemAvailable from /proc/meminfo, in bytes. */
export function procMeminfoUsedBytes(text: string): number | undefined {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  if (total === undefined || available === undefined) return undefined;
  return Math.max(0, total - available) * 1024;
}
