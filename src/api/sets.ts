// Strategies of apps/v1 StatefulSet and DaemonSet (the apiserver's defaulting and the validation
// their controllers depend on), and the start of both controllers. ControllerRevisions need no
// strategy: the generic one serves them, and the controllers write them.
import { ApiError, type StatusCause } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import { goQuote, labelSelectorMatcher, type LabelSelector } from '../machinery/selectors.ts';
import type { Strategy } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';
import { deepEqual } from '../machinery/util.ts';
import { defaultPodSpec } from './pods.ts';
import { startStatefulSets } from '../runtime/statefulsets.ts';
import { startDaemonSets, TEMPLATE_GENERATION } from '../runtime/daemonsets.ts';

type Obj = Record<string, any>;

function defaultTemplate(spec: Obj): void {
  spec.template ??= {};
  spec.template.spec ??= {};
  defaultPodSpec(spec.template.spec, 'template');
}

/** SetDefaults_PersistentVolumeClaim(Spec), as applied to each volumeClaimTemplate. */
function defaultClaimTemplate(c: Obj): void {
  c.apiVersion ??= 'v1';
  c.kind ??= 'PersistentVolumeClaim';
  c.metadata ??= {};
  c.spec ??= {};
  c.spec.volumeMode ??= 'Filesystem';
  c.status ??= {};
  c.status.phase ??= 'Pending';
}

export function defaultStatefulSet(obj: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  s.podManagementPolicy ||= 'OrderedReady';
  s.updateStrategy ??= {};
  if (!s.updateStrategy.type) {
    s.updateStrategy.type = 'RollingUpdate';
    s.updateStrategy.rollingUpdate ??= {};
  }
  const ru = s.updateStrategy.rollingUpdate;
  if (s.updateStrategy.type === 'RollingUpdate' && ru) {
    ru.partition ??= 0;
    // MaxUnavailableStatefulSet is beta and on by default in 1.36.
    ru.maxUnavailable ??= 1;
  }
  s.persistentVolumeClaimRetentionPolicy ??= {};
  s.persistentVolumeClaimRetentionPolicy.whenDeleted ||= 'Retain';
  s.persistentVolumeClaimRetentionPolicy.whenScaled ||= 'Retain';
  s.replicas ??= 1;
  s.revisionHistoryLimit ??= 10;
  for (const c of (s.volumeClaimTemplates ?? []) as Obj[]) defaultClaimTemplate(c);
  defaultTemplate(s);
}

export function defaultDaemonSet(obj: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  s.updateStrategy ??= {};
  s.updateStrategy.type ||= 'RollingUpdate';
  if (s.updateStrategy.type === 'RollingUpdate') {
    s.updateStrategy.rollingUpdate ??= {};
    s.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    s.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  s.revisionHistoryLimit ??= 10;
  defaultTemplate(s);
}

// ---- validation ----------------------------------------------------------------------------

/** Go's %#v of a *LabelSelector, as the apiserver prints it in field errors. */
function goSelector(sel: Obj | undefined): string {
  const labels = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${goQuote(k)}:${goQuote(String(v))}`).join(', ');
  const exprs = (sel?.matchExpressions ?? []).length ? '[]v1.LabelSelectorRequirement{...}' : 'nil';
  return `&v1.LabelSelector{MatchLabels:map[string]string{${labels}}, MatchExpressions:${exprs}}`;
}

const nonNegative = (v: unknown, field: string): StatusCause[] =>
  typeof v === 'number' && v < 0 ? [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${v}: must be greater than or equal to 0` }] : [];

