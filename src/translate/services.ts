// Services on one Docker network, as pure functions (no I/O):
// - DNS: a Service's names are network aliases of the sandboxes of its ready pods, so Docker's
//   embedded DNS answers `<svc>.<ns>.svc.cluster.local` with every ready pod (round-robin), and the
//   pods' search domains make `<svc>`, `<svc>.<ns>` and `<svc>.<ns>.svc` work too.
// - port -> targetPort: DNS cannot rewrite ports, so a pod whose Service port differs from the
//   targetPort runs a relay in its sandbox listening on the Service port (`/pause l`).
// - NodePort / LoadBalancer: one small proxy container per Service port, published on the host,
//   relaying each connection to the next ready pod.
// - Endpoints and EndpointSlices: what `kubectl get endpoints` and `describe svc` show.
import type { KObject } from '../machinery/types.ts';

type Obj = Record<string, any>;

export const CLUSTER_DOMAIN = 'cluster.local';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const SLICE_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';

const spec = (o: KObject) => (o.spec ?? {}) as Obj;

/** A Service that selects pods (the others' endpoints are managed by hand or by nobody). */
export function selects(svc: KObject): boolean {
  const s = spec(svc);
  return s.type !== 'ExternalName' && !!s.selector && Object.keys(s.selector).length > 0;
}

export function selectorMatches(svc: KObject, pod: KObject): boolean {
  if (!selects(svc) || svc.metadata.namespace !== pod.metadata.namespace) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(spec(svc).selector as Record<string, string>).every(([k, v]) => labels[k] === v);
}

const probed = (pod: KObject) => ((spec(pod).containers ?? []) as Obj[]).some((c) => c.readinessProbe || c.startupProbe);

