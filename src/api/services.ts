// Strategy of core/v1 Service: the apiserver's defaulting, its allocation of clusterIPs and
// nodePorts, and the validation that tools meet. What a Service does at run time (DNS aliases,
// Endpoints, EndpointSlices, published ports) is src/runtime/services.ts.
//
// clusterIP: Docker has no virtual IPs, so the address allocated here (from 10.96.0.0/12, as a
// default cluster's service range) is a stable identifier that does NOT route. The Service's
// DNS names are the way in: they resolve to the ready pods themselves (see runtime/services.ts).
import type { Config } from '../config.ts';
import type { Engine } from '../docker/engine.ts';
import type { StatusCause } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import { goQuote, isDNS1123Label, isDNS1123Subdomain, isLabelKey, isLabelValue } from '../machinery/selectors.ts';
import type { Strategy } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';
import { ServiceController } from '../runtime/services.ts';

type Obj = Record<string, any>;

export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;
const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
/** 10.96.0.0/12 without its network address, 10.96.0.1 (the `kubernetes` Service) and the broadcast address. */
const CIDR_BASE = (10 << 24) | (96 << 16);
const CIDR_SIZE = 1 << 20;

const required = (field: string): StatusCause => ({ reason: 'FieldValueRequired', field, message: 'Required value' });
const invalidValue = (field: string, value: unknown, detail: string): StatusCause =>
  ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${typeof value === 'string' ? goQuote(value) : (value as { go?: string })?.go ?? JSON.stringify(value)}: ${detail}` });
const notSupported = (field: string, value: unknown, list: string[]): StatusCause =>
  ({ reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${goQuote(String(value))}: supported values: ${list.map(goQuote).join(', ')}` });
