// The Service controller: keeps Endpoints and EndpointSlices, the pods' DNS names (through the
// pod controller, which owns the sandboxes) and the host ports of NodePort / LoadBalancer
// Services in line with the Services and their ready pods. Event-driven: woken by changes of
// Services and pods; no timer at all.
import { randomInt } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Engine } from '../docker/engine.ts';
import { frontHash, listProxies, removeProxy, runProxy, runSlot, slotHash, slotPorts, PROXY_FRONT, PROXY_HASH, PROXY_SLOT, type ProxySpec } from '../docker/proxy.ts';
import { ensureSandboxImage } from '../docker/sandbox.ts';
import { log, logError } from '../log.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject } from '../machinery/types.ts';
import { clone, deepEqual } from '../machinery/util.ts';
import { LABELS } from '../translate/index.ts';
import {
  backends, endpointsFor, inClusterTarget, podAliases, podRelays, proxyPorts, selectorMatches, sliceFor,
  SERVICE_NAME_LABEL, SLICE_CONTROLLER, SLICE_MANAGED_BY, type Relay,
} from '../translate/services.ts';
import { networkName } from './adapter.ts';
import { recordEvent } from './events.ts';
import type { PodController } from './pods.ts';
import { KeyedLoop, splitKey } from './queue.ts';

type Obj = Record<string, any>;

const SERVICE_UID = 'k2d.io/service-uid';
const SERVICE_NS = 'k2d.io/service-namespace';
const SERVICE_NAME = 'k2d.io/service-name';
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';
const suffix = () => Array.from({ length: 5 }, () => SAFE[randomInt(SAFE.length)]).join('');

/** What a pod's sandbox needs from the Services that select it. */
export interface PodNetwork { aliases: string[]; relays: Relay[] }

export class ServiceController {
  private svc: KindInfo;
  private pod: KindInfo;
  private ep?: KindInfo;
  private slice?: KindInfo;
  private loop: KeyedLoop;
  private unsubscribe: Array<() => void> = [];
  /** per pod uid: what its sandbox was last told, to wake the pod controller only on a change */
  private told = new Map<string, string>();
  private pods?: PodController;
  private image?: string;

  constructor(private registry: Registry, private engine: Engine, private cfg: Config, private nodeName: () => string) {
    this.svc = registry.kind('services');
    this.pod = registry.kind('pods');
    this.ep = registry.kinds.get('endpoints');
    this.slice = registry.kinds.get('endpointslices.discovery.k8s.io');
    this.loop = new KeyedLoop('service', (key) => this.sync(...splitKey(key)));
  }

  /** The pod controller asks here what a sandbox's names and relays are. */
  attach(pods: PodController): void {
    this.pods = pods;
    pods.serviceNetwork = (pod) => {
      const n = this.networkOf(pod);
      this.told.set(pod.metadata.uid!, JSON.stringify(n));
      return n;
    };
    pods.onNetworkChange = (pod) => this.resyncSelecting(pod);
  }

  /**
   * A pod backs Services only while its sandbox carries the aliases it should: a reconnect for
   * new aliases releases its address, which the engine may give to another container at once,
   * so until the pod's status shows the address it has after, traffic must not be sent to it.
   */
  private settled(pod: KObject, services: KObject[]): boolean {
    if ((pod.spec as Record<string, unknown> | undefined)?.hostNetwork) return true;
    const applied = this.pods?.appliedAliases(pod.metadata.uid!);
    return applied === undefined || applied === JSON.stringify([...new Set(podAliases(pod, services))].sort());
  }

  private resyncSelecting(pod: KObject): void {
    for (const s of this.registry.all(this.svc, pod.metadata.namespace)) {
      if (selectorMatches(s, pod)) this.add(`${s.metadata.namespace}/${s.metadata.name}`);
    }
  }

  networkOf(pod: KObject): PodNetwork {
    const all = this.registry.all(this.svc);
    return { aliases: podAliases(pod, all), relays: podRelays(pod, all.filter((s) => s.metadata.namespace === pod.metadata.namespace)) };
  }

  start(): void {
    const hub = this.registry.hub;
    this.unsubscribe.push(
      hub.add({
        resource: 'services',
        onChange: (c) => {
          this.add(`${c.object.metadata.namespace}/${c.object.metadata.name}`);
          this.recheckPods(c.object, c.old);
        },
      }),
      hub.add({
        resource: 'pods',
        onChange: (c) => {
          const pod = c.object;
          if (c.type === 'DELETED') this.told.delete(pod.metadata.uid!);
          else this.recheckPod(pod);
          for (const s of this.registry.all(this.svc, pod.metadata.namespace)) {
            if (selectorMatches(s, pod) || (c.old && selectorMatches(s, c.old))) this.add(`${s.metadata.namespace}/${s.metadata.name}`);
          }
        },
      }),
    );
    for (const s of this.registry.all(this.svc)) this.add(`${s.metadata.namespace}/${s.metadata.name}`);
    void this.removeOrphanProxies();
  }

