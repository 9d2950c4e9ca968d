// Docker inspect -> Pod status, computed as kubelet computes it (kubelet_pods.go
// convertToAPIContainerStatuses and getPhase, status/generate.go for the conditions), so that
// kubectl, Helm and `kubectl wait` read our pods exactly as they read a real node's.

import { goQuote } from '../machinery/selectors.ts';
import type { KObject } from '../machinery/types.ts';
import type { Container, PodSpec } from './k8s.ts';
import { LABELS } from './names.ts';
import { qosClass, type QOSClass } from './qos.ts';

/** `docker inspect` .State */
export interface DockerState {
  Status: string; Running: boolean; Paused?: boolean; Restarting?: boolean; OOMKilled: boolean;
  Dead?: boolean; Pid?: number; ExitCode: number; Error?: string; StartedAt: string; FinishedAt: string;
}

/** The subset of `docker inspect` (container) that status needs. */
export interface DockerInspect {
  Id: string;
  /** the image id, `sha256:...` */
  Image?: string;
  Config?: { Image?: string; Labels?: Record<string, string> };
  State: DockerState;
  NetworkSettings?: {
    IPAddress?: string; GlobalIPv6Address?: string;
    Networks?: Record<string, { IPAddress?: string; GlobalIPv6Address?: string; Aliases?: string[] | null }>;
  };
}

export interface ObservedContainer {
  /** the Kubernetes container name */
  name: string;
  /** the newest Docker container made for it */
  current?: DockerInspect;
  /** the one before it, shown as lastState */
  previous?: DockerInspect;
  /** RepoDigests of current's image: imageID is `docker-pullable://<first>` when there is one */
  imageDigests?: string[];
  /** restarts so far; default: current's restartCount label */
  restartCount?: number;
  /** readiness probe result; undefined when the container has no readiness probe */
  ready?: boolean;
  /** startup probe passed; undefined when the container has no startup probe */
  started?: boolean;
  /** why the container cannot be (re)created: ErrImagePull, ImagePullBackOff, CreateContainerConfigError, ... */
  waiting?: { reason: string; message?: string };
  /** an exited container is not restarted before `until`: CrashLoopBackOff */
  backoff?: { until: string | Date; delaySeconds: number };
  /** state.terminated.message of current and lastState.terminated.message of previous (terminationMessagePath) */
  messages?: { current?: string; previous?: string };
}

export interface ObservedPod {
  now: string | Date;
  hostIP: string;
  hostIPs?: string[];
  sandbox?: DockerInspect;
  containers: ObservedContainer[];
  /** activeDeadlineSeconds has passed: the pod is Failed with reason DeadlineExceeded */
  deadlineExceeded?: boolean;
}

export const DEADLINE_EXCEEDED_MESSAGE = 'Pod was active on the node longer than the specified deadline';

/**
 * When the pod's activeDeadlineSeconds runs out (ms since the epoch), counted from
 * status.startTime, or from `now` for a pod that has none yet (its first status sets it to now).
 */
export function activeDeadline(pod: KObject, now: number): number | undefined {
  const ads = (pod.spec as PodSpec | undefined)?.activeDeadlineSeconds;
  if (typeof ads !== 'number') return undefined;
  const start = Date.parse(String((pod.status as { startTime?: string } | undefined)?.startTime ?? ''));
  return (Number.isNaN(start) ? now : start) + ads * 1000;
}

