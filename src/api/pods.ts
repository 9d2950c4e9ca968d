// The Pod strategy: the apiserver's defaulting and validation, plus what cannot run here (422).
// The containers themselves are the runtime's (src/runtime/pods.ts).
import type { StatusCause } from '../machinery/errors.ts';
import type { Strategy, StrategyContext } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';
import { deepEqual } from '../machinery/util.ts';
import { isDNS1123Label } from '../machinery/selectors.ts';
import { planPod, qosClass, DEFAULT_GRACE_SECONDS } from '../translate/index.ts';
import type { PlanEnv } from '../translate/index.ts';

type Obj = Record<string, any>;

function pullPolicy(image: string): string {
  const ref = image.split('@')[0];
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const tag = colon > slash ? ref.slice(colon + 1) : '';
  if (image.includes('@')) return 'IfNotPresent';
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): void {
  if (typeof c.image === 'string' && !c.imagePullPolicy) c.imagePullPolicy = pullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  // SetDefaults_ObjectFieldSelector: a fieldRef's apiVersion is "v1" unless given.
  for (const e of c.env ?? []) if (e?.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ||= 'v1';
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!probe) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (probe.httpGet) probe.httpGet.scheme ??= 'HTTP';
    if (probe.httpGet) probe.httpGet.path ??= '/';
    // kubectl describe dereferences grpc.service; the apiserver always has it set.
    if (probe.grpc) probe.grpc.service ??= '';
  }
}

/**
 * Defaults the apiserver applies to a PodSpec. Templates (Deployments, ...) get only the
 * defaulting of the type; a Pod also gets what admission adds (service account, priority,
 * the not-ready/unreachable tolerations).
 */
export function defaultPodSpec(spec: Obj, kind: 'pod' | 'template' = 'pod'): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= DEFAULT_GRACE_SECONDS;
  spec.securityContext ??= {};
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    const items = [...(v?.downwardAPI?.items ?? []), ...(v?.projected?.sources ?? []).flatMap((s: Obj) => s?.downwardAPI?.items ?? [])];
    for (const it of items) if (it?.fieldRef) it.fieldRef.apiVersion ||= 'v1';
  }
  if (kind === 'template') return;
  spec.enableServiceLinks ??= true;
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.tolerations ??= [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ];
}

/** A container's name (a DNS label, unique among `names`, which it joins) and image: every kind of container. */
function nameAndImageCauses(c: Obj, f: string, names: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  if (!c.name) out.push({ reason: 'FieldValueRequired', field: `${f}.name`, message: 'Required value' });
  else {
    for (const msg of isDNS1123Label(c.name)) out.push({ reason: 'FieldValueInvalid', field: `${f}.name`, message: `Invalid value: "${c.name}": ${msg}` });
    if (names.has(c.name)) out.push({ reason: 'FieldValueDuplicate', field: `${f}.name`, message: `Duplicate value: "${c.name}"` });
    names.add(c.name);
  }
  if (!c.image) out.push({ reason: 'FieldValueRequired', field: `${f}.image`, message: 'Required value' });
  return out;
}

function specCauses(spec: Obj, prefix: string): StatusCause[] {
  const out: StatusCause[] = [];
  const names = new Set<string>();
  const containers = spec.containers ?? [];
  if (!Array.isArray(containers) || containers.length === 0) {
    out.push({ reason: 'FieldValueRequired', field: `${prefix}.containers`, message: 'Required value' });
  }
  const check = (list: Obj[], field: string) => {
    list.forEach((c, i) => {
      const f = `${prefix}.${field}[${i}]`;
      out.push(...nameAndImageCauses(c, f, names));
      for (const [j, p] of (c.ports ?? []).entries()) {
        if (!(p.containerPort >= 1 && p.containerPort <= 65535)) out.push({ reason: 'FieldValueInvalid', field: `${f}.ports[${j}].containerPort`, message: `Invalid value: ${p.containerPort}: must be between 1 and 65535, inclusive` });
      }
    });
  };
  check(spec.initContainers ?? [], 'initContainers');
  check(containers, 'containers');
  const rp = spec.restartPolicy;
  if (rp && !['Always', 'OnFailure', 'Never'].includes(rp)) {
    out.push({ reason: 'FieldValueNotSupported', field: `${prefix}.restartPolicy`, message: `Unsupported value: "${rp}": supported values: "Always", "OnFailure", "Never"` });
  }
  return out;
}

// validateFieldAllowList's list for ephemeral containers: no ports, probes, lifecycle or resources.
const EPHEMERAL_FIELDS = new Set(['name', 'image', 'command', 'args', 'workingDir', 'envFrom', 'env', 'volumeMounts', 'volumeDevices',
  'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty', 'targetContainerName']);

const isZero = (v: unknown) => v === undefined || v === null || v === false || v === 0 || v === ''
  || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/** The apiserver's validateEphemeralContainers, after the pod's other containers took their names. */