  stop(): void {
    this.loop.stop();
    for (const u of this.unsubscribe) u();
  }

  /** Resolves once nothing is queued (tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  /** A pod whose names or relays changed gets a sync of the pod controller (which reconnects it). */
  private recheckPod(pod: KObject): void {
    const uid = pod.metadata.uid!;
    const before = this.told.get(uid);
    if (before === undefined) return; // never synced yet: its first sync asks anyway
    if (JSON.stringify(this.networkOf(pod)) !== before) this.pods?.enqueue(uid);
  }

  private recheckPods(svc: KObject, old?: KObject): void {
    const namespaces = new Set([svc.metadata.namespace!]);
    for (const s of [svc, old]) {
      const ext = (s?.spec as Obj | undefined)?.externalName;
      const t = ext ? inClusterTarget(String(ext)) : undefined;
      if (t) namespaces.add(t[1]);
    }
    for (const ns of namespaces) for (const p of this.registry.all(this.pod, ns)) this.recheckPod(p);
  }

  private add(key: string): void {
    this.loop.add(key);
  }

  private async sync(ns: string, name: string): Promise<void> {
    const svc = this.registry.peek(this.svc, ns, name);
    if (!svc || svc.metadata.deletionTimestamp) {
      await this.dropEndpoints(ns, name);
      await this.syncProxies(ns, name, undefined, []);
      return;
    }
    const spec = (svc.spec ?? {}) as Obj;
    if (spec.type === 'ExternalName' || !spec.selector || !Object.keys(spec.selector).length) {
      await this.syncProxies(ns, name, svc, []);
      return;
    }
    const node = this.nodeName();
    const services = this.registry.all(this.svc);
    const list = backends(svc, this.registry.all(this.pod, ns), (pod) => this.settled(pod, services));
    await this.writeEndpoints(svc, endpointsFor(svc, list, node));
    await this.writeSlice(svc, sliceFor(svc, list, node));
    await this.syncProxies(ns, name, svc, list);
  }

  private async dropEndpoints(ns: string, name: string): Promise<void> {
    if (this.ep) {
      const cur = this.registry.peek(this.ep, ns, name);
      if (cur?.metadata.labels?.['endpoints.kubernetes.io/managed-by'] === 'endpoint-controller') {
        await this.registry.delete(this.ep, ns, name, {}).catch(() => undefined);
      }
    }
    // EndpointSlices are owned by the Service: the garbage collector takes them.
  }

  private async writeEndpoints(svc: KObject, want: KObject): Promise<void> {
    if (!this.ep) return;
    const ns = svc.metadata.namespace!;
    const cur = this.registry.peek(this.ep, ns, svc.metadata.name!);
    if (!cur) {
      await this.registry.create(this.ep, ns, want, { fieldManager: 'endpoint-controller' });
      return;
    }
    if (deepEqual((cur as Obj).subsets, (want as Obj).subsets) && deepEqual(cur.metadata.labels ?? {}, want.metadata.labels)) return;
    const next = clone(cur) as Obj;
    next.metadata.labels = want.metadata.labels;
    if ((want as Obj).subsets) next.subsets = (want as Obj).subsets;
    else delete next.subsets;
    await this.registry.update(this.ep, ns, svc.metadata.name!, next as KObject, { skipRvCheck: true, fieldManager: 'endpoint-controller' });
  }