const duplicate = (field: string, value: unknown): StatusCause =>
  ({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${typeof value === 'string' ? goQuote(value) : JSON.stringify(value)}` });

/** Go's %#v of a []string, as the apiserver prints clusterIPs. */
const goStrings = (l: string[]) => ({ go: `[]string{${l.map((x) => goQuote(x)).join(', ')}}` });
const ipToInt = (ip: string) => ip.split('.').reduce((a, o) => (a * 256) + Number(o), 0);
const intToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const isIPv4 = (s: string) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);

export const needsNodePorts = (spec: Obj) =>
  spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
const hasClusterIP = (spec: Obj) => spec.type !== 'ExternalName';

/** SetDefaults_Service of core/v1. */
export function defaultService(obj: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  s.type ??= 'ClusterIP';
  s.sessionAffinity ??= 'None';
  if (s.sessionAffinity === 'ClientIP') {
    s.sessionAffinityConfig ??= {};
    s.sessionAffinityConfig.clientIP ??= {};
    s.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
  }
  for (const p of (s.ports ?? []) as Obj[]) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (s.type === 'NodePort' || s.type === 'LoadBalancer') s.externalTrafficPolicy ??= 'Cluster';
  if (s.type !== 'ExternalName') s.internalTrafficPolicy ??= 'Cluster';
  if (s.type === 'LoadBalancer') s.allocateLoadBalancerNodePorts ??= true;
}

/** Every clusterIP and nodePort in use (but those of `except`, the object being updated). */
function inUse(registry: Registry, except?: string): { ips: Set<string>; nodePorts: Set<number> } {
  const ips = new Set<string>();
  const nodePorts = new Set<number>();
  for (const svc of registry.all(registry.kind('services'))) {
    if (svc.metadata.uid === except) continue;
    const s = (svc.spec ?? {}) as Obj;
    for (const ip of [s.clusterIP, ...(s.clusterIPs ?? [])]) if (ip && ip !== 'None') ips.add(ip);
    for (const p of (s.ports ?? []) as Obj[]) if (p.nodePort) nodePorts.add(p.nodePort);
  }
  return { ips, nodePorts };
}

function allocateIP(used: Set<string>): string {
  for (let i = 0; i < 64; i++) {
    const ip = intToIp((CIDR_BASE + 2 + Math.floor(Math.random() * (CIDR_SIZE - 3))) >>> 0);
    if (!used.has(ip)) return ip;
  }
  for (let n = 2; n < CIDR_SIZE - 1; n++) {
    const ip = intToIp((CIDR_BASE + n) >>> 0);
    if (!used.has(ip)) return ip;
  }
  throw new Error('no clusterIP left in 10.96.0.0/12');
}

function allocatePort(used: Set<number>): number | undefined {
  const span = NODE_PORT_MAX - NODE_PORT_MIN + 1;
  const start = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const p = NODE_PORT_MIN + ((start + i) % span);
    if (!used.has(p)) return p;
  }
  return undefined;
}

/** The registry's allocation: clusterIP(s), IP families, nodePorts. Causes for what cannot be had. */
function allocate(obj: KObject, old: KObject | undefined, registry: Registry): StatusCause[] {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  const o = (old?.spec ?? {}) as Obj;
  const out: StatusCause[] = [];
  const used = inUse(registry, old?.metadata.uid);
  if (!hasClusterIP(s)) {
    // ExternalName: the allocated values go (the apiserver releases them on such a type change).
    if (old && s.clusterIP === o.clusterIP) delete s.clusterIP;
    if (old && s.clusterIPs && JSON.stringify(s.clusterIPs) === JSON.stringify(o.clusterIPs)) delete s.clusterIPs;
    if (old) { delete s.ipFamilies; delete s.ipFamilyPolicy; }
    for (const p of (s.ports ?? []) as Obj[]) delete p.nodePort;
    return out;
  }
  if (s.clusterIP === undefined || s.clusterIP === '') {
    if (s.clusterIPs?.length) s.clusterIP = s.clusterIPs[0];
    else s.clusterIP = allocateIP(used.ips);
  }
  if (s.clusterIP !== 'None') {
    if (!isIPv4(s.clusterIP)) {
      out.push(invalidValue('spec.clusterIPs[0]', s.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
    } else if (!old || o.clusterIP !== s.clusterIP) {
      const n = ipToInt(s.clusterIP);
      if (n < CIDR_BASE || n >= CIDR_BASE + CIDR_SIZE) {
        out.push(invalidValue('spec.clusterIPs', goStrings([s.clusterIP]), `failed to allocate IP ${s.clusterIP}: the provided IP (${s.clusterIP}) is not in the valid range. The range of valid IPs is 10.96.0.0/12`));
      } else if (used.ips.has(s.clusterIP)) {
        out.push(invalidValue('spec.clusterIPs', goStrings([s.clusterIP]), `failed to allocate IP ${s.clusterIP}: provided IP is already allocated`));
      }
    }
  }
  s.clusterIPs = s.clusterIPs?.length ? s.clusterIPs : [s.clusterIP];
  s.ipFamilies ??= ['IPv4'];
  s.ipFamilyPolicy ??= 'SingleStack';
  const ports = (s.ports ?? []) as Obj[];
  if (needsNodePorts(s)) {
    const oldPorts = needsNodePorts(o) ? ((o.ports ?? []) as Obj[]) : [];
    const taken = new Set(used.nodePorts);
    ports.forEach((p, i) => {
      if (!p.nodePort) {
        const prev = oldPorts.find((q) => q.port === p.port && (q.protocol ?? 'TCP') === p.protocol && q.nodePort)
          ?? oldPorts.find((q) => q.name && q.name === p.name && q.nodePort);
        if (prev) p.nodePort = prev.nodePort;
      }
      if (p.nodePort) {
        if (p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX) {
          out.push(invalidValue(`spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`));
        } else if (taken.has(p.nodePort) && !ports.slice(0, i).some((q) => q.nodePort === p.nodePort && q.protocol !== p.protocol)) {
          out.push(invalidValue(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'));
        }
        taken.add(p.nodePort);
        return;
      }
      const port = allocatePort(taken);
      if (port === undefined) out.push(invalidValue(`spec.ports[${i}].nodePort`, 0, 'range is full'));
      else { p.nodePort = port; taken.add(port); }
    });
  } else if (s.type === 'ClusterIP') {
    for (const p of ports) delete p.nodePort;
  }
  return out;
}

function validateService(obj: KObject, old: KObject | undefined): StatusCause[] {
  const s = ((obj as Obj).spec ?? {}) as Obj;
  const out: StatusCause[] = [];
  if (!TYPES.includes(s.type)) out.push(notSupported('spec.type', s.type, TYPES));
  const ports = (s.ports ?? []) as Obj[];
  const headless = s.clusterIP === 'None';
  if (s.type === 'ExternalName') {
    if (!s.externalName) out.push(required('spec.externalName'));
    else for (const e of isDNS1123Subdomain(String(s.externalName).replace(/\.$/, ''))) out.push(invalidValue('spec.externalName', s.externalName, e));
    if (s.clusterIP) out.push({ reason: 'FieldValueForbidden', field: 'spec.clusterIP', message: 'Forbidden: may not be set for ExternalName services' });
  } else if (!ports.length && !headless) {
    out.push(required('spec.ports'));
  }
  if (headless && (s.type === 'NodePort' || s.type === 'LoadBalancer')) {
    out.push(invalidValue('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${s.type} services`));
  }
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) out.push(required(`${f}.name`));
    if (p.name) {
      for (const e of isDNS1123Label(p.name)) out.push(invalidValue(`${f}.name`, p.name, e));
      if (names.has(p.name)) out.push(duplicate(`${f}.name`, p.name));
      names.add(p.name);
    }
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) out.push(invalidValue(`${f}.port`, p.port, 'must be between 1 and 65535, inclusive'));
    if (!PROTOCOLS.includes(p.protocol)) out.push(notSupported(`${f}.protocol`, p.protocol, PROTOCOLS));
    const key = `${p.port}/${p.protocol}`;
    if (keys.has(key)) out.push(duplicate(f, { port: p.port, protocol: p.protocol }));
    keys.add(key);
    const t = p.targetPort;
    if (typeof t === 'number' && (!Number.isInteger(t) || t < 1 || t > 65535)) out.push(invalidValue(`${f}.targetPort`, t, 'must be between 1 and 65535, inclusive'));
    if (typeof t === 'string' && !/^\d+$/.test(t)) {
      if (t.length > 15 || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(t) || !/[a-z]/.test(t) || t.includes('--')) {
        out.push(invalidValue(`${f}.targetPort`, t, "must contain at least one letter (a-z), must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), must not contain consecutive hyphens, must not begin or end with a hyphen, and must be no more than 15 characters"));
      }
    }
    if (p.nodePort && !(s.type === 'NodePort' || s.type === 'LoadBalancer')) {
      out.push({ reason: 'FieldValueForbidden', field: `${f}.nodePort`, message: 'Forbidden: may not be used when `type` is \'ClusterIP\'' });
    }
  });
  for (const [k, v] of Object.entries((s.selector ?? {}) as Record<string, string>)) {
    for (const e of isLabelKey(k)) out.push(invalidValue('spec.selector', k, e));
    for (const e of isLabelValue(String(v))) out.push(invalidValue('spec.selector', v, e));
  }
  if (s.type !== 'LoadBalancer' && s.allocateLoadBalancerNodePorts != null) {
    out.push({ reason: 'FieldValueForbidden', field: 'spec.allocateLoadBalancerNodePorts', message: 'Forbidden: may only be used when `type` is \'LoadBalancer\'' });
  }
  if (s.sessionAffinity !== 'None' && s.sessionAffinity !== 'ClientIP') out.push(notSupported('spec.sessionAffinity', s.sessionAffinity, ['ClientIP', 'None']));
  if (old) {
    const o = (old.spec ?? {}) as Obj;
    if (hasClusterIP(o) && hasClusterIP(s) && o.clusterIP && s.clusterIP !== o.clusterIP) {
      out.push(invalidValue('spec.clusterIPs[0]', goStrings(s.clusterIPs ?? (s.clusterIP ? [s.clusterIP] : [])), 'may not change once set'));
    }
  }
  return out;
}

