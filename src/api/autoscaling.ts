// HorizontalPodAutoscaler, autoscaling/v2 (stored) and autoscaling/v1 (a view of the same objects,
// which kubectl before 1.32 posts for `kubectl autoscale`). Inert: nothing here measures load or
// scales anything; the objects are defaulted, validated and converted as the apiserver does
// (pkg/apis/autoscaling: v2 defaults, ValidateHorizontalPodAutoscaler, v1 <-> v2 conversion).
import type { StatusCause } from '../machinery/errors.ts';
import { resourceKey, versionedResourceKey, type Registry } from '../machinery/registry.ts';
import type { Strategy } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';

type Obj = Record<string, any>;

/** DefaultCPUUtilization: the target of an HPA that names no metric. */
export const DEFAULT_CPU_UTILIZATION = 80;

// v1 keeps what it has no field for in annotations (pkg/apis/autoscaling/annotations.go).
export const METRIC_SPECS = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR = 'autoscaling.alpha.kubernetes.io/behavior';
const V1_ANNOTATIONS = [METRIC_SPECS, METRIC_STATUSES, CONDITIONS, BEHAVIOR];

const cpuTarget = (pct: number): Obj => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } } });
const isCpuUtilization = (m: Obj): boolean => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization';

function scaleUpRules(r: Obj | undefined): Obj {
  const out: Obj = { ...(r ?? {}) };
  out.stabilizationWindowSeconds ??= 0;
  out.selectPolicy ??= 'Max';
  out.policies ??= [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }];
  return out;
}

function scaleDownRules(r: Obj | undefined): Obj {
  // No stabilizationWindowSeconds: the controller's own flag decides it (upstream leaves it nil).
  const out: Obj = { ...(r ?? {}) };
  out.selectPolicy ??= 'Max';
  out.policies ??= [{ type: 'Percent', value: 100, periodSeconds: 15 }];
  return out;
}

/** SetDefaults_HorizontalPodAutoscaler (autoscaling/v2). */
export function defaultHpaV2(obj: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  s.minReplicas ??= 1;
  if (!Array.isArray(s.metrics) || s.metrics.length === 0) s.metrics = [cpuTarget(DEFAULT_CPU_UTILIZATION)];
  if (s.behavior) s.behavior = { ...s.behavior, scaleUp: scaleUpRules(s.behavior.scaleUp), scaleDown: scaleDownRules(s.behavior.scaleDown) };
}

/** SetDefaults_HorizontalPodAutoscaler (autoscaling/v1). */
export function defaultHpaV1(obj: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  s.minReplicas ??= 1;
}

