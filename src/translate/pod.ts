// PodSpec -> Docker create bodies. Pure: everything the plan needs arrives in PlanEnv.
//
// A pod is a sandbox container plus its init and app containers, as kubelet ran pods on Docker.
// The sandbox (the caller's small always-buildable image) owns the pod's network namespace, IPC
// namespace, hostname, /etc/hosts and resolv.conf; every other container joins it with
// NetworkMode/IpcMode `container:<sandbox>`, so they reach each other on localhost and share
// /dev/shm. Docker refuses hostname, DNS, extra hosts, exposed and published ports on a joining
// container, so all of those live on the sandbox: a hostPort is a PortBinding of the sandbox,
// which forwards into the shared namespace whichever container listens. The sandbox never exits
// on its own, so a crash of one container restarts only that container, not the pod's network.
// Restarts are ours (RestartPolicy no on everything): back-off and CrashLoopBackOff are the
// controller's, see status.ts.

import { createHash } from 'node:crypto';
import { goQuote } from '../machinery/selectors.ts';
import type { KObject } from '../machinery/types.ts';
import { resolveEnv, serviceEnv } from './env.ts';
import { expand } from './expand.ts';
import type { Container, PodSpec } from './k8s.ts';
import { containerName, LABELS, sandboxName, SANDBOX_CONTAINER_NAME } from './names.ts';
import { effectiveRequests } from './qos.ts';
import { quantityMilli, quantityValue, tryParseQuantity } from './quantity.ts';
import type {
  CreateSpec, DockerCreateBody, DockerHostConfig, FileSpec, HostPathCheck, PlanContext, PlanEnv, PodPlan,
} from './types.ts';
import { containerMounts, planVolumes, podFiles, sandboxMounts } from './volumes.ts';

export const DEFAULT_GRACE_SECONDS = 30;
/** The engine refuses smaller memory limits (moby linuxMinMemory). */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
const CPU_PERIOD = 100_000;

function context(pod: KObject, env: PlanEnv): PlanContext {
  const meta = pod.metadata;
  return {
    pod, spec: (pod.spec ?? {}) as PodSpec, env, errors: [], warnings: [],
    name: meta.name ?? '', namespace: meta.namespace ?? 'default', uid: meta.uid ?? '',
  };
}

export function planPod(pod: KObject, env: PlanEnv): PodPlan {
  const ctx = context(pod, env);
  checkPod(ctx);
  const vols = planVolumes(ctx);
  const files = podFiles(ctx, vols);
  const svcEnv = serviceEnv(ctx);
  const dirs: FileSpec[] = [];
  const plan = (kind: 'init' | 'app' | 'ephemeral') => (c: Container, i: number): CreateSpec => {
    const field = `spec.${{ init: 'initContainers', app: 'containers', ephemeral: 'ephemeralContainers' }[kind]}[${i}]`;
    const resolved = resolveEnv(ctx, c, field, svcEnv);
    const mounts = containerMounts(ctx, c, field, resolved.map, vols, files);
    for (const d of mounts.dirs) {
      if (!dirs.some((x) => x.volume === d.volume && x.path === d.path)) dirs.push(d);
    }
    return planContainer(ctx, c, kind, i, field, resolved.list, mounts);
  };
  const init = (ctx.spec.initContainers ?? []).map(plan('init'));
  const containers = (ctx.spec.containers ?? []).map(plan('app'));
  const ephemeral = ((ctx.spec.ephemeralContainers ?? []) as Container[]).map(plan('ephemeral'));
  const hostPathChecks: HostPathCheck[] = [];
  for (const v of vols.values()) {
    const type = (ctx.spec.volumes ?? []).find((x) => x.name === v.name)?.hostPath?.type ?? '';
    if (v.hostPath !== undefined && type !== '') hostPathChecks.push({ field: `${v.field}.hostPath`, path: v.hostPath, type });
  }
  return {
    sandbox: planSandbox(ctx, sandboxMounts(ctx, vols)),
    init, containers, ephemeral, files: [...files, ...dirs], hostPathChecks,
    errors: ctx.errors, warnings: ctx.warnings,
  };
}

