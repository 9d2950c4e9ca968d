// metrics.k8s.io computed on each read: no scraping loop, no timer, nothing stored but the last
// CPU counter reading of each running container (and of the host), so that the next read can
// turn counters into a rate at once. A reading older than a minute, or younger than a second,
// is not used: the read then takes a second reading a second after its first.
import { readFile } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { listByLabels } from '../docker/containers.ts';
import type { Engine } from '../docker/engine.ts';
import { statsOnce } from '../docker/stats.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KObject } from '../machinery/types.ts';
import { rfc3339 } from '../machinery/util.ts';
import { LABELS } from '../translate/index.ts';
import {
  cpuSample, nanoCores, procMeminfoUsedBytes, procStatBusyNs, usage, windowDuration, workingSetBytes, type CpuSample,
} from '../translate/metrics.ts';

const MIN_WINDOW_MS = 1000;
const MAX_WINDOW_MS = 60_000;
const HOST = 'host';
// A one-shot stats call waits for the engine's next collection tick (once a second): the calls
// spend their time waiting, not working, so many go at once.
const PARALLEL = 32;

interface Reading { cpu?: CpuSample; memory: number }
interface Rate { nanocores: number; memory: number; at: number; windowMs: number }

export class Metrics {
  /** the last CPU reading per container id (and HOST) */
  private last = new Map<string, CpuSample>();

  constructor(private registry: Registry, private engine: Engine, private cfg: Config,
    private sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))) {}

  /** PodMetrics of the running pods (in `namespace`, or the one named). */
  async pods(namespace?: string, name?: string): Promise<KObject[]> {
    const kind = this.registry.kind('pods');
    const pods = name ? [this.registry.peek(kind, namespace, name)].filter((p): p is KObject => !!p) : this.registry.all(kind, namespace);
    const byUid = new Map(pods.filter((p) => p.metadata.uid).map((p) => [p.metadata.uid!, p]));
    const running = await this.runningContainers();
    const mine = running.filter((c) => byUid.has(c.Labels[LABELS.podUid]) && c.Labels[LABELS.kind] !== 'sandbox');
    const rates = await this.rates(mine.map((c) => c.Id), (ids) => this.readContainers(ids), 0);
    const out: KObject[] = [];
    const now = rfc3339(new Date());
    for (const [uid, pod] of byUid) {
      const containers = mine.filter((c) => c.Labels[LABELS.podUid] === uid && rates.has(c.Id));
      if (!containers.length) continue;
      const rs = containers.map((c) => rates.get(c.Id)!);
      out.push({
        apiVersion: 'metrics.k8s.io/v1beta1', kind: 'PodMetrics',
        metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: now, ...(pod.metadata.labels ? { labels: { ...pod.metadata.labels } } : {}) },
        timestamp: rfc3339(new Date(Math.max(...rs.map((r) => r.at)))),
        window: windowDuration(Math.max(...rs.map((r) => r.windowMs))),
        containers: containers.map((c, i) => ({ name: c.Labels[LABELS.containerName] ?? c.Name, usage: usage(rs[i].nanocores, rs[i].memory) }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      } as KObject);
    }
    return out;
  }

  /** NodeMetrics of this node: the host's own counters when the engine is on this machine, else the sum of our containers. */
  async nodes(name?: string): Promise<KObject[]> {
    // A list, not a peek: the Node is refreshed from the engine before reads.
    const node = (await this.registry.list(this.registry.kind('nodes'), undefined)).items[0];
    if (!node || (name && node.metadata.name !== name)) return [];
    let rate: Rate | undefined;
    if (!this.cfg.dockerHost || this.cfg.dockerHost.startsWith('unix://')) {
      rate = (await this.rates([HOST], () => this.readHost(), MIN_WINDOW_MS)).get(HOST);
    }
    if (!rate) {
      const ids = (await this.runningContainers()).map((c) => c.Id);
      const rates = [...(await this.rates(ids, (x) => this.readContainers(x), 0)).values()];
      rate = {
        nanocores: rates.reduce((n, r) => n + r.nanocores, 0), memory: rates.reduce((n, r) => n + r.memory, 0),
        at: rates.length ? Math.max(...rates.map((r) => r.at)) : Date.now(), windowMs: rates.length ? Math.max(...rates.map((r) => r.windowMs)) : 0,
      };
    }
    return [{
      apiVersion: 'metrics.k8s.io/v1beta1', kind: 'NodeMetrics',
      metadata: { name: node.metadata.name, creationTimestamp: rfc3339(new Date()), ...(node.metadata.labels ? { labels: { ...node.metadata.labels } } : {}) },
      timestamp: rfc3339(new Date(rate.at)), window: windowDuration(rate.windowMs), usage: usage(rate.nanocores, rate.memory),
    } as KObject];
  }

  private async runningContainers() {
    const list = (await listByLabels(this.engine, { [LABELS.instance]: this.cfg.instance })).filter((c) => c.State === 'running');
    // Readings of containers that stopped are of no further use.
    const live = new Set(list.map((c) => c.Id));
    for (const id of this.last.keys()) if (id !== HOST && !live.has(id)) this.last.delete(id);
    return list;
  }

  /**
   * Rates of the given keys; a key that cannot be read (gone, stopped) is left out. `pace`: how
   * long to wait before a second reading (the engine's stats need none: each call waits for its
   * next collection tick, a second after the one before).
   */
  private async rates(keys: string[], read: (keys: string[]) => Promise<Map<string, Reading>>, pace: number): Promise<Map<string, Rate>> {
    const first = await read(keys);
    const usable = (k: string) => {
      const prev = this.last.get(k);
      const cur = first.get(k)?.cpu;
      return !!prev && !!cur && cur.at - prev.at >= MIN_WINDOW_MS && cur.at - prev.at <= MAX_WINDOW_MS;
    };
    const base = new Map<string, CpuSample>();
    const cur = new Map(first);
    for (const k of keys) if (usable(k)) base.set(k, this.last.get(k)!);
    const again = keys.filter((k) => first.get(k)?.cpu && !base.has(k));
    if (again.length) {
      if (pace) await this.sleep(pace);
      const second = await read(again);
      for (const k of again) {
        base.set(k, first.get(k)!.cpu!);
        const r = second.get(k);
        if (r?.cpu) cur.set(k, r); else cur.delete(k);
      }
    }
    const out = new Map<string, Rate>();
    for (const k of keys) {
      const r = cur.get(k);
      const b = base.get(k);
      if (!r?.cpu || !b) continue;
      this.last.set(k, r.cpu);
      out.set(k, { nanocores: nanoCores(b, r.cpu), memory: r.memory, at: r.cpu.at, windowMs: r.cpu.at - b.at });
    }
    return out;
  }

  private async readContainers(ids: string[]): Promise<Map<string, Reading>> {
    const out = new Map<string, Reading>();
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++];
        const s = await statsOnce(this.engine, id).catch(() => undefined);
        if (s) out.set(id, { cpu: cpuSample(s), memory: workingSetBytes(s) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
    return out;
  }

  private async readHost(): Promise<Map<string, Reading>> {
    const out = new Map<string, Reading>();
    try {
      const [stat, mem] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8')]);
      const busy = procStatBusyNs(stat);
      const used = procMeminfoUsedBytes(mem);
      if (busy !== undefined && used !== undefined) out.set(HOST, { cpu: { usageNs: busy, at: Date.now() }, memory: used });
    } catch { /* no /proc: the containers' sum stands in */ }
    return out;
  }
}