export interface ContainerStateTerminated {
  exitCode: number; signal?: number; reason?: string; message?: string;
  startedAt: string | null; finishedAt: string | null; containerID?: string;
}
export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt: string | null };
  terminated?: ContainerStateTerminated;
}
export interface ContainerStatus {
  name: string; state: ContainerState; lastState: ContainerState; ready: boolean; restartCount: number;
  image: string; imageID: string; containerID?: string; started?: boolean;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; recursiveReadOnly?: string }>;
}
export interface PodCondition {
  type: string; status: 'True' | 'False' | 'Unknown'; observedGeneration?: number;
  lastProbeTime: string | null; lastTransitionTime: string | null; reason?: string; message?: string;
}
export interface PodStatus {
  observedGeneration?: number;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  conditions: PodCondition[];
  message?: string; reason?: string;
  hostIP?: string; hostIPs?: Array<{ ip: string }>;
  podIP?: string; podIPs?: Array<{ ip: string }>;
  startTime?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses: ContainerStatus[];
  qosClass: QOSClass;
  ephemeralContainerStatuses?: ContainerStatus[];
}

const KUBELET_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

const INITIAL_BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 300_000;

/**
 * kubelet's restart back-off, in ms, before the next start of a container that has been
 * restarted `restartCount` times: the first restart is immediate, then 10 s doubling to 5 min.
 * (kubelet forgets the back-off after 10 min without a crash: pass the crash streak then.)
 */
export function backoffDelay(restartCount: number): number {
  if (restartCount <= 0) return 0;
  return Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** Math.min(restartCount - 1, 16));
}

