// meta.k8s.io Table responses (`kubectl get`). Columns come from openapi/tables.yaml via
// KindInfo.columns; each cell is a plain field path or a named cell below, computed the way
// upstream pkg/printers/internalversion/printers.go computes it. The server prints "wide"
// (every column gets a cell); kubectl hides priority>0 columns itself.

import { badRequest } from './errors.ts';
import { formatLabels, formatLabelSelector, goQuote, labelSelectorString } from './selectors.ts';
import type { ColumnInfo, KindInfo, KObject } from './types.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  /** `includeObject` query parameter; unset means Metadata. */
  includeObject?: string;
  /** list metadata for a list response (ignored for a single object) */
  listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  now?: Date;
  /** negotiated `meta.k8s.io/v1` (default) or `meta.k8s.io/v1beta1` */
  apiVersion?: string;
}

export interface TableColumnDefinition { name: string; type: string; format: string; description: string; priority: number }
export interface TableRowCondition { type: string; status: string; reason?: string; message?: string }
export interface TableRow { cells: unknown[]; conditions?: TableRowCondition[]; object: unknown }
export interface Table {
  kind: 'Table'; apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[] | null;
}

const NAME_DOC = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const CREATED_DOC = 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

/** The apiserver's default table convertor, for kinds without a printer. */
export const DEFAULT_COLUMNS: ColumnInfo[] = [
  { name: 'Name', type: 'string', format: 'name', description: NAME_DOC, path: '.metadata.name' },
  { name: 'Created At', type: 'date', description: CREATED_DOC, path: '@createdAt' },
];

// ---- durations and times ----

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration, for a duration in milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(ms / 3600000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

// Go's zero time.Time (0001-01-01T00:00:00Z) means "unset" too.
const GO_ZERO_TIME = -62135596800000;

function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) || t <= GO_ZERO_TIME ? undefined : t;
}

/** translateTimestampSince: `<unknown>` for a missing time. */
export function since(ts: unknown, now: number): string {
  const t = timeOf(ts);
  return t === undefined ? '<unknown>' : humanDuration(now - t);
}

// ---- helpers ----

type Obj = Record<string, any>;
interface Ctx { now: number; pod?: PodSummary }

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const keys = (v: unknown): string[] => (v && typeof v === 'object' ? Object.keys(v) : []);
/** resource.Quantity.String() of a stored value (already canonical); a nil pointer prints `<nil>`. */
const qty = (v: unknown): string => (v === undefined || v === null ? '<nil>' : String(v));
/** a zero Quantity value prints "0" */
const qtyOrZero = (v: unknown): string => (v === undefined || v === null ? '0' : String(v));
/** intstr.IntOrString.String() */
const intOrString = (v: unknown): string => String(v);
const orNone = (s: unknown): string => (s === undefined || s === null || s === '' ? '<none>' : String(s));
const goBool = (b: boolean): string => (b ? 'True' : 'False');

function getPath(o: unknown, path: string): unknown {
  let cur: any = o;
  for (const p of path.split('.')) {
    if (p === '') continue;
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[p];
  }
  return cur;
}

function templateSpec(o: Obj): Obj | undefined {
  return o.spec?.jobTemplate ? o.spec.jobTemplate.spec?.template?.spec : o.spec?.template?.spec;
}

/** layoutContainerCells */
const containerNames = (o: Obj) => arr(templateSpec(o)?.containers).map((c) => c?.name ?? '').join(',');
const containerImages = (o: Obj) => arr(templateSpec(o)?.containers).map((c) => c?.image ?? '').join(',');