/** Only the volume contents: what to rewrite when a ConfigMap, Secret or the pod's labels change. */
export function podVolumeFiles(pod: KObject, env: PlanEnv): Pick<PodPlan, 'files' | 'errors' | 'warnings'> {
  const ctx = context(pod, env);
  const files = podFiles(ctx, planVolumes(ctx));
  return { files, errors: ctx.errors, warnings: ctx.warnings };
}

function forbid(ctx: PlanContext, field: string, detail: string, container?: string) {
  ctx.errors.push({ field, message: `Forbidden: ${detail}`, reason: 'Invalid', ...(container ? { container } : {}) });
}

/** Pod-level fields that would run differently than asked on this node. */
function checkPod(ctx: PlanContext) {
  const { spec, env } = ctx;
  if (!spec.containers?.length) ctx.errors.push({ field: 'spec.containers', message: 'Required value', reason: 'Invalid' });
  if (spec.nodeName && spec.nodeName !== env.nodeName) forbid(ctx, 'spec.nodeName', `this node is ${goQuote(env.nodeName)}`);
  if (spec.os?.name && spec.os.name !== 'linux') {
    ctx.errors.push({ field: 'spec.os.name', message: `Unsupported value: ${goQuote(spec.os.name)}: supported values: "linux"`, reason: 'Invalid' });
  }
  if (spec.hostUsers === false) forbid(ctx, 'spec.hostUsers', 'user namespaces are not supported on this node');
  if (spec.runtimeClassName) forbid(ctx, 'spec.runtimeClassName', 'runtime classes are not supported on this node');
  if (Array.isArray(spec.resourceClaims) && spec.resourceClaims.length) forbid(ctx, 'spec.resourceClaims', 'dynamic resource allocation is not supported on this node');
  if (spec.resources != null) forbid(ctx, 'spec.resources', 'pod-level resources are not supported on this node');
  const psc = spec.securityContext ?? {};
  if (psc.supplementalGroupsPolicy === 'Strict') {
    forbid(ctx, 'spec.securityContext.supplementalGroupsPolicy', 'Strict cannot be honoured: the engine always adds the groups the image declares');
  }
  if (psc.seccompProfile?.type === 'Localhost') forbid(ctx, 'spec.securityContext.seccompProfile.type', 'Localhost seccomp profiles are not supported on this node');
}

function identity(ctx: PlanContext): Record<string, string> {
  return { [LABELS.podName]: ctx.name, [LABELS.podNamespace]: ctx.namespace, [LABELS.podUid]: ctx.uid };
}

function clusterDomain(ctx: PlanContext): string {
  return ctx.env.clusterDomain ?? 'cluster.local';
}

/** kubelet's GeneratePodHostNameAndDomain: a name longer than 63 is cut, trailing '-' and '.' dropped. */
export function podHostname(pod: KObject, clusterDomainName = 'cluster.local'): { hostname: string; domain: string } {
  const spec = (pod.spec ?? {}) as PodSpec;
  let hostname = spec.hostname || pod.metadata.name || '';
  if (hostname.length > 63) hostname = hostname.slice(0, 63).replace(/[-.]+$/, '');
  const domain = spec.subdomain ? `${spec.subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomainName}` : '';
  return { hostname, domain };
}