/** Whether kubelet would start this container again after it exited with exitCode. */
export function shouldRestart(pod: KObject, name: string, exitCode: number): boolean {
  const spec = (pod.spec ?? {}) as PodSpec;
  const policy = spec.restartPolicy ?? 'Always';
  const init = spec.initContainers?.find((c) => c.name === name);
  if (init) return init.restartPolicy === 'Always' || (exitCode !== 0 && policy !== 'Never');
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** Go's Duration.String() for whole seconds: 10s, 1m20s, 5m0s. */
export function goDuration(seconds: number): string {
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return `${h}h${m}m${s % 60}s`;
  if (m) return `${m}m${s % 60}s`;
  return `${s}s`;
}

/** metav1.Time: RFC 3339 to the second; Docker's zero time is null. */
export function kubeTime(t: string | Date | undefined): string | null {
  if (t === undefined || t === '') return null;
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() <= 1) return null;
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

function isRestartable(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

function terminatedOf(i: DockerInspect): ContainerStateTerminated {
  const s = i.State;
  const startedAt = kubeTime(s.StartedAt);
  const t: ContainerStateTerminated = {
    exitCode: s.ExitCode,
    reason: s.OOMKilled ? 'OOMKilled' : s.ExitCode === 0 ? 'Completed' : 'Error',
    startedAt, finishedAt: kubeTime(s.FinishedAt), containerID: `docker://${i.Id}`,
  };
  if (s.Error && startedAt === null) {
    // The engine could not start it at all (bad entrypoint, missing mount source, ...).
    t.reason = 'StartError';
    t.message = s.Error;
    t.exitCode = s.ExitCode || 128;
  }
  return t;
}

function withMessage(t: ContainerStateTerminated, message: string | undefined): ContainerStateTerminated {
  if (message && !t.message) t.message = message;
  return t;
}

function labelCount(i: DockerInspect | undefined): number | undefined {
  const v = i?.Config?.Labels?.[LABELS.restartCount];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

function containerStatus(
  pod: KObject, c: Container, obs: ObservedContainer | undefined, defaultReason: string,
  isInit: boolean, now: Date,
): ContainerStatus {
  const cur = obs?.current;
  const st: ContainerStatus = {
    name: c.name, state: {}, lastState: {}, ready: false,
    restartCount: obs?.restartCount ?? labelCount(cur) ?? 0,
    image: cur?.Config?.Image || c.image || '', imageID: '',
  };
  if (cur) {
    st.containerID = `docker://${cur.Id}`;
    const digest = obs?.imageDigests?.[0];
    st.imageID = digest ? `docker-pullable://${digest}` : cur.Image ? `docker://${cur.Image}` : '';
  }
  if (obs?.previous) st.lastState = { terminated: withMessage(terminatedOf(obs.previous), obs.messages?.previous) };

  const s = cur?.State;
  if (!s) st.state = { waiting: { reason: defaultReason } };
  else if (s.Running || s.Status === 'running' || s.Status === 'paused' || s.Status === 'restarting') {
    st.state = { running: { startedAt: kubeTime(s.StartedAt) } };
  } else if (s.Status === 'created' && !s.Error) st.state = { waiting: { reason: defaultReason } };
  else st.state = { terminated: withMessage(terminatedOf(cur!), obs?.messages?.current) };

  const term = st.state.terminated;
  if (obs?.waiting) {
    if (term) st.lastState = { terminated: term };
    st.state = { waiting: { reason: obs.waiting.reason, ...(obs.waiting.message ? { message: obs.waiting.message } : {}) } };
  } else if (term && obs?.backoff && new Date(obs.backoff.until).getTime() > now.getTime()
    && shouldRestart(pod, c.name, term.exitCode)) {
    const m = pod.metadata;
    st.lastState = { terminated: term };
    st.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${goDuration(obs.backoff.delaySeconds)} restarting failed container=${c.name} pod=${m.name}_${m.namespace}(${m.uid})`,
      },
    };
  }

  const running = !!st.state.running;
  st.started = running && (obs?.started ?? true);
  if (isInit && !isRestartable(c)) st.ready = !!st.state.terminated && st.state.terminated.exitCode === 0;
  else st.ready = st.started && (obs?.ready ?? true);

  if (c.volumeMounts?.length) {
    st.volumeMounts = c.volumeMounts.map((vm) => (vm.readOnly
      ? { name: vm.name, mountPath: vm.mountPath, readOnly: true, recursiveReadOnly: 'Disabled' }
      : { name: vm.name, mountPath: vm.mountPath }));
  }
  return st;
}

type Phase = PodStatus['phase'];

/** kubelet's getPhase. */
function phaseOf(spec: PodSpec, inits: ContainerStatus[], apps: ContainerStatus[], terminal: boolean, initialized: boolean): Phase {
  const byName = new Map([...inits, ...apps].map((s) => [s.name, s]));
  let pendingInit = 0;
  let failedInit = 0;
  let unknown = 0; let running = 0; let waiting = 0; let stopped = 0; let succeeded = 0;
  for (const c of spec.initContainers ?? []) {
    const s = byName.get(c.name);
    if (isRestartable(c)) {
      if (!s) { unknown++; continue; }
      if (s.state.running) { if (!s.started) pendingInit++; running++; }
      else if (s.state.terminated) { /* a stopped sidecar does not count */ }
      else if (s.state.waiting) { if (!s.lastState.terminated) { pendingInit++; waiting++; } }
      else { pendingInit++; unknown++; }
      continue;
    }
    if (!s) { pendingInit++; continue; }
    if (s.state.running) pendingInit++;
    else if (s.state.terminated) { if (s.state.terminated.exitCode !== 0) failedInit++; }
    else if (s.state.waiting) {
      if (s.lastState.terminated) { if (s.lastState.terminated.exitCode !== 0) failedInit++; }
      else pendingInit++;
    } else pendingInit++;
  }
  for (const c of spec.containers ?? []) {
    const s = byName.get(c.name);
    if (!s) { unknown++; continue; }
    if (s.state.running) running++;
    else if (s.state.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.state.waiting) { if (s.lastState.terminated) stopped++; else waiting++; }
    else unknown++;
  }
  const policy = spec.restartPolicy ?? 'Always';
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if ((pendingInit > 0 && !initialized) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function anyRegularStarted(spec: PodSpec, statuses: ContainerStatus[]): boolean {
  const names = new Set((spec.containers ?? []).map((c) => c.name));
  return statuses.some((s) => names.has(s.name) && (s.state.running || s.state.terminated));
}

type Cond = Omit<PodCondition, 'lastProbeTime' | 'lastTransitionTime' | 'observedGeneration'>;

function readiness(spec: PodSpec, statuses: ContainerStatus[], phase: Phase): Cond {
  const byName = new Map(statuses.map((s) => [s.name, s]));
  if (phase === 'Succeeded') return { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' };
  if (phase === 'Failed') return { type: 'ContainersReady', status: 'False', reason: 'PodFailed' };
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of [...(spec.initContainers ?? []).filter(isRestartable), ...(spec.containers ?? [])]) {
    const s = byName.get(c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (unready.length) msgs.push(`containers with unready status: [${unready.join(' ')}]`);
  return msgs.length
    ? { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: msgs.join(', ') }
    : { type: 'ContainersReady', status: 'True' };
}

function initializedCond(spec: PodSpec, statuses: ContainerStatus[], phase: Phase): Cond {
  const byName = new Map(statuses.map((s) => [s.name, s]));
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of spec.initContainers ?? []) {
    const s = byName.get(c.name);
    if (!s) { unknown.push(c.name); continue; }
    if (isRestartable(c) ? !s.started : !s.ready) incomplete.push(c.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { type: 'Initialized', status: 'True', reason: 'PodCompleted' };
  if (anyRegularStarted(spec, statuses)) return { type: 'Initialized', status: 'True' };
  const msgs: string[] = [];
  if (unknown.length) msgs.push(`containers with unknown status: [${unknown.join(' ')}]`);
  if (incomplete.length) msgs.push(`containers with incomplete status: [${incomplete.join(' ')}]`);
  return msgs.length
    ? { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: msgs.join(', ') }
    : { type: 'Initialized', status: 'True' };
}

function readyCond(spec: PodSpec, containersReady: Cond, conditions: PodCondition[]): Cond {
  if (containersReady.status !== 'True') return { ...containersReady, type: 'Ready' };
  const msgs: string[] = [];
  for (const g of spec.readinessGates ?? []) {
    const c = conditions.find((x) => x.type === g.conditionType);
    if (!c) msgs.push(`corresponding condition of pod readiness gate ${goQuote(g.conditionType)} does not exist.`);
    else if (c.status !== 'True') msgs.push(`the status of pod readiness gate ${goQuote(g.conditionType)} is not "True", but ${c.status}`);
  }
  return msgs.length
    ? { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: msgs.join(', ') }
    : { type: 'Ready', status: 'True' };
}

function sandboxIPs(sb: DockerInspect | undefined): string[] {
  if (!sb?.State.Running) return [];
  const ns = sb.NetworkSettings;
  const v4: string[] = [];
  const v6: string[] = [];
  for (const n of Object.values(ns?.Networks ?? {})) {
    if (n.IPAddress) v4.push(n.IPAddress);
    if (n.GlobalIPv6Address) v6.push(n.GlobalIPv6Address);
  }
  if (ns?.IPAddress) v4.push(ns.IPAddress);
  if (ns?.GlobalIPv6Address) v6.push(ns.GlobalIPv6Address);
  // One of each family at most, IPv4 first, as kubelet's sortPodIPs does on an IPv4 node.
  return [v4[0], v6[0]].filter((x): x is string => !!x);
}

export function podStatus(pod: KObject, observed: ObservedPod): PodStatus {
  const spec = (pod.spec ?? {}) as PodSpec;
  const old = (pod.status ?? {}) as Partial<PodStatus>;
  const now = observed.now instanceof Date ? observed.now : new Date(observed.now);
  const nowText = kubeTime(now)!;
  const byName = new Map(observed.containers.map((c) => [c.name, c]));
  const defaultReason = spec.initContainers?.length ? 'PodInitializing' : 'ContainerCreating';

  const inits = (spec.initContainers ?? []).map((c) => containerStatus(pod, c, byName.get(c.name), defaultReason, true, now));
  const apps = (spec.containers ?? []).map((c) => containerStatus(pod, c, byName.get(c.name), defaultReason, false, now))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const all = [...inits, ...apps];

  const wasInitialized = (old.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  let phase = phaseOf(spec, inits, apps, !!pod.metadata.deletionTimestamp, wasInitialized || anyRegularStarted(spec, all));
  // A pod never leaves a terminal phase.
  if (old.phase === 'Succeeded' || old.phase === 'Failed') phase = old.phase;
  else if (observed.deadlineExceeded) phase = 'Failed';

  const generation = typeof pod.metadata.generation === 'number' ? pod.metadata.generation : undefined;
  const stamp = (c: Cond): PodCondition => {
    const prev = (old.conditions ?? []).find((x) => x.type === c.type);
    const out: PodCondition = {
      type: c.type, status: c.status, observedGeneration: generation, lastProbeTime: null,
      lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : nowText,
    };
    if (generation === undefined) delete out.observedGeneration;
    if (c.reason) out.reason = c.reason;
    if (c.message) out.message = c.message;
    return out;
  };
  const conditions: PodCondition[] = (old.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.includes(c.type));
  const hostNet = spec.hostNetwork === true;
  const sandboxUp = !!observed.sandbox?.State.Running && (hostNet || sandboxIPs(observed.sandbox).length > 0);
  const containersReady = readiness(spec, all, phase);
  conditions.push(
    stamp({ type: 'PodReadyToStartContainers', status: sandboxUp ? 'True' : 'False' }),
    stamp(initializedCond(spec, all, phase)),
    stamp(readyCond(spec, containersReady, conditions)),
    stamp(containersReady),
    stamp({ type: 'PodScheduled', status: 'True' }),
  );

  const hostIPs = observed.hostIPs?.length ? observed.hostIPs : observed.hostIP ? [observed.hostIP] : [];
  let ips = hostNet ? (observed.sandbox ? hostIPs : []) : sandboxIPs(observed.sandbox);
  // An IP stays once given (kubelet keeps it for a stopped pod).
  if (!ips.length && old.podIPs?.length) ips = old.podIPs.map((p) => p.ip);

  const status: PodStatus = { phase, conditions, containerStatuses: apps, qosClass: qosClass(pod) };
  if (generation !== undefined) status.observedGeneration = generation;
  if (phase === old.phase) {
    if (old.reason) status.reason = old.reason;
    if (old.message) status.message = old.message;
  } else if (phase === 'Failed' && observed.deadlineExceeded) {
    status.reason = 'DeadlineExceeded';
    status.message = DEADLINE_EXCEEDED_MESSAGE;
  }
  if (hostIPs.length) {
    status.hostIP = hostIPs[0];
    status.hostIPs = hostIPs.map((ip) => ({ ip }));
  }
  if (ips.length) {
    status.podIP = ips[0];
    status.podIPs = ips.map((ip) => ({ ip }));
  }
  status.startTime = old.startTime ?? nowText;
  if (spec.initContainers?.length) status.initContainerStatuses = inits;
  // Ephemeral containers (`kubectl debug`) run once, are never ready and do not count anywhere else.
  if (spec.ephemeralContainers?.length) {
    status.ephemeralContainerStatuses = spec.ephemeralContainers.map((c) => ({ ...containerStatus(pod, c, byName.get(c.name), defaultReason, false, now), ready: false }));
  }
  return ordered(status);
}

/** Field order of the Go struct, so a status reads as a real node's does. */
function ordered(s: PodStatus): PodStatus {
  const keys: Array<keyof PodStatus> = [
    'observedGeneration', 'phase', 'conditions', 'message', 'reason', 'hostIP', 'hostIPs', 'podIP', 'podIPs',
    'startTime', 'initContainerStatuses', 'containerStatuses', 'qosClass', 'ephemeralContainerStatuses',
  ];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (s[k] !== undefined) out[k] = s[k];
  return out as unknown as PodStatus;
}
