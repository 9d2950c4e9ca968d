// Kinds computed rather than stored as given: the Node (the Docker host), Events in two API
// versions over one storage, and the self-review kinds that answer "yes" to the token holder.
import type { Engine, EngineFacts } from '../docker/engine.ts';
import type { Registry } from '../machinery/registry.ts';
import type { Strategy, StrategyContext } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';
import { deepEqual } from '../machinery/util.ts';
import type { Config } from '../config.ts';

const MAX_EVENTS = 1000;
const EVENT_TTL_MS = 3600_000;

export function nodeObject(f: EngineFacts, cfg: Config, old?: KObject): KObject {
  const arch = ({ x86_64: 'amd64', aarch64: 'arm64', armv7l: 'arm' } as Record<string, string>)[f.arch] ?? f.arch;
  const os = f.os || 'linux';
  const memKi = `${Math.floor(f.memoryBytes / 1024)}Ki`;
  const ready = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'k2d is posting ready status: the Docker engine answers' };
  const oldReady = ((old?.status as { conditions?: Array<Record<string, string>> })?.conditions ?? []).find((c) => c.type === 'Ready');
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const since = oldReady?.status === 'True' ? oldReady.lastTransitionTime : now;
  const cond = (type: string, reason: string, message: string) => ({ type, status: 'False', lastHeartbeatTime: since, lastTransitionTime: since, reason, message });
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      ...(old?.metadata ?? {}),
      name: f.name,
      labels: {
        ...(old?.metadata.labels ?? {}),
        'kubernetes.io/hostname': f.name, 'kubernetes.io/os': os, 'kubernetes.io/arch': arch,
        'beta.kubernetes.io/os': os, 'beta.kubernetes.io/arch': arch, 'node-role.kubernetes.io/control-plane': '',
      },
    },
    spec: (old?.spec as object) ?? {},
    status: {
      capacity: { cpu: String(f.cpus), memory: memKi, pods: '110', 'ephemeral-storage': '0' },
      allocatable: { cpu: String(f.cpus), memory: memKi, pods: '110', 'ephemeral-storage': '0' },
      conditions: [
        cond('MemoryPressure', 'KubeletHasSufficientMemory', 'k2d has sufficient memory available'),
        cond('DiskPressure', 'KubeletHasNoDiskPressure', 'k2d has no disk pressure'),
        cond('PIDPressure', 'KubeletHasSufficientPID', 'k2d has sufficient PID available'),
        { ...ready, lastHeartbeatTime: since, lastTransitionTime: since },
      ],
      addresses: [{ type: 'InternalIP', address: cfg.advertiseAddr }, { type: 'Hostname', address: f.name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        machineID: f.id, systemUUID: f.id, bootID: '', kernelVersion: f.kernel, osImage: f.osImage,
        containerRuntimeVersion: `docker://${f.version}`, kubeletVersion: 'v1.36.0-k2d', kubeProxyVersion: '',
        operatingSystem: os, architecture: arch,
      },
      images: f.images.filter((i) => i.names.length).map((i) => ({ names: i.names, sizeBytes: i.sizeBytes })),
    },
  };
}

/**
 * The node's heartbeat Lease in kube-node-lease (what `kubectl describe node` shows), renewed
 * when the Node is refreshed on a read: while nothing reads, nothing is written.
 */
async function renewNodeLease(registry: Registry, node: KObject): Promise<void> {
  const kind = registry.kinds.get('leases.coordination.k8s.io');
  if (!kind || !registry.peek(registry.kind('namespaces'), undefined, 'kube-node-lease')) return;
  const name = node.metadata.name!;
  const renewTime = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  const old = registry.peek(kind, 'kube-node-lease', name);
  const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime };
  if (!old) {
    await registry.create(kind, 'kube-node-lease', {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid! }] },
      spec,
    } as KObject, { fieldManager: 'k2d' }).catch(() => {});
  } else {
    await registry.update(kind, 'kube-node-lease', name, { ...old, spec: { ...(old.spec as object), ...spec } } as KObject, { skipRvCheck: true, fieldManager: 'k2d' }).catch(() => {});
  }
}

