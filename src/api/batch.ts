// Strategies of batch/v1 Job and CronJob: the apiserver's defaulting (pkg/apis/batch/v1),
// selector generation (pkg/registry/batch/job) and the validation clients meet
// (pkg/apis/batch/validation), and the start of both controllers.
import { randomUUID } from 'node:crypto';
import type { StatusCause } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { Strategy } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';
import { deepEqual } from '../machinery/util.ts';
import { fieldError as f, validateLabelSelector } from '../machinery/validation.ts';
import { isDNS1123Label, labelSelectorMatcher } from '../machinery/selectors.ts';
import { defaultPodSpec } from './pods.ts';
import { scheduleError, timeZoneError } from '../runtime/cron.ts';
import { startJobs } from '../runtime/jobs.ts';
import { startCronJobs } from '../runtime/cronjobs.ts';

type Obj = Record<string, any>;

export const CONTROLLER_UID = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME = 'batch.kubernetes.io/job-name';
export const LEGACY_CONTROLLER_UID = 'controller-uid';
export const LEGACY_JOB_NAME = 'job-name';

function defaultTemplate(t: Obj): void {
  t.spec ??= {};
  defaultPodSpec(t.spec, 'template');
}

/** SetDefaults_JobSpec as it applies to a Job (a CronJob's jobTemplate gets only the pod defaults). */
function defaultJobSpec(s: Obj, isJob: boolean): void {
  s.template ??= {};
  defaultTemplate(s.template);
  for (const rule of s.podFailurePolicy?.rules ?? []) for (const p of rule.onPodConditions ?? []) p.status ||= 'True';
  if (!isJob) return;
  if (s.completions == null && s.parallelism == null) { s.completions = 1; s.parallelism = 1; }
  s.parallelism ??= 1;
  s.backoffLimit ??= s.backoffLimitPerIndex != null ? 2147483647 : 6;
  s.completionMode ??= 'NonIndexed';
  s.suspend ??= false;
  s.podReplacementPolicy ??= s.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  s.manualSelector ??= false;
}

export function defaultJob(obj: KObject): void {
  defaultJobSpec(((obj as Obj).spec ??= {}) as Obj, true);
}

/**
 * generateSelector: the template gets the job-name and controller-uid labels (both spellings)
 * and the selector matches the uid. The Job itself takes the template labels when it has none,
 * as decoding defaults do on every read.
 */
export function generateSelector(obj: KObject, uid: string): void {
  const s = (obj as Obj).spec as Obj;
  const t = (s.template ??= {});
  const labels = (t.metadata ??= {}).labels ??= {};
  for (const k of [LEGACY_JOB_NAME, JOB_NAME]) labels[k] ??= obj.metadata.name;
  for (const k of [LEGACY_CONTROLLER_UID, CONTROLLER_UID]) labels[k] ??= uid;
  const sel = (s.selector ??= {});
  sel.matchLabels ??= {};
  sel.matchLabels[CONTROLLER_UID] ??= uid;
}

function jobLabelsFromTemplate(obj: KObject): void {
  const tl = ((obj as Obj).spec?.template?.metadata?.labels ?? undefined) as Record<string, string> | undefined;
  if (tl && !Object.keys(obj.metadata.labels ?? {}).length) obj.metadata.labels = { ...tl };
}

export function defaultCronJob(obj: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  s.concurrencyPolicy ||= 'Allow';
  s.suspend ??= false;
  s.successfulJobsHistoryLimit ??= 3;
  s.failedJobsHistoryLimit ??= 1;
  s.jobTemplate ??= {};
  defaultJobSpec((s.jobTemplate.spec ??= {}), false);
}

// ---- validation ----------------------------------------------------------------------------

const nonNegative = (v: unknown, field: string): StatusCause[] =>
  (typeof v === 'number' && v < 0 ? [f.invalid(field, v, 'must be greater than or equal to 0')] : []);