  private async writeSlice(svc: KObject, want: ReturnType<typeof sliceFor>): Promise<void> {
    if (!this.slice) return;
    const ns = svc.metadata.namespace!;
    const mine = this.registry.all(this.slice, ns).filter((s) =>
      s.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name && s.metadata.labels?.[SLICE_MANAGED_BY] === SLICE_CONTROLLER);
    const [first, ...extra] = mine;
    for (const s of extra) await this.registry.delete(this.slice, ns, s.metadata.name!, {}).catch(() => undefined);
    const owner = [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }];
    if (!first) {
      await this.registry.create(this.slice, ns, {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { name: `${svc.metadata.name}-${suffix()}`, namespace: ns, labels: want.labels, ownerReferences: owner, generateName: `${svc.metadata.name}-` },
        addressType: 'IPv4', endpoints: want.endpoints, ports: want.ports,
      } as KObject, { fieldManager: 'endpointslice-controller' });
      return;
    }
    const f = first as Obj;
    if (deepEqual(f.endpoints ?? [], want.endpoints) && deepEqual(f.ports ?? [], want.ports) && deepEqual(first.metadata.labels, want.labels)) return;
    const next = clone(f);
    next.metadata.labels = want.labels;
    next.endpoints = want.endpoints;
    next.ports = want.ports;
    await this.registry.update(this.slice, ns, first.metadata.name!, next as KObject, { skipRvCheck: true, fieldManager: 'endpointslice-controller' });
  }

  private proxyLabels(ns: string, name: string): Record<string, string> {
    return { [LABELS.instance]: this.cfg.instance, [LABELS.kind]: 'service-proxy', [SERVICE_NS]: ns, [SERVICE_NAME]: name };
  }

  /** The host side of NodePort and LoadBalancer: one proxy container per TCP port with ready pods. */
  private async syncProxies(ns: string, name: string, svc: KObject | undefined, list: ReturnType<typeof backends>): Promise<void> {
    const labels = this.proxyLabels(ns, name);
    const want = svc ? proxyPorts(svc, list).filter((p) => p.backends.length) : [];
    const have = await listProxies(this.engine, labels);
    if (!want.length && !have.length) return this.writeLoadBalancer(svc, true);
    const image = (this.image ??= await ensureSandboxImage(this.engine));
    const network = networkName(this.cfg.instance);
    const specs: ProxySpec[] = want.map((p) => ({
      labels: { ...labels, [SERVICE_UID]: svc!.metadata.uid! },
      name: `k2d-svc_${name}_${ns}_${p.port}_${svc!.metadata.uid!.slice(0, 8)}`,
      image, network,
      // Inside its own container the relay listens above 1024, so it needs no privilege.
      listenPort: p.hostPorts.find((h) => h > 1024) ?? 32768 + (p.port % 32768),
      hostPorts: p.hostPorts, backends: p.backends,
    }));
    const keep = new Set<string>();
    let failed = false;
    for (const s of specs) {
      try {
        let front = have.find((h) => !h.labels[PROXY_FRONT] && h.name === s.name && h.labels[PROXY_HASH] === frontHash(s) && h.running)?.id;
        if (!front) {
          for (const h of have.filter((x) => x.name === s.name)) { await removeProxy(this.engine, h.id); keep.add(h.id); }
          front = await runProxy(this.engine, s);
        }
        keep.add(front);
        // The new slot starts before the old one goes: the front always has one to relay to.
        const slots = have.filter((h) => h.labels[PROXY_FRONT] === front);
        let slot = slots.find((h) => h.labels[PROXY_HASH] === slotHash(s) && h.running)?.id;
        if (!slot) {
          const busy = new Set(slots.filter((h) => h.running).map((h) => Number(h.labels[PROXY_SLOT])));
          const ports = slotPorts(s.listenPort);
          const port = ports.find((p) => !busy.has(p)) ?? ports[0];
          for (const h of slots.filter((x) => Number(x.labels[PROXY_SLOT]) === port)) { await removeProxy(this.engine, h.id); keep.add(h.id); }
          slot = await runSlot(this.engine, s, front, port);
        }
        keep.add(slot);
      } catch (err) {
        failed = true;
        const message = `Error syncing load balancer: failed to publish ports ${s.hostPorts.join(', ')}: ${(err as Error).message}`;
        log('service proxy failed', { level: 'warn', namespace: ns, name, error: (err as Error).message });
        if (svc) recordEvent(this.registry, svc, 'Warning', 'SyncLoadBalancerFailed', message, { component: 'service-controller' }, { kind: 'Service', apiVersion: 'v1' });
      }
    }
    for (const h of have) if (!keep.has(h.id)) await removeProxy(this.engine, h.id);
    await this.writeLoadBalancer(svc, !failed);
  }

  /** status.loadBalancer of a LoadBalancer Service: the host's address once its ports are ours. */
  private async writeLoadBalancer(svc: KObject | undefined, ok: boolean): Promise<void> {
    if (!svc) return;
    const spec = (svc.spec ?? {}) as Obj;
    const want: Obj = spec.type === 'LoadBalancer' && ok ? { ingress: [{ ip: this.cfg.advertiseAddr, ipMode: 'VIP' }] } : {};
    const cur = ((svc.status ?? {}) as Obj).loadBalancer ?? {};
    if (spec.type !== 'LoadBalancer' && !cur.ingress) return;
    if (deepEqual(cur, want)) return;
    await this.registry.update(this.svc, svc.metadata.namespace, svc.metadata.name!, { ...clone(svc), status: { ...(svc.status ?? {}), loadBalancer: want } } as KObject,
      { subresource: 'status', skipRvCheck: true, fieldManager: 'service-controller' });
  }

  /** Proxies whose Service went away while we were down. */
  private async removeOrphanProxies(): Promise<void> {
    try {
      const all = await listProxies(this.engine, { [LABELS.instance]: this.cfg.instance, [LABELS.kind]: 'service-proxy' });
      for (const p of all) {
        const s = this.registry.peek(this.svc, p.labels[SERVICE_NS], p.labels[SERVICE_NAME]);
        if (!s || s.metadata.uid !== p.labels[SERVICE_UID]) await removeProxy(this.engine, p.id);
      }
    } catch (err) {
      logError('service proxy cleanup failed', err);
    }
  }
}