function ephemeralCauses(spec: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const others = new Set([...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c: Obj) => c.name));
  const names = new Set(others);
  ((spec.ephemeralContainers ?? []) as Obj[]).forEach((c, i) => {
    const f = `spec.ephemeralContainers[${i}]`;
    out.push(...nameAndImageCauses(c, f, names));
    if (c.targetContainerName && !others.has(c.targetContainerName)) {
      out.push({ reason: 'FieldValueNotFound', field: `${f}.targetContainerName`, message: `Not found: "${c.targetContainerName}"` });
    }
    for (const k of Object.keys(c).sort()) {
      if (!EPHEMERAL_FIELDS.has(k) && !isZero(c[k])) out.push({ reason: 'FieldValueForbidden', field: `${f}.${k}`, message: 'Forbidden: cannot be set for an Ephemeral Container' });
    }
    ((c.volumeMounts ?? []) as Obj[]).forEach((vm, j) => {
      for (const k of ['subPath', 'subPathExpr']) {
        if (vm[k]) out.push({ reason: 'FieldValueForbidden', field: `${f}.volumeMounts[${j}].${k}`, message: 'Forbidden: cannot be set for an Ephemeral Container' });
      }
    });
  });
  return out;
}

/** ValidatePodEphemeralContainersUpdate: new ones may be added; existing ones stay as they are. */
function ephemeralUpdateCauses(spec: Obj, oldSpec: Obj): StatusCause[] {
  const out = ephemeralCauses(spec);
  const byName = new Map(((spec.ephemeralContainers ?? []) as Obj[]).map((c) => [c.name, c]));
  for (const old of (oldSpec.ephemeralContainers ?? []) as Obj[]) {
    const now = byName.get(old.name);
    if (!now) out.push({ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: `Forbidden: existing ephemeral containers "${old.name}" may not be removed\n` });
    else if (!deepEqual(now, old)) out.push({ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: `Forbidden: existing ephemeral containers "${old.name}" may not be changed\n` });
  }
  return out;
}

/** Fields a pod update may change (the apiserver's ValidatePodUpdate), everything else is fixed. */
function mutableView(spec: Obj): Obj {
  const s = structuredClone(spec);
  for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
  delete s.activeDeadlineSeconds;
  delete s.tolerations;
  delete s.terminationGracePeriodSeconds;
  delete s.schedulingGates;
  return s;
}

export interface PodDeps {
  nodeName(): string;
  /** A PlanEnv good enough to find what the spec asks that cannot run here. */
  planEnv(pod: KObject): PlanEnv;
}

export function pods(deps: PodDeps): Strategy {
  return {
    prepareForCreate(obj: KObject, ctx: StrategyContext): void {
      const spec = (obj.spec ??= {}) as Obj;
      defaultPodSpec(spec);
      spec.nodeName ||= deps.nodeName();
      obj.status = {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z') }],
        qosClass: qosClass(obj),
      };
    },
    prepareForUpdate(obj: KObject, old: KObject): void {
      const spec = (obj.spec ??= {}) as Obj;
      defaultPodSpec(spec);
      spec.nodeName ||= (old.spec as Obj)?.nodeName;
    },
    /** Graceful: the runtime stops the containers, then removes the pod; 0 removes it now. */
    beginDelete(obj: KObject, _ctx: StrategyContext, opts: { gracePeriodSeconds?: number }): KObject | undefined {
      const grace = opts.gracePeriodSeconds ?? Number((obj.spec as Obj)?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS);
      if (grace <= 0) return undefined;
      obj.metadata.deletionGracePeriodSeconds = grace;
      return obj;
    },
    subresources: {
      ephemeralcontainers: {
        update(next: KObject, input: KObject): void {
          const spec = (next.spec ??= {}) as Obj;
          const list = (input.spec as Obj | undefined)?.ephemeralContainers;
          if (list?.length) spec.ephemeralContainers = structuredClone(list); else delete spec.ephemeralContainers;
          for (const c of spec.ephemeralContainers ?? []) defaultContainer(c);
        },
        validate: (next: KObject, old: KObject) => ephemeralUpdateCauses((next.spec ?? {}) as Obj, (old.spec ?? {}) as Obj),
      },
    },
    validate(obj: KObject, old: KObject | undefined): StatusCause[] {
      const spec = (obj.spec ?? {}) as Obj;
      const out = specCauses(spec, 'spec');
      if (!old && spec.ephemeralContainers?.length) out.push({ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: cannot be set on create' });
      if (old && !deepEqual(mutableView(spec), mutableView((old.spec ?? {}) as Obj))) {
        out.push({ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)' });
      }
      if (out.length || old) return out;
      // What the translation cannot honour is refused now, naming the field.
      const plan = planPod({ ...obj, metadata: { ...obj.metadata, uid: obj.metadata.uid ?? 'validate' } }, deps.planEnv(obj));
      for (const e of plan.errors) {
        if (e.reason === 'Invalid') out.push({ reason: 'FieldValueInvalid', field: e.field, message: e.message });
      }
      return out;
    },
  };
}