const goMap = (m: Record<string, string> | undefined) =>
  `map[string]string{${Object.keys(m ?? {}).sort().map((k) => `"${k}":"${m![k]}"`).join(', ')}}`;

/** Go's %#v of a dereferenced LabelSelector, as immutability messages print it. */
function goSelector(sel: Obj | undefined): string {
  if (!sel) return 'null';
  const exprs = (sel.matchExpressions ?? []).length ? '[]v1.LabelSelectorRequirement{...}' : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${sel.matchLabels ? goMap(sel.matchLabels) : 'map[string]string(nil)'}, MatchExpressions:${exprs}}`;
}

/** The selector as a matcher; an invalid one (reported by validateLabelSelector) matches nothing. */
function matcher(sel: Obj | undefined): (l: Record<string, string>) => boolean {
  try {
    return labelSelectorMatcher(sel as never);
  } catch {
    return () => false;
  }
}

const immutable = (field: string, shown: string): StatusCause =>
  ({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${shown}: field is immutable` });

function templateCauses(t: Obj | undefined, prefix: string): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = t?.spec ?? {};
  const containers = spec.containers ?? [];
  if (!Array.isArray(containers) || !containers.length) out.push(f.required(`${prefix}.spec.containers`));
  const names = new Set<string>();
  for (const [list, field] of [[spec.initContainers ?? [], 'initContainers'], [containers, 'containers']] as const) {
    (list as Obj[]).forEach((c, i) => {
      const p = `${prefix}.spec.${field}[${i}]`;
      if (!c.name) out.push(f.required(`${p}.name`));
      else {
        for (const msg of isDNS1123Label(c.name)) out.push(f.invalid(`${p}.name`, c.name, msg));
        if (names.has(c.name)) out.push({ reason: 'FieldValueDuplicate', field: `${p}.name`, message: `Duplicate value: "${c.name}"` });
        names.add(c.name);
      }
      if (!c.image) out.push(f.required(`${p}.image`));
    });
  }
  return out;
}