/** The Node is refreshed from the engine on read, at most every few seconds: no timer. */
export function nodes(registry: Registry, engine: Engine, cfg: Config): Strategy {
  let last = 0;
  let pending: Promise<void> | undefined;
  const refresh = async () => {
    const facts = await engine.facts();
    const kind = registry.kind('nodes');
    let old = registry.peek(kind, undefined, facts.name);
    const next = nodeObject(facts, cfg, old);
    if (!old) {
      await registry.create(kind, undefined, next, { fieldManager: 'k2d' });
    } else if (!deepEqual(next.metadata.labels, old.metadata.labels)) {
      await registry.update(kind, undefined, facts.name, { ...old, metadata: { ...old.metadata, labels: next.metadata.labels } }, { skipRvCheck: true, fieldManager: 'k2d' });
    }
    old = registry.peek(kind, undefined, facts.name)!;
    if (!deepEqual(old.status, next.status)) {
      await registry.update(kind, undefined, facts.name, { ...old, status: next.status }, { subresource: 'status', skipRvCheck: true, fieldManager: 'k2d' });
    }
    await renewNodeLease(registry, old);
    last = Date.now();
  };
  return {
    async beforeRead(): Promise<void> {
      engine.requireAvailable();
      if (Date.now() - last < 5000) return;
      pending ??= refresh().finally(() => { pending = undefined; });
      await pending;
    },
  };
}

function eventTime(o: KObject): number {
  const t = (o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp) as string | undefined;
  return t ? Date.parse(t) : 0;
}

/** Events are bounded in age and number; pruning happens on write, so an idle server does nothing. */
export function coreEvents(registry: Registry): Strategy {
  return {
    prepareForCreate(obj: KObject, ctx: StrategyContext): void {
      if (obj.count === undefined && !obj.series) obj.count = 1;
      const now = ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
      if (!obj.firstTimestamp && !obj.eventTime) obj.firstTimestamp = now;
      if (!obj.lastTimestamp && !obj.eventTime) obj.lastTimestamp = now;
      if (!obj.type) obj.type = 'Normal';
      if (ctx.dryRun) return;
      const kind = registry.kind('events');
      const all = registry.all(kind);
      const cutoff = ctx.now.getTime() - EVENT_TTL_MS;
      const old = all.filter((e) => eventTime(e) < cutoff);
      const sorted = all.filter((e) => eventTime(e) >= cutoff).sort((a, b) => eventTime(a) - eventTime(b));
      const excess = sorted.slice(0, Math.max(0, sorted.length + 1 - MAX_EVENTS));
      for (const e of [...old, ...excess]) void registry.purge(kind, e.metadata.namespace, e.metadata.name!);
    },
  };
}

const MOVES: Array<[string, string]> = [
  ['involvedObject', 'regarding'], ['message', 'note'], ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'], ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'], ['count', 'deprecatedCount'],
];

export function eventsV1(): Strategy {
  return {
    view: {
      storage: 'events',
      toView(o: KObject): KObject {
        const out: KObject = { ...o, apiVersion: 'events.k8s.io/v1', kind: 'Event' };
        for (const [core, v1] of MOVES) {
          delete out[core];
          if (o[core] !== undefined && o[core] !== '') out[v1] = o[core];
        }
        return out;
      },
      fromView(o: KObject): KObject {
        const out: KObject = { ...o, apiVersion: 'v1', kind: 'Event' };
        for (const [core, v1] of MOVES) {
          delete out[v1];
          if (o[v1] !== undefined) out[core] = o[v1];
        }
        return out;
      },
    },
  };
}

export const selfSubjectAccessReviews: Strategy = {
  createOnly(obj: KObject): KObject {
    return { ...obj, metadata: { ...obj.metadata, creationTimestamp: null as unknown as string }, status: { allowed: true, reason: 'k2d: the token holder may do everything' } };
  },
};

export const selfSubjectRulesReviews: Strategy = {
  createOnly(obj: KObject): KObject {
    return {
      ...obj, metadata: { ...obj.metadata, creationTimestamp: null as unknown as string },
      status: {
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      },
    };
  },
};

/**
 * `kubectl auth whoami`: the bearer token is the only credential there is, and its holder may do
 * everything (see the reviews above), so it is shown as a member of system:masters.
 */
export const selfSubjectReviews: Strategy = {
  createOnly(obj: KObject): KObject {
    return {
      ...obj, metadata: { ...obj.metadata, creationTimestamp: null as unknown as string },
      status: { userInfo: { username: 'k2d', groups: ['system:masters', 'system:authenticated'] } },
    };
  },
};