function planSandbox(ctx: PlanContext, mounts: DockerHostConfig['Mounts']): CreateSpec {
  const { spec, env } = ctx;
  const hostNet = spec.hostNetwork === true;
  const hc: DockerHostConfig = {
    NetworkMode: hostNet ? 'host' : env.network,
    // shareable: the app containers join this IPC namespace (and its /dev/shm).
    IpcMode: spec.hostIPC ? 'host' : 'shareable',
    // dockershim's sandbox share: the pause process needs next to no CPU.
    CpuShares: 2,
    SecurityOpt: ['no-new-privileges'],
    RestartPolicy: { Name: 'no' },
  };
  if (spec.hostPID) hc.PidMode = 'host';
  const body: DockerCreateBody = {
    Image: env.sandboxImage,
    Labels: {
      ...identity(ctx), [LABELS.containerName]: SANDBOX_CONTAINER_NAME, [LABELS.dockerType]: 'podsandbox',
      [LABELS.instance]: env.instance, [LABELS.kind]: 'sandbox',
    },
    HostConfig: hc,
  };
  if (!hostNet) {
    const { hostname, domain } = podHostname(ctx.pod, clusterDomain(ctx));
    if (spec.setHostnameAsFQDN) {
      const fqdn = domain ? `${hostname}.${domain}` : hostname;
      if (fqdn.length > 64) {
        ctx.errors.push({ field: 'spec.setHostnameAsFQDN', message: `Invalid value: true: FQDN ${goQuote(fqdn)} is too long (64 characters is the max, ${fqdn.length} characters requested)`, reason: 'Invalid' });
      }
      body.Hostname = fqdn;
    } else {
      body.Hostname = hostname;
      if (domain) body.Domainname = domain;
    }
    const ports = sandboxPorts(ctx);
    if (ports.exposed) body.ExposedPorts = ports.exposed;
    if (ports.bindings) hc.PortBindings = ports.bindings;
    body.NetworkingConfig = { EndpointsConfig: { [env.network]: { Aliases: [...env.aliases] } } };
  }
  const extraHosts = (spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`));
  if (extraHosts.length) hc.ExtraHosts = extraHosts;
  Object.assign(hc, dnsSettings(ctx));
  const sysctls = podSysctls(ctx);
  if (sysctls) hc.Sysctls = sysctls;
  if (mounts?.length) hc.Mounts = mounts;
  return { name: sandboxName(ctx, env.sandboxAttempt ?? 0), body };
}

/** Ports of app containers and sidecars, exposed and (for a hostPort) published by the sandbox. */
function sandboxPorts(ctx: PlanContext): { exposed?: Record<string, Record<string, never>>; bindings?: DockerHostConfig['PortBindings'] } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: NonNullable<DockerHostConfig['PortBindings']> = {};
  const running = [...(ctx.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(ctx.spec.containers ?? [])];
  for (const c of running) {
    for (const p of c.ports ?? []) {
      const key = `${p.containerPort}/${(p.protocol || 'TCP').toLowerCase()}`;
      exposed[key] = {};
      if (!p.hostPort) continue;
      const b = { HostIp: p.hostIP ?? '', HostPort: String(p.hostPort) };
      const list = (bindings[key] ??= []);
      if (!list.some((x) => x.HostIp === b.HostIp && x.HostPort === b.HostPort)) list.push(b);
    }
  }
  return {
    exposed: Object.keys(exposed).length ? exposed : undefined,
    bindings: Object.keys(bindings).length ? bindings : undefined,
  };
}

/**
 * dnsPolicy as resolv.conf settings. ClusterFirst needs no nameserver: on a user-defined network
 * Docker's embedded DNS answers Service aliases and forwards everything else to the host's
 * resolvers; the search list makes short names resolve in the pod's namespace.
 */
function dnsSettings(ctx: PlanContext): Pick<DockerHostConfig, 'Dns' | 'DnsSearch' | 'DnsOptions'> {
  const { spec } = ctx;
  const policy = spec.dnsPolicy || 'ClusterFirst';
  const hostNet = spec.hostNetwork === true;
  let cluster = false;
  switch (policy) {
    case 'ClusterFirst': cluster = !hostNet; break;
    case 'ClusterFirstWithHostNet':
      cluster = !hostNet;
      if (hostNet) ctx.warnings.push('dnsPolicy ClusterFirstWithHostNet: a host-network pod on this node resolves with the host\'s DNS, so Service names do not resolve');
      break;
    case 'Default': case 'None': break;
    default:
      ctx.errors.push({ field: 'spec.dnsPolicy', message: `Unsupported value: ${goQuote(policy)}: supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"`, reason: 'Invalid' });
  }
  const cd = clusterDomain(ctx);
  const servers: string[] = [];
  const search: string[] = cluster ? [`${ctx.namespace}.svc.${cd}`, `svc.${cd}`, cd] : [];
  const options = new Map<string, string>(cluster ? [['ndots', '5']] : []);
  const cfg = spec.dnsConfig;
  for (const s of cfg?.nameservers ?? []) if (!servers.includes(s)) servers.push(s);
  for (const s of cfg?.searches ?? []) if (!search.includes(s)) search.push(s);
  for (const o of cfg?.options ?? []) if (o.name) options.set(o.name, o.value ?? '');
  const out: Pick<DockerHostConfig, 'Dns' | 'DnsSearch' | 'DnsOptions'> = {};
  if (servers.length) out.Dns = servers;
  if (search.length) out.DnsSearch = search;
  if (options.size) out.DnsOptions = [...options].map(([k, v]) => (v ? `${k}:${v}` : k));
  return out;
}