const invalid = (field: string, value: unknown, msg: string): StatusCause => ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${msg}` });

/** validateHorizontalPodAutoscalerSpec: the replica bounds and the target reference. */
export function validateHpa(obj: KObject): StatusCause[] {
  const s = ((obj as Obj).spec ?? {}) as Obj;
  const out: StatusCause[] = [];
  if (typeof s.minReplicas === 'number' && s.minReplicas < 1) out.push(invalid('spec.minReplicas', s.minReplicas, 'must be greater than or equal to 1'));
  const max = typeof s.maxReplicas === 'number' ? s.maxReplicas : 0;
  if (max < 1) out.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (typeof s.minReplicas === 'number' && max < s.minReplicas) out.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  const ref = (s.scaleTargetRef ?? {}) as Obj;
  if (!ref.kind) out.push({ reason: 'FieldValueRequired', field: 'spec.scaleTargetRef.kind', message: 'Required value' });
  if (!ref.name) out.push({ reason: 'FieldValueRequired', field: 'spec.scaleTargetRef.name', message: 'Required value' });
  if (typeof s.targetCPUUtilizationPercentage === 'number' && s.targetCPUUtilizationPercentage < 1) {
    out.push(invalid('spec.targetCPUUtilizationPercentage', s.targetCPUUtilizationPercentage, 'must be greater than 0'));
  }
  return out;
}

function parseAnnotation(a: Record<string, string> | undefined, key: string): unknown {
  const v = a?.[key];
  if (!v) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** autoscaling/v2 (stored) -> autoscaling/v1. */
export function hpaToV1(o: KObject): KObject {
  const v2 = o as Obj;
  const out: Obj = { ...v2, apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { ...v2.metadata } };
  const annotations: Record<string, string> = { ...(v2.metadata.annotations ?? {}) };
  if (v2.spec) {
    const { metrics, behavior, ...rest } = v2.spec as Obj;
    const spec: Obj = { ...rest };
    const others: Obj[] = [];
    for (const m of (Array.isArray(metrics) ? metrics : []) as Obj[]) {
      if (isCpuUtilization(m) && spec.targetCPUUtilizationPercentage === undefined && m.resource.target.averageUtilization !== undefined) {
        spec.targetCPUUtilizationPercentage = m.resource.target.averageUtilization;
      } else others.push(m);
    }
    if (others.length) annotations[METRIC_SPECS] = JSON.stringify(others);
    if (behavior) annotations[BEHAVIOR] = JSON.stringify(behavior);
    out.spec = spec;
  }
  if (v2.status) {
    const { currentMetrics, conditions, ...rest } = v2.status as Obj;
    const status: Obj = { ...rest };
    const others: Obj[] = [];
    for (const m of (Array.isArray(currentMetrics) ? currentMetrics : []) as Obj[]) {
      if (m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.current?.averageUtilization !== undefined && status.currentCPUUtilizationPercentage === undefined) {
        status.currentCPUUtilizationPercentage = m.resource.current.averageUtilization;
      } else others.push(m);
    }
    if (others.length) annotations[METRIC_STATUSES] = JSON.stringify(others);
    if (Array.isArray(conditions) && conditions.length) annotations[CONDITIONS] = JSON.stringify(conditions);
    out.status = status;
  }
  if (Object.keys(annotations).length) out.metadata.annotations = annotations; else delete out.metadata.annotations;
  return out as KObject;
}

/** autoscaling/v1 -> autoscaling/v2 (stored), defaulted as the v2 storage is. */
export function hpaFromV1(o: KObject): KObject {
  const v1 = o as Obj;
  const out: Obj = { ...v1, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { ...v1.metadata } };
  const a = v1.metadata.annotations as Record<string, string> | undefined;
  if (v1.spec) {
    const { targetCPUUtilizationPercentage: cpu, ...rest } = v1.spec as Obj;
    const spec: Obj = { ...rest };
    const metrics: Obj[] = [];
    if (typeof cpu === 'number') metrics.push(cpuTarget(cpu));
    const others = parseAnnotation(a, METRIC_SPECS);
    if (Array.isArray(others)) metrics.push(...others);
    if (metrics.length) spec.metrics = metrics;
    const behavior = parseAnnotation(a, BEHAVIOR);
    if (behavior && typeof behavior === 'object') spec.behavior = behavior;
    out.spec = spec;
  }
  if (v1.status) {
    const { currentCPUUtilizationPercentage: cpu, ...rest } = v1.status as Obj;
    const status: Obj = { ...rest };
    const current: Obj[] = [];
    if (typeof cpu === 'number') current.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cpu } } });
    const others = parseAnnotation(a, METRIC_STATUSES);
    if (Array.isArray(others)) current.push(...others);
    if (current.length) status.currentMetrics = current;
    const conditions = parseAnnotation(a, CONDITIONS);
    if (Array.isArray(conditions)) status.conditions = conditions;
    out.status = status;
  }
  if (a) {
    const kept = Object.fromEntries(Object.entries(a).filter(([k]) => !V1_ANNOTATIONS.includes(k)));
    if (Object.keys(kept).length) out.metadata.annotations = kept; else delete out.metadata.annotations;
  }
  defaultHpaV2(out as KObject);
  return out as KObject;
}

export function hpaV2(): Strategy {
  return {
    prepareForCreate: (obj) => defaultHpaV2(obj),
    prepareForUpdate: (obj) => defaultHpaV2(obj),
    validate: (obj) => validateHpa(obj),
  };
}

export function hpaV1(storage: string): Strategy {
  return {
    prepareForCreate: (obj) => defaultHpaV1(obj),
    prepareForUpdate: (obj) => defaultHpaV1(obj),
    validate: (obj) => validateHpa(obj),
    view: { storage, toView: hpaToV1, fromView: hpaFromV1 },
  };
}

/** Strategies for the HPA versions the API selection serves. */
export function setupAutoscaling(registry: Registry): void {
  const v2 = registry.kinds.get('horizontalpodautoscalers.autoscaling');
  if (!v2) return;
  registry.setStrategy(resourceKey(v2), v2.version === 'v2' ? hpaV2() : {});
  const v1 = registry.kinds.get(versionedResourceKey({ plural: 'horizontalpodautoscalers', group: 'autoscaling', version: 'v1' }));
  if (v2.version === 'v2' && v1) registry.setStrategy(versionedResourceKey(v1), hpaV1(resourceKey(v2)));
}