export function podReady(pod: KObject): boolean {
  return ((pod.status as Obj | undefined)?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Whether a pod is in its Service's DNS now. A pod that has not reported yet and has no
 * readiness or startup probe counts as ready: its sandbox then gets its names when it is
 * created, instead of a reconnect a moment later.
 */
export function podServing(pod: KObject, svc: KObject): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  const st = (pod.status ?? {}) as Obj;
  if (st.phase === 'Succeeded' || st.phase === 'Failed') return false;
  if (spec(svc).publishNotReadyAddresses) return true;
  if (podReady(pod)) return true;
  return !(st.containerStatuses ?? []).length && !probed(pod);
}

export const serviceFQDN = (name: string, ns: string) => `${name}.${ns}.svc.${CLUSTER_DOMAIN}`;

/** `x.ns.svc.cluster.local` (final dot or not) -> [x, ns]: a CNAME target is absolute, so only the full name is in-cluster. */
export function inClusterTarget(externalName: string): [string, string] | undefined {
  const parts = externalName.replace(/\.$/, '').split('.');
  if (parts.length === 5 && parts.slice(2).join('.') === `svc.${CLUSTER_DOMAIN}`) return [parts[0], parts[1]];
  return undefined;
}

/** The DNS names a pod's sandbox answers to, given every Service (all namespaces). */
export function podAliases(pod: KObject, services: KObject[]): string[] {
  const out = new Set<string>();
  const ns = pod.metadata.namespace!;
  const s = spec(pod);
  const hostname = (s.hostname as string | undefined) || pod.metadata.name!;
  const mine: KObject[] = [];
  for (const svc of services) {
    if (!selectorMatches(svc, pod) || !podServing(pod, svc)) continue;
    mine.push(svc);
    out.add(serviceFQDN(svc.metadata.name!, ns));
    // A headless Service named by the pod's subdomain gives the pod its own name (StatefulSets).
    if (s.subdomain === svc.metadata.name && spec(svc).clusterIP === 'None') out.add(`${hostname}.${serviceFQDN(svc.metadata.name!, ns)}`);
  }
  // ExternalName Services that name one of those Services resolve to the same pods.
  for (const ext of services) {
    const es = spec(ext);
    if (es.type !== 'ExternalName' || !es.externalName) continue;
    const t = inClusterTarget(String(es.externalName));
    if (t && mine.some((m) => m.metadata.name === t[0] && m.metadata.namespace === t[1])) out.add(serviceFQDN(ext.metadata.name!, ext.metadata.namespace!));
  }
  return [...out].sort();
}

/** A Service port's targetPort on this pod: a number, a container port's name, or undefined. */
export function resolveTargetPort(port: Obj, pod: KObject): number | undefined {
  const t = port.targetPort ?? port.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(String(t))) return Number(t);
  for (const c of [...((spec(pod).containers ?? []) as Obj[]), ...((spec(pod).initContainers ?? []) as Obj[]).filter((i) => i.restartPolicy === 'Always')]) {
    for (const p of (c.ports ?? []) as Obj[]) if (p.name === t && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

export interface Relay { port: number; target: number }

/** In-sandbox relays a pod needs: Service port -> targetPort where they differ (TCP only). */
export function podRelays(pod: KObject, services: KObject[]): Relay[] {
  const out = new Map<number, number>();
  for (const svc of services) {
    if (!selectorMatches(svc, pod) || spec(svc).clusterIP === 'None') continue;
    for (const p of (spec(svc).ports ?? []) as Obj[]) {
      if ((p.protocol ?? 'TCP') !== 'TCP') continue;
      const target = resolveTargetPort(p, pod);
      if (target && target !== p.port && !out.has(p.port)) out.set(p.port, target);
    }
  }
  return [...out].map(([port, target]) => ({ port, target })).sort((a, b) => a.port - b.port);
}

export interface Backend { pod: KObject; ip: string; ready: boolean; serving: boolean; terminating: boolean }

/**
 * The pods behind a Service with an address, ready or not (terminating ones flagged). `settled`
 * leaves out pods whose address is in question (a sandbox being reconnected for its aliases).
 */
export function backends(svc: KObject, pods: KObject[], settled: (pod: KObject) => boolean = () => true): Backend[] {
  const out: Backend[] = [];
  for (const pod of pods) {
    if (!selectorMatches(svc, pod) || !settled(pod)) continue;
    const st = (pod.status ?? {}) as Obj;
    const ip = st.podIP as string | undefined;
    if (!ip || st.phase === 'Succeeded' || st.phase === 'Failed') continue;
    const terminating = !!pod.metadata.deletionTimestamp;
    const ready = podReady(pod) && !terminating;
    out.push({ pod, ip, ready: ready || (!!spec(svc).publishNotReadyAddresses && !terminating), serving: podReady(pod), terminating });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }) || a.pod.metadata.name!.localeCompare(b.pod.metadata.name!));
}

const targetRef = (pod: KObject) => ({ kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid });

function portsFor(svc: KObject, pod: KObject): Array<{ name?: string; port: number; protocol: string }> | undefined {
  const out: Array<{ name?: string; port: number; protocol: string }> = [];
  for (const p of (spec(svc).ports ?? []) as Obj[]) {
    const port = resolveTargetPort(p, pod);
    if (port === undefined) continue;
    out.push({ ...(p.name ? { name: p.name } : {}), port, protocol: p.protocol ?? 'TCP' });
  }
  return out.length || !(spec(svc).ports ?? []).length ? out : undefined;
}

/** The Endpoints object of a selecting Service (without resourceVersion and the like). */
export function endpointsFor(svc: KObject, list: Backend[], nodeName: string): KObject {
  const subsets = new Map<string, { addresses: Obj[]; notReadyAddresses: Obj[]; ports: Obj[] }>();
  for (const b of list) {
    if (b.terminating) continue;
    const ports = portsFor(svc, b.pod);
    if (!ports) continue;
    const key = JSON.stringify(ports);
    let sub = subsets.get(key);
    if (!sub) subsets.set(key, (sub = { addresses: [], notReadyAddresses: [], ports }));
    const s = spec(b.pod);
    const addr: Obj = { ip: b.ip };
    if (s.hostname && s.subdomain === svc.metadata.name) addr.hostname = s.hostname;
    addr.nodeName = nodeName;
    addr.targetRef = targetRef(b.pod);
    (b.ready ? sub.addresses : sub.notReadyAddresses).push(addr);
  }
  const out: Obj[] = [];
  for (const sub of subsets.values()) {
    const s: Obj = {};
    if (sub.addresses.length) s.addresses = sub.addresses;
    if (sub.notReadyAddresses.length) s.notReadyAddresses = sub.notReadyAddresses;
    if (sub.ports.length) s.ports = sub.ports;
    out.push(s);
  }
  const labels = { ...(svc.metadata.labels ?? {}), 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' };
  return {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels },
    ...(out.length ? { subsets: out } : {}),
  } as KObject;
}

/** The content of the Service's one EndpointSlice (name, owner and metadata are the caller's). */
export function sliceFor(svc: KObject, list: Backend[], nodeName: string): { endpoints: Obj[]; ports: Obj[]; labels: Record<string, string> } {
  const endpoints: Obj[] = [];
  let ports: Obj[] | undefined;
  for (const b of list) {
    const p = portsFor(svc, b.pod);
    if (!p) continue;
    ports ??= p;
    const s = spec(b.pod);
    const ep: Obj = {
      addresses: [b.ip],
      conditions: { ready: b.ready, serving: b.serving, terminating: b.terminating },
    };
    if (s.hostname && s.subdomain === svc.metadata.name) ep.hostname = s.hostname;
    ep.nodeName = nodeName;
    ep.targetRef = targetRef(b.pod);
    endpoints.push(ep);
  }
  ports ??= ((spec(svc).ports ?? []) as Obj[]).filter((p) => typeof (p.targetPort ?? p.port) === 'number' || /^\d+$/.test(String(p.targetPort)))
    .map((p) => ({ name: p.name ?? '', port: Number(p.targetPort ?? p.port), protocol: p.protocol ?? 'TCP' }));
  const labels: Record<string, string> = {
    ...(svc.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: svc.metadata.name!, [SLICE_MANAGED_BY]: SLICE_CONTROLLER,
  };
  if (spec(svc).clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
  return { endpoints, ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol })), labels };
}

export interface ProxyPort {
  /** the Service port (the proxy listens on it inside its container) */
  port: number;
  /** host ports published to it: the nodePort, and the port itself for a LoadBalancer */
  hostPorts: number[];
  backends: Array<{ ip: string; port: number }>;
}

/** What a NodePort or LoadBalancer Service publishes on the host (TCP ports with ready backends). */
export function proxyPorts(svc: KObject, list: Backend[]): ProxyPort[] {
  const s = spec(svc);
  if (s.type !== 'NodePort' && s.type !== 'LoadBalancer') return [];
  const out: ProxyPort[] = [];
  for (const p of (s.ports ?? []) as Obj[]) {
    if ((p.protocol ?? 'TCP') !== 'TCP') continue;
    const hostPorts = [p.nodePort, s.type === 'LoadBalancer' ? p.port : undefined].filter((x): x is number => !!x);
    if (!hostPorts.length) continue;
    const bs = list.filter((b) => b.ready).map((b) => ({ ip: b.ip, port: resolveTargetPort(p, b.pod) })).filter((b): b is { ip: string; port: number } => !!b.port);
    out.push({ port: p.port, hostPorts: [...new Set(hostPorts)], backends: bs });
  }
  return out;
}