const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

/** Pod sysctls belong to the network and IPC namespaces, which the sandbox owns. */
function podSysctls(ctx: PlanContext): Record<string, string> | undefined {
  const list = ctx.spec.securityContext?.sysctls ?? [];
  if (!list.length) return undefined;
  const out: Record<string, string> = {};
  list.forEach((s, i) => {
    const f = `spec.securityContext.sysctls[${i}].name`;
    // Kubernetes accepts `net/ipv4/ip_forward`; a '/' first means '/' and '.' swap roles.
    const name = /^[^.]*\//.test(s.name) ? s.name.replace(/[./]/g, (ch) => (ch === '/' ? '.' : '/')) : s.name;
    const ipc = IPC_SYSCTLS.includes(name) || name.startsWith('fs.mqueue.');
    const net = name.startsWith('net.');
    if (!ipc && !net) forbid(ctx, f, `sysctl ${goQuote(name)} is not namespaced and cannot be set for one pod`);
    else if (net && ctx.spec.hostNetwork) forbid(ctx, f, `sysctl ${goQuote(name)} not allowed with host net enabled`);
    else if (ipc && ctx.spec.hostIPC) forbid(ctx, f, `sysctl ${goQuote(name)} not allowed with host ipc enabled`);
    else out[name] = s.value;
  });
  return Object.keys(out).length ? out : undefined;
}

/** kubelet's milliCPUToShares. */
export function cpuShares(milli: number): number {
  if (milli === 0) return 2;
  return Math.min(262144, Math.max(2, Math.floor((milli * 1024) / 1000)));
}

function normalizeCap(cap: string): string {
  return cap.toUpperCase().replace(/^CAP_/, '');
}

function imageUid(user: string): string {
  return user.split(':')[0];
}

function formatPod(ctx: PlanContext): string {
  return goQuote(`${ctx.name}_${ctx.namespace}(${ctx.uid})`);
}