function intOrPercent(v: unknown, field: string): StatusCause[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') return nonNegative(v, field);
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${goQuote(String(v))}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')` }];
  if (Number(m[1]) > 100) return [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${goQuote(String(v))}: must not be greater than 100%` }];
  return [];
}

const isZero = (v: unknown) => v === 0 || v === '0%';

/** Selector and template checks shared by both kinds (ValidatePodTemplateSpecFor*). */
function selectorAndTemplate(s: Obj, kind: 'statefulset' | 'daemonset'): StatusCause[] {
  const out: StatusCause[] = [];
  const sel = s.selector as Obj | undefined;
  if (!sel) out.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
  else if (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length) {
    out.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${goSelector(sel)}: empty selector is invalid for ${kind}` });
  } else {
    const labels = (s.template?.metadata?.labels ?? {}) as Record<string, string>;
    let matches = false;
    try {
      matches = labelSelectorMatcher(sel as LabelSelector)(labels);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      out.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${goSelector(sel)}: ${err.message}` });
    }
    if (!matches && !out.length) {
      const shown = Object.entries(labels).map(([k, v]) => `${goQuote(k)}:${goQuote(v)}`).join(', ');
      out.push({ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: map[string]string{${shown}}: \`selector\` does not match template \`labels\`` });
    }
  }
  const ps = (s.template?.spec ?? {}) as Obj;
  if (ps.restartPolicy !== undefined && ps.restartPolicy !== 'Always') {
    out.push({ reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: `Unsupported value: ${goQuote(String(ps.restartPolicy))}: supported values: "Always"` });
  }
  if (ps.activeDeadlineSeconds !== undefined && ps.activeDeadlineSeconds !== null) {
    const what = kind === 'statefulset' ? 'StatefulSet' : 'DaemonSet';
    out.push({ reason: 'FieldValueForbidden', field: 'spec.template.spec.activeDeadlineSeconds', message: `Forbidden: activeDeadlineSeconds in ${what} is not Supported` });
  }
  out.push(...nonNegative(s.minReadySeconds, 'spec.minReadySeconds'), ...nonNegative(s.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return out;
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds', 'revisionHistoryLimit'];

export function statefulSetCauses(obj: KObject, old: KObject | undefined): StatusCause[] {
  const s = ((obj as Obj).spec ?? {}) as Obj;
  const out = selectorAndTemplate(s, 'statefulset');
  out.push(...nonNegative(s.replicas, 'spec.replicas'), ...nonNegative(s.ordinals?.start, 'spec.ordinals.start'));
  const pmp = s.podManagementPolicy;
  if (pmp !== 'OrderedReady' && pmp !== 'Parallel') {
    out.push({ reason: 'FieldValueInvalid', field: 'spec.podManagementPolicy', message: `Invalid value: ${goQuote(String(pmp))}: must be 'OrderedReady' or 'Parallel'` });
  }
  const us = (s.updateStrategy ?? {}) as Obj;
  if (us.type === 'OnDelete') {
    if (us.rollingUpdate) out.push({ reason: 'FieldValueInvalid', field: 'spec.updateStrategy.rollingUpdate', message: `Invalid value: ${JSON.stringify(us.rollingUpdate)}: only allowed for updateStrategy 'RollingUpdate'` });
  } else if (us.type === 'RollingUpdate') {
    const ru = us.rollingUpdate as Obj | undefined;
    if (ru) {
      out.push(...nonNegative(ru.partition, 'spec.updateStrategy.rollingUpdate.partition'));
      out.push(...intOrPercent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
      if (isZero(ru.maxUnavailable)) out.push({ reason: 'FieldValueInvalid', field: 'spec.updateStrategy.rollingUpdate.maxUnavailable', message: `Invalid value: ${JSON.stringify(ru.maxUnavailable)}: must be greater than 0` });
    }
  } else {
    out.push({ reason: 'FieldValueInvalid', field: 'spec.updateStrategy', message: `Invalid value: ${JSON.stringify(us)}: must be 'RollingUpdate' or 'OnDelete'` });
  }
  const policy = (s.persistentVolumeClaimRetentionPolicy ?? {}) as Obj;
  for (const k of ['whenDeleted', 'whenScaled']) {
    if (policy[k] !== 'Retain' && policy[k] !== 'Delete') {
      out.push({ reason: 'FieldValueNotSupported', field: `spec.persistentVolumeClaimRetentionPolicy.${k}`, message: `Unsupported value: ${goQuote(String(policy[k]))}: supported values: "Retain", "Delete"` });
    }
  }
  const names = new Set<string>();
  ((s.volumeClaimTemplates ?? []) as Obj[]).forEach((c, i) => {
    const n = c.metadata?.name;
    if (!n) out.push({ reason: 'FieldValueRequired', field: `spec.volumeClaimTemplates[${i}].metadata.name`, message: 'Required value: name or generateName is required' });
    else if (names.has(n)) out.push({ reason: 'FieldValueDuplicate', field: `spec.volumeClaimTemplates[${i}].metadata.name`, message: `Duplicate value: ${goQuote(n)}` });
    else names.add(n);
  });
  if (old) {
    const strip = (spec: Obj) => Object.fromEntries(Object.entries(spec ?? {}).filter(([k]) => !STS_MUTABLE.includes(k)));
    if (!deepEqual(strip(s), strip(((old as Obj).spec ?? {}) as Obj))) {
      out.push({ reason: 'FieldValueForbidden', field: 'spec', message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" });
    }
  }
  return out;
}

export function daemonSetCauses(obj: KObject, old: KObject | undefined): StatusCause[] {
  const s = ((obj as Obj).spec ?? {}) as Obj;
  const out = selectorAndTemplate(s, 'daemonset');
  const us = (s.updateStrategy ?? {}) as Obj;
  if (us.type === 'RollingUpdate') {
    const ru = (us.rollingUpdate ?? {}) as Obj;
    out.push(...intOrPercent(ru.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'), ...intOrPercent(ru.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge'));
    if (isZero(ru.maxUnavailable) && isZero(ru.maxSurge)) {
      out.push({ reason: 'FieldValueInvalid', field: 'spec.updateStrategy.rollingUpdate.maxUnavailable', message: `Invalid value: ${JSON.stringify(ru.maxUnavailable)}: may not be 0 when \`maxSurge\` is 0` });
    }
  } else if (us.type === 'OnDelete') {
    if (us.rollingUpdate) out.push({ reason: 'FieldValueForbidden', field: 'spec.updateStrategy.rollingUpdate', message: "Forbidden: may not be specified when strategy `type` is 'OnDelete'" });
  } else {
    out.push({ reason: 'FieldValueNotSupported', field: 'spec.updateStrategy.type', message: `Unsupported value: ${goQuote(String(us.type))}: supported values: "OnDelete", "RollingUpdate"` });
  }
  if (old && !deepEqual(((old as Obj).spec ?? {}).selector, s.selector)) {
    out.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${goSelector(s.selector)}: field is immutable` });
  }
  return out;
}

export function statefulSets(): Strategy {
  return {
    prepareForCreate: (obj) => defaultStatefulSet(obj),
    prepareForUpdate: (obj) => defaultStatefulSet(obj),
    validate: (obj, old) => statefulSetCauses(obj, old),
  };
}

/**
 * The DaemonSet's template generation (apps/v1 keeps it in an annotation): 1 at creation,
 * one more each time the template changes, so pods carry pod-template-generation.
 */
export function daemonSets(): Strategy {
  return {
    prepareForCreate(obj) {
      defaultDaemonSet(obj);
      obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [TEMPLATE_GENERATION]: '1' };
    },
    prepareForUpdate(obj, old) {
      defaultDaemonSet(obj);
      const was = Number(old.metadata.annotations?.[TEMPLATE_GENERATION] ?? 1) || 1;
      const changed = !deepEqual(((obj as Obj).spec ?? {}).template, ((old as Obj).spec ?? {}).template);
      obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [TEMPLATE_GENERATION]: String(changed ? was + 1 : was) };
    },
    validate: (obj, old) => daemonSetCauses(obj, old),
  };
}

/** Serves StatefulSets and DaemonSets and starts their controllers; undefined when not selected. */
export function setupSets(registry: Registry): { stop(): void } | undefined {
  const stops: Array<() => void> = [];
  if (registry.kinds.has('statefulsets.apps')) {
    registry.setStrategy('statefulsets.apps', statefulSets());
    const c = startStatefulSets(registry);
    if (c) stops.push(() => c.stop());
  }
  if (registry.kinds.has('daemonsets.apps')) {
    registry.setStrategy('daemonsets.apps', daemonSets());
    const c = startDaemonSets(registry);
    if (c) stops.push(() => c.stop());
  }
  if (!stops.length) return undefined;
  return { stop: () => { for (const s of stops) s(); } };
}