function podFailurePolicyCauses(s: Obj, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const rules = (s.podFailurePolicy?.rules ?? []) as Obj[];
  if (rules.length > 20) out.push({ reason: 'FieldValueTooMany', field: `${path}.rules`, message: `Too many: ${rules.length}: must have at most 20 items` });
  const containerNames = new Set([...(s.template?.spec?.containers ?? []), ...(s.template?.spec?.initContainers ?? [])].map((c: Obj) => c.name));
  const actions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
  rules.forEach((rule, i) => {
    const rp = `${path}.rules[${i}]`;
    if (!rule.action) out.push(f.required(`${rp}.action`, `valid values: ${JSON.stringify(actions).replace(/,/g, ' ')}`));
    else if (rule.action === 'FailIndex') {
      if (s.backoffLimitPerIndex == null) out.push(f.invalid(`${rp}.action`, rule.action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!actions.includes(rule.action)) out.push(f.notSupported(`${rp}.action`, rule.action, actions));
    const oe = rule.onExitCodes as Obj | undefined;
    if (oe) {
      const op = `${rp}.onExitCodes`;
      if (!oe.operator) out.push(f.required(`${op}.operator`, 'valid values: ["In" "NotIn"]'));
      else if (!['In', 'NotIn'].includes(oe.operator)) out.push(f.notSupported(`${op}.operator`, oe.operator, ['In', 'NotIn']));
      if (oe.containerName != null && !containerNames.has(oe.containerName)) {
        out.push(f.invalid(`${op}.containerName`, oe.containerName, 'must be one of the container or initContainer names in the pod template'));
      }
      const values = (oe.values ?? []) as number[];
      if (!values.length) out.push(f.invalid(`${op}.values`, values, 'at least one value is required'));
      const seen = new Set<number>();
      let ordered = true;
      values.forEach((v, j) => {
        if (oe.operator === 'In' && v === 0) out.push(f.invalid(`${op}.values[${j}]`, v, 'must not be 0 for the In operator'));
        if (seen.has(v)) out.push({ reason: 'FieldValueDuplicate', field: `${op}.values[${j}]`, message: `Duplicate value: ${v}` });
        seen.add(v);
        if (j > 0 && values[j - 1] > v) ordered = false;
      });
      if (!ordered) out.push(f.invalid(`${op}.values`, values, 'must be ordered'));
    }
    const conds = (rule.onPodConditions ?? []) as Obj[];
    conds.forEach((c, j) => {
      const sp = `${rp}.onPodConditions[${j}].status`;
      if (!['True', 'False', 'Unknown'].includes(c.status)) out.push(f.notSupported(sp, c.status, ['False', 'True', 'Unknown']));
    });
    if (oe && conds.length) out.push({ reason: 'FieldValueInvalid', field: rp, message: 'Invalid value: specifying both OnExitCodes and OnPodConditions is not supported' });
    if (!oe && !conds.length) out.push({ reason: 'FieldValueInvalid', field: rp, message: 'Invalid value: specifying one of OnExitCodes and OnPodConditions is required' });
  });
  return out;
}

/** validateJobSpec: what a Job and a CronJob's jobTemplate share. */
function jobSpecCauses(s: Obj, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  for (const k of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes']) {
    out.push(...nonNegative(s[k], `${path}.${k}`));
  }
  if (s.maxFailedIndexes != null && s.backoffLimitPerIndex == null) out.push(f.required(`${path}.backoffLimitPerIndex`, 'when maxFailedIndexes is specified'));
  const mode = s.completionMode;
  if (mode != null && mode !== 'NonIndexed' && mode !== 'Indexed') out.push(f.notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
  if (mode === 'Indexed') {
    if (s.completions == null) out.push(f.required(`${path}.completions`, 'when completion mode is Indexed'));
    if (typeof s.parallelism === 'number' && s.parallelism > 100000) out.push(f.invalid(`${path}.parallelism`, s.parallelism, 'must be less than or equal to 100000 when completion mode is Indexed'));
  } else {
    if (s.backoffLimitPerIndex != null) out.push(f.invalid(`${path}.backoffLimitPerIndex`, s.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (s.maxFailedIndexes != null) out.push(f.invalid(`${path}.maxFailedIndexes`, s.maxFailedIndexes, 'requires indexed completion mode'));
    if (s.successPolicy != null) out.push(f.invalid(`${path}.successPolicy`, s.successPolicy, 'requires indexed completion mode'));
  }
  if (s.podFailurePolicy) out.push(...podFailurePolicyCauses(s, `${path}.podFailurePolicy`));
  const rpp = s.podReplacementPolicy;
  if (rpp != null) {
    if (s.podFailurePolicy && rpp !== 'Failed') out.push(f.notSupported(`${path}.podReplacementPolicy`, rpp, ['Failed']));
    else if (!['Failed', 'TerminatingOrFailed'].includes(rpp)) out.push(f.notSupported(`${path}.podReplacementPolicy`, rpp, ['Failed', 'TerminatingOrFailed']));
  }
  out.push(...templateCauses(s.template, `${path}.template`));
  const rp = s.template?.spec?.restartPolicy;
  if (!rp || rp === 'Always') {
    out.push(f.required(`${path}.template.spec.restartPolicy`, 'valid values: "OnFailure", "Never"'));
  } else if (rp !== 'OnFailure' && rp !== 'Never') {
    out.push(f.notSupported(`${path}.template.spec.restartPolicy`, rp, ['OnFailure', 'Never']));
  } else if (s.podFailurePolicy && rp !== 'Never') {
    out.push(f.invalid(`${path}.template.spec.restartPolicy`, rp, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return out;
}

function jobCauses(obj: KObject, old: KObject | undefined): StatusCause[] {
  const s = ((obj as Obj).spec ?? {}) as Obj;
  const out: StatusCause[] = [];
  const labels = (s.template?.metadata?.labels ?? {}) as Record<string, string>;
  if (!s.manualSelector && s.selector) {
    // The uid the selector was generated with; an update keeps what create generated.
    const uid = (old ? ((old as Obj).spec?.template?.metadata?.labels ?? {})[LEGACY_CONTROLLER_UID] : undefined) ?? obj.metadata.uid;
    const want: Array<[string, string | undefined]> = [[LEGACY_CONTROLLER_UID, uid], [LEGACY_JOB_NAME, obj.metadata.name]];
    const oldLabels = (old as Obj | undefined)?.spec?.template?.metadata?.labels ?? {};
    // Jobs stored before the prefixed labels existed are not required to have them.
    if (!old || (JOB_NAME in oldLabels && CONTROLLER_UID in oldLabels)) want.push([CONTROLLER_UID, uid], [JOB_NAME, obj.metadata.name]);
    for (const [k, v] of want) {
      if (!(k in labels)) out.push(f.required(`spec.template.metadata.labels[${k}]`, `must be '${v}'`));
      else if (labels[k] !== v) out.push({ reason: 'FieldValueInvalid', field: `spec.template.metadata.labels[${k}]`, message: `Invalid value: ${goMap(labels)}: must be '${v}'` });
    }
    const matches = matcher(s.selector);
    if (!matches(Object.fromEntries(want.map(([k, v]) => [k, v ?? ''])))) out.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${goSelector(s.selector)}: \`selector\` not auto-generated` });
  }
  out.push(...jobSpecCauses(s, 'spec'));
  if (!s.selector) out.push(f.required('spec.selector'));
  else {
    out.push(...validateLabelSelector(s.selector, 'spec.selector'));
    if (!matcher(s.selector)(labels)) {
      out.push({ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: ${goMap(labels)}: \`selector\` does not match template \`labels\`` });
    }
  }
  if (s.completionMode === 'Indexed' && typeof s.completions === 'number' && s.completions > 0) {
    const host = `${obj.metadata.name}-${s.completions - 1}`;
    if (isDNS1123Label(host).length) out.push(f.invalid('metadata.name', obj.metadata.name, `will not able to create pod with invalid DNS label: ${host}`));
  }
  if (old) out.push(...jobUpdateCauses(s, ((old as Obj).spec ?? {}) as Obj, !!(old as Obj).status?.startTime));
  return out;
}

/** Fields a suspended Job that never started may still change in its template. */
function schedulingView(t: Obj | undefined): Obj {
  const c = structuredClone(t ?? {});
  if (c.metadata) { delete c.metadata.labels; delete c.metadata.annotations; }
  if (c.spec) {
    delete c.spec.nodeSelector; delete c.spec.tolerations; delete c.spec.schedulingGates;
    if (c.spec.affinity) { delete c.spec.affinity.nodeAffinity; if (!Object.keys(c.spec.affinity).length) delete c.spec.affinity; }
  }
  return c;
}

function jobUpdateCauses(s: Obj, o: Obj, started: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  const indexed = s.completionMode === 'Indexed';
  if (!deepEqual(s.completions, o.completions)) {
    if (!indexed) out.push(immutable('spec.completions', String(s.completions ?? 'null')));
    else if (s.completions != null && s.completions !== s.parallelism) {
      out.push(f.invalid('spec.completions', s.completions, 'can only be modified in tandem with spec.parallelism'));
    }
  }
  if (!deepEqual(s.selector, o.selector)) out.push(immutable('spec.selector', goSelector(s.selector)));
  const mutableScheduling = !!o.suspend && !started;
  const same = mutableScheduling ? deepEqual(schedulingView(s.template), schedulingView(o.template)) : deepEqual(s.template, o.template);
  if (!same) out.push(immutable('spec.template', 'core.PodTemplateSpec{...}'));
  for (const k of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
    if (!deepEqual(s[k], o[k])) out.push(immutable(`spec.${k}`, typeof s[k] === 'string' ? JSON.stringify(s[k]) : s[k] == null ? 'null' : `batch.${k[0].toUpperCase()}${k.slice(1)}{...}`));
  }
  return out;
}

const TZ_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

function cronJobCauses(obj: KObject, old: KObject | undefined): StatusCause[] {
  const s = ((obj as Obj).spec ?? {}) as Obj;
  const o = (old as Obj | undefined)?.spec as Obj | undefined;
  const out: StatusCause[] = [];
  const schedule: string = s.schedule ?? '';
  if (!schedule) out.push(f.required('spec.schedule'));
  else {
    const err = scheduleError(schedule);
    if (err) out.push(f.invalid('spec.schedule', schedule, err));
    const allowTZ = !!o && String(o.schedule ?? '').includes('TZ');
    if (allowTZ && schedule.includes('TZ') && s.timeZone != null) out.push(f.invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    else if (!allowTZ && schedule.includes('TZ')) out.push(f.invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  out.push(...nonNegative(s.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!o || o.timeZone !== s.timeZone) out.push(...timeZoneCauses(s.timeZone));
  const cp = s.concurrencyPolicy;
  if (!cp) out.push(f.required('spec.concurrencyPolicy'));
  else if (!['Allow', 'Forbid', 'Replace'].includes(cp)) out.push(f.notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
  const js = (s.jobTemplate?.spec ?? {}) as Obj;
  out.push(...jobSpecCauses(js, 'spec.jobTemplate.spec'));
  if (js.selector != null) out.push({ reason: 'FieldValueInvalid', field: 'spec.jobTemplate.spec.selector', message: `Invalid value: ${goSelector(js.selector)}: \`selector\` will be auto-generated` });
  if (js.manualSelector === true) out.push(f.notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  out.push(...nonNegative(s.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'), ...nonNegative(s.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return out;
}

function timeZoneCauses(tz: unknown): StatusCause[] {
  if (tz == null) return [];
  const v = String(tz);
  if (!v) return [f.invalid('spec.timeZone', v, 'timeZone must be nil or non-empty string')];
  for (const part of v.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !TZ_PART.test(part)) return [f.invalid('spec.timeZone', v, `unknown time zone ${v}`)];
  }
  if (v.toLowerCase() === 'local') return [f.invalid('spec.timeZone', v, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones')];
  const err = timeZoneError(v);
  return err ? [f.invalid('spec.timeZone', v, err)] : [];
}

// ---- strategies ----------------------------------------------------------------------------

export function jobs(): Strategy {
  return {
    prepareForCreate(obj) {
      defaultJob(obj);
      const s = (obj as Obj).spec as Obj;
      // The registry assigns the uid after this hook; see the report on selector generation.
      const uid = obj.metadata.uid || randomUUID();
      obj.metadata.uid = uid;
      if (!s.manualSelector) generateSelector(obj, uid);
      jobLabelsFromTemplate(obj);
    },
    prepareForUpdate(obj) {
      defaultJob(obj);
      jobLabelsFromTemplate(obj);
    },
    validate: (obj, old) => jobCauses(obj, old),
  };
}

export function cronJobs(): Strategy {
  return {
    prepareForCreate: (obj) => defaultCronJob(obj),
    prepareForUpdate: (obj) => defaultCronJob(obj),
    validate: (obj, old) => cronJobCauses(obj, old),
  };
}

/** Serves Jobs and CronJobs and starts their controllers; undefined when not selected. */
export function setupBatch(registry: Registry): { stop(): void } | undefined {
  if (!registry.kinds.has('jobs.batch')) return undefined;
  registry.setStrategy('jobs.batch', jobs());
  const hasCron = registry.kinds.has('cronjobs.batch');
  if (hasCron) registry.setStrategy('cronjobs.batch', cronJobs());
  if (!registry.kinds.has('pods')) return undefined;
  const j = startJobs(registry);
  const c = hasCron ? startCronJobs(registry) : undefined;
  return { stop() { j.stop(); c?.stop(); } };
}