/**
 * The apiserver's patchAllocatedValues, before validation: an update that leaves the allocated
 * addresses out (a PUT of a manifest, `helm upgrade --force`, an apply that drops a field it
 * owned) keeps them, instead of asking for a change that may not be made.
 */
function patchAllocatedValues(obj: KObject, old: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  const o = (old.spec ?? {}) as Obj;
  if (!hasClusterIP(o) || !hasClusterIP(s)) return;
  if (!s.clusterIP && o.clusterIP) s.clusterIP = o.clusterIP;
  if (!s.clusterIPs?.length && o.clusterIPs?.length && s.clusterIP === o.clusterIP) s.clusterIPs = o.clusterIPs;
  s.ipFamilies ??= o.ipFamilies;
  s.ipFamilyPolicy ??= o.ipFamilyPolicy;
}

export function services(registry: Registry): Strategy {
  return {
    prepareForCreate(obj) {
      defaultService(obj);
      delete (obj as Obj).status;
      (obj as Obj).status = { loadBalancer: {} };
    },
    prepareForUpdate(obj, old) {
      defaultService(obj);
      patchAllocatedValues(obj, old);
      // dropTypeDependentFields: it only means something for a LoadBalancer.
      if ((obj.spec as Obj).type !== 'LoadBalancer') delete (obj.spec as Obj).allocateLoadBalancerNodePorts;
      if ((obj as Obj).status === undefined) (obj as Obj).status = old.status;
    },
    validate(obj, old, ctx) {
      const causes = validateService(obj, old);
      if (causes.length) return causes;
      // Allocation last: what is refused must not take an address or a port.
      return allocate(obj, old, ctx.registry);
    },
  };
}

/** The `kubernetes` Service of the default namespace, as every cluster has (its IP does not route either). */
async function ensureKubernetesService(registry: Registry, cfg: Config): Promise<void> {
  const svc = registry.kind('services');
  if (registry.peek(svc, 'default', 'kubernetes')) return;
  await registry.create(svc, 'default', {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: cfg.port }] },
  } as KObject, { fieldManager: 'k2d' }).catch(() => undefined);
  const ep = registry.kinds.get('endpoints');
  if (ep && !registry.peek(ep, 'default', 'kubernetes')) {
    await registry.create(ep, 'default', {
      apiVersion: 'v1', kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: cfg.advertiseAddr }], ports: [{ name: 'https', port: cfg.port, protocol: 'TCP' }] }],
    } as KObject, { fieldManager: 'k2d' }).catch(() => undefined);
  }
}

/** Serves Services and starts their controller; undefined when the selection leaves them out. */
export async function setupServices(registry: Registry, engine: Engine, cfg: Config, nodeName: () => string): Promise<ServiceController | undefined> {
  if (!registry.kinds.has('services')) return undefined;
  registry.setStrategy('services', services(registry));
  await ensureKubernetesService(registry, cfg);
  if (!registry.kinds.has('pods')) return undefined;
  return new ServiceController(registry, engine, cfg, nodeName);
}