/** helper.GetAccessModesAsString */
function accessModes(modes: unknown): string {
  const m = new Set(arr(modes));
  const out: string[] = [];
  if (m.has('ReadWriteOnce')) out.push('RWO');
  if (m.has('ReadOnlyMany')) out.push('ROX');
  if (m.has('ReadWriteMany')) out.push('RWX');
  if (m.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

/** net.JoinHostPort */
const joinHostPort = (host: string, port: unknown) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** listWithMoreString */
function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

/** loadBalancerStatusStringer / ingressLoadBalancerStatusStringer in wide mode */
function loadBalancerIngress(status: Obj | undefined): string {
  const set = new Set<string>();
  for (const i of arr(status?.ingress)) {
    if (i?.ip) set.add(i.ip);
    else if (i?.hostname) set.add(i.hostname);
  }
  return [...set].sort().join(',');
}

// ---- pods ----

interface PodSummary { ready: string; reason: string; restarts: string; conditions?: TableRowCondition[] }

const hasCondition = (conds: unknown, type: string) =>
  arr(conds).some((c) => c?.type === type && c?.status === 'True');
const isRestartable = (c: Obj | undefined) => c?.restartPolicy === 'Always';

/** printPod */
function podSummary(pod: Obj, now: number): PodSummary {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let total = arr(spec.containers).length;
  let ready = 0;
  let lastRestart = -Infinity;
  let lastRestartableInit = -Infinity;
  const phase: string = status.phase ?? '';
  let reason: string = status.reason || phase;
  for (const c of arr(status.conditions)) {
    if (c?.type === 'PodScheduled' && c?.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }
  let conditions: TableRowCondition[] | undefined;
  if (phase === 'Succeeded') conditions = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
  else if (phase === 'Failed') conditions = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

  const initContainers = new Map<string, Obj>();
  for (const c of arr(spec.initContainers)) {
    initContainers.set(c?.name, c);
    if (isRestartable(c)) total++;
  }
  const finished = (cs: Obj) => timeOf(cs.lastState?.terminated?.finishedAt) ?? -Infinity;

  let initializing = false;
  const initStatuses = arr(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] ?? {};
    const restartable = isRestartable(initContainers.get(cs.name));
    restarts += cs.restartCount ?? 0;
    lastRestart = Math.max(lastRestart, finished(cs));
    if (restartable) {
      restartableInitRestarts += cs.restartCount ?? 0;
      lastRestartableInit = Math.max(lastRestartableInit, finished(cs));
    }
    const term = cs.state?.terminated;
    const wait = cs.state?.waiting;
    if (term && (term.exitCode ?? 0) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready) ready++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode ?? 0}`;
      else reason = 'Init:' + term.reason;
    } else if (wait && wait.reason && wait.reason !== 'PodInitializing') {
      reason = 'Init:' + wait.reason;
    } else {
      reason = `Init:${i}/${arr(spec.initContainers).length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || hasCondition(status.conditions, 'Initialized')) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInit;
    let hasRunning = false;
    const statuses = arr(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] ?? {};
      restarts += cs.restartCount ?? 0;
      lastRestart = Math.max(lastRestart, finished(cs));
      const term = cs.state?.terminated;
      const wait = cs.state?.waiting;
      if (wait && wait.reason) reason = wait.reason;
      else if (term && term.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode ?? 0}`;
      else if (cs.ready && cs.state?.running) { hasRunning = true; ready++; }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = hasCondition(status.conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsStr = restarts !== 0 && lastRestart > -Infinity
    ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, reason, restarts: restartsStr, conditions };
}

function pod(o: Obj, ctx: Ctx): PodSummary {
  return (ctx.pod ??= podSummary(o, ctx.now));
}

// ---- events: core/v1 and events.k8s.io/v1 carry the same data under different names ----

function ev(o: Obj) {
  const isNew = typeof o.apiVersion === 'string' ? o.apiVersion.startsWith('events.k8s.io/')
    : 'regarding' in o || 'note' in o || 'reportingController' in o;
  return isNew
    ? { first: o.deprecatedFirstTimestamp, last: o.deprecatedLastTimestamp, count: o.deprecatedCount, involved: o.regarding ?? {},
      source: o.deprecatedSource ?? {}, controller: o.reportingController, instance: o.reportingInstance, message: o.note,
      series: o.series, eventTime: o.eventTime }
    : { first: o.firstTimestamp, last: o.lastTimestamp, count: o.count, involved: o.involvedObject ?? {},
      source: o.source ?? {}, controller: o.reportingComponent, instance: o.reportingInstance, message: o.message,
      series: o.series, eventTime: o.eventTime };
}

function eventFirstSeen(o: Obj, now: number): string {
  const e = ev(o);
  return timeOf(e.first) === undefined ? since(e.eventTime, now) : since(e.first, now);
}

function eventLastSeen(o: Obj, now: number): string {
  const e = ev(o);
  if (e.series) return since(e.series.lastObservedTime, now);
  return timeOf(e.last) === undefined ? eventFirstSeen(o, now) : since(e.last, now);
}

function eventCount(o: Obj): number {
  const e = ev(o);
  if (e.series) return e.series.count ?? 0;
  // Singleton events of the new API carry no count.
  return e.count || 1;
}

// ---- services ----

function serviceExternalIP(o: Obj): string {
  const spec = o.spec ?? {};
  const externalIPs: string[] = arr(spec.externalIPs);
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(o.status?.loadBalancer);
      if (externalIPs.length) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

function servicePorts(o: Obj): string {
  const s = arr(o.spec?.ports).map((p) => (p.nodePort > 0
    ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
  return s || '<none>';
}

/** formatEndpoints(endpoints, nil) */
function formatEndpoints(o: Obj): string {
  const subsets = arr(o.subsets);
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = arr(ss?.addresses);
    const ports = arr(ss?.ports);
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) { more = true; break; }
        list.push(a?.ip ?? '');
      }
      continue;
    }
    for (const port of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) { more = true; break; }
        list.push(joinHostPort(a?.ip ?? '', port?.port ?? 0));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

function endpointSlicePorts(o: Obj): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const p of arr(o.ports)) {
    if (list.length < 3) list.push(p?.port !== undefined && p?.port !== null ? String(p.port) : p?.name ?? '*');
    else if (list.length === 3) more = true;
    count++;
  }
  return listWithMore(list, more, count, 3);
}

function endpointSliceEndpoints(o: Obj): string {
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const e of arr(o.endpoints)) {
    for (const a of arr(e?.addresses)) {
      if (list.length < 3) list.push(a);
      else if (list.length === 3) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, 3);
}

// ---- nodes ----

function nodeStatus(o: Obj): string {
  const status: string[] = [];
  // Only the Ready condition counts; the last one of that type wins, as in a map.
  const ready = arr(o.status?.conditions).filter((c) => c?.type === 'Ready').pop();
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (o.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeRoles(o: Obj): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries<string>(o.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v !== '') {
      roles.add(v);
    }
  }
  return [...roles].sort().join(',') || '<none>';
}

const nodeAddress = (o: Obj, type: string) =>
  arr(o.status?.addresses).find((a) => a?.type === type)?.address ?? '<none>';
const orUnknown = (s: unknown) => (s ? String(s) : '<unknown>');

// ---- storage ----

const pvClass = (o: Obj) => o.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? o.spec?.storageClassName ?? '';
const phaseOrTerminating = (o: Obj) => (o.metadata?.deletionTimestamp ? 'Terminating' : o.status?.phase ?? '');

function isDefaultClass(o: Obj): boolean {
  const a = o.metadata?.annotations ?? {};
  return a['storageclass.kubernetes.io/is-default-class'] === 'true' || a['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
}

// ---- jobs ----

function jobCondition(o: Obj, type: string): boolean {
  const c = arr(o.status?.conditions).find((x) => x?.type === type);
  return c?.status === 'True';
}

function jobStatus(o: Obj): string {
  if (jobCondition(o, 'Complete')) return 'Complete';
  if (jobCondition(o, 'Failed')) return 'Failed';
  if (o.metadata?.deletionTimestamp) return 'Terminating';
  if (jobCondition(o, 'Suspended')) return 'Suspended';
  if (jobCondition(o, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(o: Obj): string {
  const succeeded = o.status?.succeeded ?? 0;
  if (o.spec?.completions !== undefined && o.spec?.completions !== null) return `${succeeded}/${o.spec.completions}`;
  const parallelism = o.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(o: Obj, now: number): string {
  const start = timeOf(o.status?.startTime);
  if (start === undefined) return '';
  const end = timeOf(o.status?.completionTime);
  return humanDuration((end ?? now) - start);
}

// ---- quota, HPA, ingress ----

function quota(o: Obj, limits: boolean): string {
  const hard = o.status?.hard ?? {};
  const used = o.status?.used ?? {};
  const parts: string[] = [];
  for (const r of Object.keys(hard).sort()) {
    const pieces = r.split('.');
    if ((pieces.length > 1 && pieces[0] === 'limits') !== limits) continue;
    parts.push(`${r}: ${qtyOrZero(used[r])}/${qtyOrZero(hard[r])}`);
  }
  return parts.join(', ');
}

/** autoscaling/v1 objects carry one CPU target; the internal form is a Resource metric. */
function hpaMetrics(o: Obj): { specs: Obj[]; statuses: Obj[] } {
  const spec = o.spec ?? {};
  if (Array.isArray(spec.metrics) || spec.targetCPUUtilizationPercentage === undefined) {
    return { specs: arr(spec.metrics), statuses: arr(o.status?.currentMetrics) };
  }
  const current = o.status?.currentCPUUtilizationPercentage;
  return {
    specs: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }],
    statuses: current === undefined ? [] : [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }],
  };
}

/** formatHPAMetrics */
function hpaTargets(o: Obj): string {
  const { specs, statuses } = hpaMetrics(o);
  if (specs.length === 0) return '<none>';
  const list: string[] = [];
  specs.forEach((spec, i) => {
    const st = statuses[i];
    switch (spec.type) {
      case 'External':
      case 'Object': {
        const key = spec.type === 'External' ? 'external' : 'object';
        const target = spec[key]?.target ?? {};
        const cur = st?.[key];
        if (target.averageValue !== undefined) {
          const current = cur && cur.current?.averageValue !== undefined ? qty(cur.current.averageValue) : '<unknown>';
          list.push(`${current}/${qty(target.averageValue)} (avg)`);
        } else {
          const current = cur ? qty(cur.current?.value) : '<unknown>';
          list.push(`${current}/${qty(target.value)}`);
        }
        break;
      }
      case 'Pods': {
        const current = st?.pods ? qty(st.pods.current?.averageValue) : '<unknown>';
        list.push(`${current}/${qty(spec.pods?.target?.averageValue)}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const target = spec[key]?.target ?? {};
        const cur = st?.[key];
        const name = spec[key]?.name ?? '';
        if (target.averageValue !== undefined) {
          const current = cur ? qty(cur.current?.averageValue) : '<unknown>';
          list.push(`${name}: ${current}/${qty(target.averageValue)}`);
        } else {
          const util = cur?.current?.averageUtilization;
          const current = util !== undefined && util !== null ? `${util}%` : '<unknown>';
          const t = target.averageUtilization !== undefined && target.averageUtilization !== null ? `${target.averageUtilization}%` : '<auto>';
          list.push(`${name}: ${current}/${t}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
  });
  if (list.length > 2) return `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
  return list.join(', ');
}

/** formatHosts: the quirky loop counts every rule once three hosts are listed */
function ingressHosts(o: Obj): string {
  const rules = arr(o.spec?.rules);
  const list: string[] = [];
  let more = false;
  for (const r of rules) {
    if (list.length === 3) more = true;
    if (!more && r?.host) list.push(r.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${rules.length - 3} more...` : list.join(',');
}

function ingressClassParameters(o: Obj): string {
  const p = o.spec?.parameters;
  if (!p) return '<none>';
  return `${p.kind ?? ''}${p.apiGroup !== undefined && p.apiGroup !== null ? '.' + p.apiGroup : ''}/${p.name ?? ''}`;
}

/** rbac.SubjectsStrings */
function subjects(o: Obj, kind: 'User' | 'Group' | 'ServiceAccount'): string {
  return arr(o.subjects).filter((s) => s?.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name ?? ''}` : s.name ?? '')).join(', ');
}

// ---- the named cells ----

type Cell = (o: Obj, ctx: Ctx) => unknown;

export const CELLS: Record<string, Cell> = {
  age: (o, c) => since(o.metadata?.creationTimestamp, c.now),
  createdAt: (o) => {
    const t = timeOf(o.metadata?.creationTimestamp);
    return t === undefined ? '0001-01-01T00:00:00Z' : new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  },
  containers: (o) => containerNames(o),
  images: (o) => containerImages(o),
  selector: (o) => formatLabelSelector(o.spec?.jobTemplate ? o.spec.jobTemplate.spec?.selector : o.spec?.selector),
  // a ReplicationController's selector is a plain map
  mapSelector: (o) => formatLabels(o.spec?.selector),

  configMapData: (o) => keys(o.data).length + keys(o.binaryData).length,
  secretData: (o) => keys(o.data).length,
  serviceAccountSecrets: (o) => arr(o.secrets).length,

  nodeStatus: (o) => nodeStatus(o),
  nodeRoles: (o) => nodeRoles(o),
  nodeInternalIP: (o) => nodeAddress(o, 'InternalIP'),
  nodeExternalIP: (o) => nodeAddress(o, 'ExternalIP'),
  nodeOSImage: (o) => orUnknown(o.status?.nodeInfo?.osImage),
  nodeKernelVersion: (o) => orUnknown(o.status?.nodeInfo?.kernelVersion),
  nodeContainerRuntime: (o) => orUnknown(o.status?.nodeInfo?.containerRuntimeVersion),

  eventLastSeen: (o, c) => eventLastSeen(o, c.now),
  eventFirstSeen: (o, c) => eventFirstSeen(o, c.now),
  eventCount: (o) => eventCount(o),
  eventObject: (o) => {
    const i = ev(o).involved;
    const kind = String(i.kind ?? '').toLowerCase();
    return i.name ? `${kind}/${i.name}` : kind;
  },
  eventSubobject: (o) => ev(o).involved.fieldPath ?? '',
  eventSource: (o) => {
    const e = ev(o);
    const component = e.source.component || e.controller || '';
    const instance = e.source.host || e.instance || '';
    return instance ? `${component}, ${instance}` : component;
  },
  eventMessage: (o) => String(ev(o).message ?? '').trim(),

  quotaRequest: (o) => quota(o, false),
  quotaLimit: (o) => quota(o, true),

  podReady: (o, c) => pod(o, c).ready,
  podStatus: (o, c) => pod(o, c).reason,
  podRestarts: (o, c) => pod(o, c).restarts,
  podIP: (o) => orNone(o.status?.podIPs?.[0]?.ip ?? o.status?.podIP),
  podNode: (o) => orNone(o.spec?.nodeName),
  podNominatedNode: (o) => orNone(o.status?.nominatedNodeName),
  podReadinessGates: (o) => {
    const gates = arr(o.spec?.readinessGates);
    if (gates.length === 0) return '<none>';
    const conds = arr(o.status?.conditions);
    const ok = gates.filter((g) => conds.find((c) => c?.type === g?.conditionType)?.status === 'True').length;
    return `${ok}/${gates.length}`;
  },

  serviceType: (o) => o.spec?.type ?? 'ClusterIP',
  serviceClusterIP: (o) => o.spec?.clusterIPs?.[0] ?? o.spec?.clusterIP ?? '<none>',
  serviceExternalIP: (o) => serviceExternalIP(o),
  servicePorts: (o) => servicePorts(o),
  serviceSelector: (o) => formatLabels(o.spec?.selector),
  endpoints: (o) => formatEndpoints(o),
  endpointSlicePorts: (o) => endpointSlicePorts(o),
  endpointSliceEndpoints: (o) => endpointSliceEndpoints(o),

  pvcStatus: (o) => phaseOrTerminating(o),
  pvcCapacity: (o) => (o.spec?.volumeName ? qtyOrZero(o.status?.capacity?.storage) : ''),
  pvcAccessModes: (o) => (o.spec?.volumeName ? accessModes(o.status?.accessModes) : ''),
  pvcStorageClass: (o) => pvClass(o),
  pvCapacity: (o) => qtyOrZero(o.spec?.capacity?.storage),
  pvAccessModes: (o) => accessModes(o.spec?.accessModes),
  pvStatus: (o) => phaseOrTerminating(o),
  pvClaim: (o) => (o.spec?.claimRef ? `${o.spec.claimRef.namespace ?? ''}/${o.spec.claimRef.name ?? ''}` : ''),
  pvStorageClass: (o) => pvClass(o),
  volumeAttributesClass: (o) => o.spec?.volumeAttributesClassName ?? '<unset>',
  volumeMode: (o) => o.spec?.volumeMode ?? '<unset>',
  storageClassName: (o) => (isDefaultClass(o) ? `${o.metadata?.name ?? ''} (default)` : o.metadata?.name ?? ''),
  storageClassReclaimPolicy: (o) => o.reclaimPolicy ?? 'Delete',
  storageClassVolumeBindingMode: (o) => o.volumeBindingMode ?? 'Immediate',
  storageClassAllowVolumeExpansion: (o) => o.allowVolumeExpansion ?? false,

  deploymentReady: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`,
  deploymentUpToDate: (o) => o.status?.updatedReplicas ?? 0,
  deploymentAvailable: (o) => o.status?.availableReplicas ?? 0,
  deploymentSelector: (o) => {
    try { return labelSelectorString(o.spec?.selector); } catch { return '<invalid>'; }
  },
  replicas: (o) => o.spec?.replicas ?? 1,
  statefulSetReady: (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`,
  nodeSelector: (o) => formatLabels(o.spec?.template?.spec?.nodeSelector),

  jobStatus: (o) => jobStatus(o),
  jobCompletions: (o) => jobCompletions(o),
  jobDuration: (o, c) => jobDuration(o, c.now),
  cronJobTimezone: (o) => o.spec?.timeZone ?? '<none>',
  cronJobSuspend: (o) => (typeof o.spec?.suspend === 'boolean' ? goBool(o.spec.suspend) : '<unset>'),
  cronJobActive: (o) => arr(o.status?.active).length,
  cronJobLastSchedule: (o, c) => (o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, c.now) : '<none>'),

  bindingRole: (o) => `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`,
  bindingUsers: (o) => subjects(o, 'User'),
  bindingGroups: (o) => subjects(o, 'Group'),
  bindingServiceAccounts: (o) => subjects(o, 'ServiceAccount'),

  pdbMinAvailable: (o) => (o.spec?.minAvailable !== undefined && o.spec?.minAvailable !== null ? intOrString(o.spec.minAvailable) : 'N/A'),
  pdbMaxUnavailable: (o) => (o.spec?.maxUnavailable !== undefined && o.spec?.maxUnavailable !== null ? intOrString(o.spec.maxUnavailable) : 'N/A'),
  networkPolicyPodSelector: (o) => formatLabelSelector(o.spec?.podSelector ?? {}),
  ingressClass: (o) => o.spec?.ingressClassName ?? '<none>',
  ingressHosts: (o) => ingressHosts(o),
  ingressAddress: (o) => loadBalancerIngress(o.status?.loadBalancer),
  ingressPorts: (o) => (arr(o.spec?.tls).length ? '80, 443' : '80'),
  ingressClassParameters: (o) => ingressClassParameters(o),

  hpaReference: (o) => `${o.spec?.scaleTargetRef?.kind ?? ''}/${o.spec?.scaleTargetRef?.name ?? ''}`,
  hpaTargets: (o) => hpaTargets(o),
  hpaMinPods: (o) => (o.spec?.minReplicas !== undefined && o.spec?.minReplicas !== null ? String(o.spec.minReplicas) : '<unset>'),
  hpaMaxPods: (o) => o.spec?.maxReplicas ?? 0,
  hpaReplicas: (o) => o.status?.currentReplicas ?? 0,
};

function zero(type: string): unknown {
  return type === 'integer' || type === 'number' ? 0 : type === 'boolean' ? false : '';
}

function cell(col: ColumnInfo, o: Obj, ctx: Ctx): unknown {
  if (col.path.startsWith('@')) {
    const fn = CELLS[col.path.slice(1)];
    return fn ? fn(o, ctx) : zero(col.type);
  }
  const v = getPath(o, col.path);
  return v === undefined || v === null ? zero(col.type) : v;
}

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

function rowObject(kind: KindInfo, o: KObject, include: IncludeObject, gv: string): unknown {
  // A watch-list bookmark keeps its metadata whatever was asked: clients look for the annotation.
  const bookmark = o.metadata?.annotations?.[INITIAL_EVENTS_END] === 'true';
  if (include === 'Object' && !bookmark) {
    // List items may be stored without type meta; a row's object is decoded on its own.
    if (o.apiVersion && o.kind) return o;
    return { apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version, kind: kind.kind, ...o };
  }
  if (include === 'None' && !bookmark) return null;
  return { kind: 'PartialObjectMetadata', apiVersion: gv, metadata: o.metadata ?? {} };
}

export function parseIncludeObject(v: string | undefined): IncludeObject {
  if (v === undefined || v === '' || v === 'Metadata') return 'Metadata';
  if (v === 'None' || v === 'Object') return v;
  throw badRequest(`unrecognized includeObject value: ${goQuote(v)}`);
}

/**
 * A list (array) or a single object as a Table. For a list the metadata carries
 * opts.listMeta; for one object its own resourceVersion, as the apiserver does.
 */
export function buildTable(kind: KindInfo, objects: KObject[] | KObject, opts: TableOptions = {}): Table {
  const include = parseIncludeObject(opts.includeObject);
  const gv = opts.apiVersion ?? 'meta.k8s.io/v1';
  const now = (opts.now ?? new Date()).getTime();
  const columns = kind.columns?.length ? kind.columns : DEFAULT_COLUMNS;
  const isList = Array.isArray(objects);
  const items = isList ? objects : [objects];

  const rows: TableRow[] = items.map((o) => {
    const ctx: Ctx = { now };
    const cells = columns.map((c) => cell(c, o as Obj, ctx));
    const conditions = kind.kind === 'Pod' ? pod(o as Obj, ctx).conditions : undefined;
    const object = rowObject(kind, o, include, gv);
    return conditions ? { cells, conditions, object } : { cells, object };
  });

  const metadata: Table['metadata'] = {};
  if (isList) {
    const lm = opts.listMeta ?? {};
    if (lm.resourceVersion) metadata.resourceVersion = lm.resourceVersion;
    if (lm.continue) metadata.continue = lm.continue;
    if (lm.remainingItemCount !== undefined && lm.remainingItemCount !== null) metadata.remainingItemCount = lm.remainingItemCount;
  } else if (objects.metadata?.resourceVersion) {
    metadata.resourceVersion = objects.metadata.resourceVersion;
  }

  return {
    kind: 'Table',
    apiVersion: gv,
    metadata,
    columnDefinitions: columns.map((c) => ({
      name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0,
    })),
    // The default convertor appends to a nil slice: an empty list serialises as null.
    rows: rows.length === 0 && columns.some((c) => c.path === '@createdAt') ? null : rows,
  };
}

/** Names usable as `@name` paths in openapi/tables.yaml. */
export const cellNames = (): string[] => Object.keys(CELLS);