function planContainer(
  ctx: PlanContext, c: Container, kind: 'init' | 'app' | 'ephemeral', index: number, field: string,
  env: Array<[string, string]>, mounts: { Mounts: DockerHostConfig['Mounts']; Binds: string[] },
): CreateSpec {
  const { spec } = ctx;
  const attempt = ctx.env.restartCounts?.[c.name] ?? 0;
  const sandboxRef = ctx.env.sandboxId ?? sandboxName(ctx, ctx.env.sandboxAttempt ?? 0);
  const vars = new Map(env);
  const lookup = (n: string) => vars.get(n);
  const fail = (f: string, message: string) => ctx.errors.push({ field: f, message, reason: 'CreateContainerConfigError', container: c.name });

  if (!c.image) ctx.errors.push({ field: `${field}.image`, message: 'Required value', reason: 'Invalid', container: c.name });
  if (c.volumeDevices?.length) forbid(ctx, `${field}.volumeDevices`, 'block volumes are not supported on this node', c.name);
  if (c.resources?.claims?.length) forbid(ctx, `${field}.resources.claims`, 'dynamic resource allocation is not supported on this node', c.name);

  const labels: Record<string, string> = {
    ...identity(ctx), [LABELS.containerName]: c.name, [LABELS.dockerType]: 'container',
    [LABELS.hash]: containerHash(c), [LABELS.restartCount]: String(attempt),
    [LABELS.instance]: ctx.env.instance, [LABELS.kind]: kind, [LABELS.containerIndex]: String(index),
  };
  if (ctx.env.sandboxId) labels[LABELS.sandboxId] = ctx.env.sandboxId;
  if (spec.terminationGracePeriodSeconds !== undefined) labels[LABELS.terminationGracePeriod] = String(spec.terminationGracePeriodSeconds);

  const hc: DockerHostConfig = {
    NetworkMode: `container:${sandboxRef}`,
    IpcMode: spec.hostIPC ? 'host' : `container:${sandboxRef}`,
    RestartPolicy: { Name: 'no' },
  };
  if (spec.hostPID) hc.PidMode = 'host';
  else if (spec.shareProcessNamespace) hc.PidMode = `container:${sandboxRef}`;

  const body: DockerCreateBody = {
    Image: c.image ?? '',
    Env: env.map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    StopTimeout: spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
    HostConfig: hc,
  };
  // Kubernetes command replaces the image ENTRYPOINT (and drops its CMD, as Docker does too).
  if (c.command?.length) body.Entrypoint = c.command.map((s) => expand(s, lookup));
  if (c.args?.length) body.Cmd = c.args.map((s) => expand(s, lookup));
  if (c.workingDir) body.WorkingDir = c.workingDir;
  if (c.tty) body.Tty = true;
  if (c.stdin) body.OpenStdin = true;
  if (c.stdinOnce) body.StdinOnce = true;
  if (typeof c.lifecycle?.stopSignal === 'string') body.StopSignal = c.lifecycle.stopSignal;

  resources(ctx, c, field, hc);
  security(ctx, c, field, body, fail);
  if (mounts.Binds.length) hc.Binds = mounts.Binds;
  if (mounts.Mounts?.length) hc.Mounts = mounts.Mounts;
  return { name: containerName(c.name, ctx, attempt), body };
}

const PLAIN_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

function resources(ctx: PlanContext, c: Container, field: string, hc: DockerHostConfig) {
  const limits = c.resources?.limits ?? {};
  const requests = effectiveRequests(c);
  for (const [kind, list] of [['limits', limits], ['requests', c.resources?.requests ?? {}]] as const) {
    for (const name of Object.keys(list)) {
      if (!PLAIN_RESOURCES.includes(name)) forbid(ctx, `${field}.resources.${kind}[${name}]`, `${goQuote(name)} cannot be provided on this node`, c.name);
    }
  }
  const mem = tryParseQuantity(limits.memory);
  if (mem && mem.num > 0n) {
    const bytes = quantityValue(mem);
    if (bytes < MIN_MEMORY_BYTES) {
      forbid(ctx, `${field}.resources.limits.memory`, `the engine's smallest memory limit is 6Mi, got ${goQuote(String(limits.memory))}`, c.name);
    }
    hc.Memory = bytes;
    // Equal to Memory: no swap on top of the limit, as kubelet runs containers.
    hc.MemorySwap = bytes;
  }
  const memReq = tryParseQuantity(requests.memory);
  if (memReq && memReq.num > 0n) hc.MemoryReservation = quantityValue(memReq);
  const cpuReq = tryParseQuantity(requests.cpu);
  hc.CpuShares = cpuShares(cpuReq ? quantityMilli(cpuReq) : 0);
  const cpu = tryParseQuantity(limits.cpu);
  if (cpu && cpu.num > 0n) {
    hc.CpuPeriod = CPU_PERIOD;
    hc.CpuQuota = Math.max(1000, Math.floor((quantityMilli(cpu) * CPU_PERIOD) / 1000));
  }
}

function security(ctx: PlanContext, c: Container, field: string, body: DockerCreateBody, fail: (f: string, m: string) => void) {
  const hc = body.HostConfig;
  const psc = ctx.spec.securityContext ?? {};
  const csc = c.securityContext ?? {};
  const sf = `${field}.securityContext`;
  const runAsUser = csc.runAsUser ?? psc.runAsUser;
  const runAsGroup = csc.runAsGroup ?? psc.runAsGroup;
  const imageUser = c.image ? ctx.env.imageUser?.(c.image) : undefined;
  if (runAsUser !== undefined) {
    body.User = runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser);
  } else if (runAsGroup !== undefined) {
    if (imageUser === undefined) fail(`${sf}.runAsGroup`, 'runAsGroup without runAsUser needs the image\'s user, which is not known yet');
    else body.User = `${imageUid(imageUser) || '0'}:${runAsGroup}`;
  }
  if (csc.runAsNonRoot ?? psc.runAsNonRoot) {
    // kubelet's verifyRunAsNonRoot, with its messages.
    const who = `(pod: ${formatPod(ctx)}, container: ${c.name})`;
    if (runAsUser !== undefined) {
      if (runAsUser === 0) fail(`${sf}.runAsNonRoot`, `container's runAsUser breaks non-root policy ${who}`);
    } else if (imageUser === undefined) {
      fail(`${sf}.runAsNonRoot`, `container has runAsNonRoot and the image's user is not known yet, cannot verify user is non-root ${who}`);
    } else {
      const uid = imageUid(imageUser);
      if (uid === '' || uid === '0') fail(`${sf}.runAsNonRoot`, `container has runAsNonRoot and image will run as root ${who}`);
      else if (!/^\d+$/.test(uid)) fail(`${sf}.runAsNonRoot`, `container has runAsNonRoot and image has non-numeric user (${uid}), cannot verify user is non-root ${who}`);
    }
  }
  const groups: string[] = [];
  for (const g of [...(psc.fsGroup !== undefined ? [psc.fsGroup] : []), ...(psc.supplementalGroups ?? [])]) {
    if (!groups.includes(String(g))) groups.push(String(g));
  }
  if (groups.length) hc.GroupAdd = groups;
  if (csc.privileged) hc.Privileged = true;
  const add = (csc.capabilities?.add ?? []).map(normalizeCap);
  const drop = (csc.capabilities?.drop ?? []).map(normalizeCap);
  if (add.length) hc.CapAdd = add;
  if (drop.length) hc.CapDrop = drop;
  if (csc.readOnlyRootFilesystem) hc.ReadonlyRootfs = true;
  const opts: string[] = [];
  if (csc.allowPrivilegeEscalation === false) opts.push('no-new-privileges');
  const seccomp = csc.seccompProfile ?? psc.seccompProfile;
  if (seccomp?.type === 'Unconfined') opts.push('seccomp=unconfined');
  if (csc.seccompProfile?.type === 'Localhost') forbid(ctx, `${sf}.seccompProfile.type`, 'Localhost seccomp profiles are not supported on this node', c.name);
  const apparmor = csc.appArmorProfile ?? psc.appArmorProfile;
  if (apparmor?.type === 'Unconfined') opts.push('apparmor=unconfined');
  if (apparmor?.type === 'Localhost' && apparmor.localhostProfile) opts.push(`apparmor=${apparmor.localhostProfile}`);
  const se = csc.seLinuxOptions ?? psc.seLinuxOptions;
  for (const k of ['user', 'role', 'type', 'level'] as const) if (se?.[k]) opts.push(`label=${k}:${se[k]}`);
  if (opts.length) hc.SecurityOpt = opts;
  if (csc.procMount === 'Unmasked') {
    hc.MaskedPaths = [];
    hc.ReadonlyPaths = [];
  }
}

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * A digest of the container's spec (not of resolved values): a change means the running
 * container no longer matches its pod. Key order does not count, since patches reorder keys.
 */
export function containerHash(c: Container): string {
  return createHash('sha256').update(stable(c)).digest('hex').slice(0, 16);
}


