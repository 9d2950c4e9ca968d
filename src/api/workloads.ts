// Strategies of apps/v1 Deployment and ReplicaSet (the apiserver's defaulting and the validation
// the controllers depend on) and their scale subresource, served as autoscaling/v1 Scale.
import { ApiError, badRequest, invalid, notFound, type StatusCause } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { Strategy } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';
import { clone, deepEqual } from '../machinery/util.ts';
import { applyJsonPatch, applyMergePatch, applyServerSide } from '../machinery/patch/index.ts';
import { decodeObject, mediaType, parseJsonText, parseYamlText, readBody } from '../server/body.ts';
import { send } from '../server/respond.ts';
import { defaultPodSpec } from './pods.ts';
import { fieldManager, qBool, type ApiContext, type ApiRequest } from './generic.ts';
import { startWorkloads, type WorkloadController } from '../runtime/deployments.ts';

type Obj = Record<string, any>;

function defaultTemplate(spec: Obj): void {
  spec.template ??= {};
  spec.template.spec ??= {};
  defaultPodSpec(spec.template.spec, 'template');
}

export function defaultDeployment(obj: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  s.replicas ??= 1;
  s.strategy ??= {};
  s.strategy.type ??= 'RollingUpdate';
  if (s.strategy.type === 'RollingUpdate') {
    s.strategy.rollingUpdate ??= {};
    s.strategy.rollingUpdate.maxUnavailable ??= '25%';
    s.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  s.revisionHistoryLimit ??= 10;
  s.progressDeadlineSeconds ??= 600;
  defaultTemplate(s);
}

export function defaultReplicaSet(obj: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  s.replicas ??= 1;
  defaultTemplate(s);
}

/** Go's %#v of a LabelSelector, as the apiserver prints it in immutability messages. */
function goSelector(sel: Obj | undefined): string {
  const labels = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `"${k}":"${v}"`).join(', ');
  const exprs = (sel?.matchExpressions ?? []).length ? `[]v1.LabelSelectorRequirement{...}` : 'nil';
  return `&v1.LabelSelector{MatchLabels:map[string]string{${labels}}, MatchExpressions:${exprs}}`;
}

function selectorMatches(sel: Obj | undefined, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of (sel?.matchExpressions ?? []) as Obj[]) {
    const has = e.key in labels;
    const vals: string[] = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function intOrPercent(v: unknown, field: string): StatusCause[] {
  if (v === undefined) return [];
  if (typeof v === 'number') {
    return v < 0 ? [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${v}: must be greater than or equal to 0` }] : [];
  }
  const m = /^(\d+)%$/.exec(String(v));
  if (!m) return [{ reason: 'FieldValueInvalid', field, message: `Invalid value: "${v}": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')` }];
  if (Number(m[1]) > 100) return [{ reason: 'FieldValueInvalid', field, message: `Invalid value: "${v}": must not be greater than 100%` }];
  return [];
}

function nonNegative(v: unknown, field: string): StatusCause[] {
  return typeof v === 'number' && v < 0 ? [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${v}: must be greater than or equal to 0` }] : [];
}

function commonCauses(obj: KObject, old: KObject | undefined): StatusCause[] {
  const s = ((obj as Obj).spec ?? {}) as Obj;
  const out: StatusCause[] = [];
  const sel = s.selector as Obj | undefined;
  if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length)) {
    out.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
    if (sel) out.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${goSelector(sel)}: empty selector is invalid for deployment` });
  } else {
    const labels = (s.template?.metadata?.labels ?? {}) as Record<string, string>;
    if (!selectorMatches(sel, labels)) out.push(templateLabelsCause(labels));
  }
  if (old) {
    const oldSel = ((old as Obj).spec ?? {}).selector;
    if (!deepEqual(oldSel, sel)) {
      out.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${goSelector(sel)}: field is immutable` });
    }
  }
  out.push(...nonNegative(s.replicas, 'spec.replicas'), ...nonNegative(s.minReadySeconds, 'spec.minReadySeconds'));
  out.push(...restartPolicyCauses(s.template));
  return out;
}

function templateLabelsCause(labels: Record<string, string>): StatusCause {
  const shown = Object.entries(labels).map(([k, v]) => `"${k}":"${v}"`).join(', ');
  return { reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: map[string]string{${shown}}: \`selector\` does not match template \`labels\`` };
}

/** Pods of a ReplicaSet-like owner are always restarted. */
function restartPolicyCauses(template: Obj | undefined): StatusCause[] {
  const rp = template?.spec?.restartPolicy;
  return rp !== undefined && rp !== 'Always'
    ? [{ reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: `Unsupported value: "${rp}": supported values: "Always"` }]
    : [];
}

function deploymentCauses(obj: KObject, old: KObject | undefined): StatusCause[] {
  const s = ((obj as Obj).spec ?? {}) as Obj;
  const out = commonCauses(obj, old);
  const st = s.strategy ?? {};
  if (st.type !== 'RollingUpdate' && st.type !== 'Recreate') {
    out.push({ reason: 'FieldValueNotSupported', field: 'spec.strategy.type', message: `Unsupported value: "${st.type}": supported values: "Recreate", "RollingUpdate"` });
  }
  if (st.type === 'Recreate' && st.rollingUpdate) {
    out.push({ reason: 'FieldValueForbidden', field: 'spec.strategy.rollingUpdate', message: "Forbidden: may not be specified when strategy `type` is 'Recreate'" });
  }
  const ru = st.rollingUpdate as Obj | undefined;
  if (st.type === 'RollingUpdate' && ru) {
    out.push(...intOrPercent(ru.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable'), ...intOrPercent(ru.maxSurge, 'spec.strategy.rollingUpdate.maxSurge'));
    const zero = (v: unknown) => v === 0 || v === '0%';
    if (zero(ru.maxUnavailable) && zero(ru.maxSurge)) {
      out.push({ reason: 'FieldValueInvalid', field: 'spec.strategy.rollingUpdate.maxUnavailable', message: `Invalid value: ${JSON.stringify(ru.maxUnavailable)}: may not be 0 when \`maxSurge\` is 0` });
    }
  }
  out.push(...nonNegative(s.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (typeof s.progressDeadlineSeconds === 'number' && typeof s.minReadySeconds === 'number' && s.progressDeadlineSeconds <= s.minReadySeconds) {
    out.push({ reason: 'FieldValueInvalid', field: 'spec.progressDeadlineSeconds', message: `Invalid value: ${s.progressDeadlineSeconds}: must be greater than minReadySeconds` });
  }
  return out;
}

export function deployments(): Strategy {
  return {
    prepareForCreate: (obj) => defaultDeployment(obj),
    prepareForUpdate: (obj) => defaultDeployment(obj),
    validate: (obj, old) => deploymentCauses(obj, old),
  };
}

/** SetDefaults_ReplicationController: selector and labels from the template's labels, one replica. */
export function defaultReplicationController(obj: KObject): void {
  const s = ((obj as Obj).spec ??= {}) as Obj;
  const labels = s.template?.metadata?.labels as Record<string, string> | undefined;
  if (labels) {
    if (!s.selector || !Object.keys(s.selector).length) s.selector = { ...labels };
    if (!obj.metadata.labels || !Object.keys(obj.metadata.labels).length) obj.metadata.labels = { ...labels };
  }
  s.replicas ??= 1;
  if (s.template) defaultTemplate(s);
}

/** ValidateReplicationControllerSpec: a plain map selector (mutable, unlike a ReplicaSet's), matching the template. */
function replicationControllerCauses(obj: KObject): StatusCause[] {
  const s = ((obj as Obj).spec ?? {}) as Obj;
  const out: StatusCause[] = [];
  const sel = (s.selector ?? {}) as Record<string, string>;
  if (!Object.keys(sel).length) out.push({ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' });
  if (!s.template) out.push({ reason: 'FieldValueRequired', field: 'spec.template', message: 'Required value' });
  else if (Object.keys(sel).length) {
    const labels = (s.template.metadata?.labels ?? {}) as Record<string, string>;
    if (!selectorMatches({ matchLabels: sel }, labels)) out.push(templateLabelsCause(labels));
    out.push(...restartPolicyCauses(s.template));
  }
  out.push(...nonNegative(s.replicas, 'spec.replicas'), ...nonNegative(s.minReadySeconds, 'spec.minReadySeconds'));
  return out;
}

export function replicationControllers(): Strategy {
  return {
    prepareForCreate: (obj) => defaultReplicationController(obj),
    prepareForUpdate: (obj) => defaultReplicationController(obj),
    validate: (obj) => replicationControllerCauses(obj),
  };
}

export function replicaSets(): Strategy {
  return {
    prepareForCreate: (obj) => defaultReplicaSet(obj),
    prepareForUpdate: (obj) => defaultReplicaSet(obj),
    validate: (obj, old) => commonCauses(obj, old),
  };
}

// ---- scale subresource ---------------------------------------------------------------------

/** metav1.FormatLabelSelector: the selector as a label-selector string. */
export function formatSelector(sel: Obj | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of (sel?.matchExpressions ?? []) as Obj[]) {
    const vals = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** A ReplicationController's selector is a plain map; everything else has a LabelSelector. */
export function asLabelSelector(obj: KObject): Obj | undefined {
  const sel = ((obj as Obj).spec ?? {}).selector as Obj | undefined;
  return obj.kind === 'ReplicationController' ? { matchLabels: sel ?? {} } : sel;
}

export function toScale(obj: KObject): KObject {
  const m = obj.metadata;
  const o = obj as Obj;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 1 },
    status: { replicas: o.status?.replicas ?? 0, selector: formatSelector(asLabelSelector(obj)) },
  } as KObject;
}

async function current(ctx: ApiContext, r: ApiRequest): Promise<KObject> {
  const obj = ctx.registry.peek(r.kind, r.namespace, r.name!);
  if (!obj) throw notFound(r.kind.plural, r.kind.group, r.name!);
  return ctx.registry.withTypeMeta(r.kind, clone(obj));
}

async function writeScale(ctx: ApiContext, r: ApiRequest, live: KObject, scale: Obj): Promise<void> {
  const replicas = scale?.spec?.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) {
    throw invalid('Scale', 'autoscaling', r.name!, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
  }
  const rv = scale?.metadata?.resourceVersion;
  if (rv && rv !== live.metadata.resourceVersion) {
    throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.kind.plural}.${r.kind.group} "${r.name}": the object has been modified; please apply your changes to the latest version and try again`, { name: r.name, group: r.kind.group, kind: r.kind.plural });
  }
  const next = clone(live) as Obj;
  next.spec ??= {};
  next.spec.replicas = replicas ?? 0;
  const dryRun = [r.query.dryRun].flat().includes('All');
  const manager = [r.query.fieldManager].flat()[0] as string | undefined;
  const { object } = await ctx.registry.update(r.kind, r.namespace, r.name!, next as KObject, { dryRun, fieldManager: manager, subresource: 'scale', skipRvCheck: true });
  send(r.res, 200, toScale(object), r.wanted);
}

export async function getScale(ctx: ApiContext, r: ApiRequest): Promise<void> {
  send(r.res, 200, toScale(await current(ctx, r)), r.wanted);
}

export async function putScale(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const { obj } = await decodeObject(await readBody(r.req), r.req.headers['content-type']);
  if (!obj || typeof obj !== 'object') throw badRequest('the body of the request was not a Scale object');
  await writeScale(ctx, r, await current(ctx, r), obj as Obj);
}

export async function patchScale(ctx: ApiContext, r: ApiRequest): Promise<void> {
  const ct = mediaType(r.req.headers['content-type']);
  const text = (await readBody(r.req)).toString('utf8');
  const live = await current(ctx, r);
  const scale = toScale(live);
  let next: unknown;
  if (ct === 'application/json-patch+json') {
    const ops = parseJsonText(text);
    if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    next = applyJsonPatch(clone(scale), ops);
  } else if (ct === 'application/merge-patch+json' || ct === 'application/strategic-merge-patch+json') {
    // Scale has no lists, so a strategic merge is a plain merge.
    next = applyMergePatch(clone(scale), parseJsonText(text));
  } else if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+json') {
    await applyScale(ctx, r, live, await parseYamlText(text));
    return;
  } else {
    throw new ApiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json');
  }
  const n = next as Obj;
  // The patch may not carry a resourceVersion; the one toScale put there is the live one.
  await writeScale(ctx, r, live, n);
}

/**
 * Server-side apply of an autoscaling/v1 Scale: as the apiserver's scale handler, the Scale's
 * spec.replicas is the parent's spec.replicas, owned (and conflicting) in the parent's
 * managedFields under the manager's `scale` subresource entry.
 */
async function applyScale(ctx: ApiContext, r: ApiRequest, live: KObject, body: unknown): Promise<void> {
  const manager = fieldManager(r, true)!;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('error decoding YAML: the apply configuration is not an object');
  const applied = body as Obj;
  if (applied.apiVersion !== 'autoscaling/v1') {
    throw badRequest(`Incorrect version specified in apply patch. Specified patch version: ${applied.apiVersion ?? ''}, expected: autoscaling/v1`);
  }
  if (applied.kind !== 'Scale') throw badRequest(`invalid object type: autoscaling/v1, Kind=${applied.kind ?? ''}`);
  if (applied.metadata?.managedFields != null) throw badRequest('metadata.managedFields must be nil');
  if (applied.metadata?.name !== undefined && applied.metadata.name !== r.name) {
    throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${r.name})`);
  }
  const replicas = applied.spec?.replicas;
  if (replicas !== undefined && replicas !== null && (!Number.isInteger(replicas) || replicas < 0)) {
    throw invalid('Scale', 'autoscaling', r.name!, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
  }
  const rv = applied.metadata?.resourceVersion;
  if (rv && rv !== live.metadata.resourceVersion) {
    throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${r.kind.plural}.${r.kind.group} "${r.name}": the object has been modified; please apply your changes to the latest version and try again`, { name: r.name, group: r.kind.group, kind: r.kind.plural });
  }
  // The same intent in the parent's terms; only spec.replicas counts for the scale subresource.
  const apiVersion = `${r.kind.group}/${r.kind.version}`;
  const parent: Obj = { apiVersion, kind: r.kind.kind, metadata: { name: r.name } };
  if (replicas !== undefined && replicas !== null) parent.spec = { replicas };
  const { object: next } = applyServerSide({
    live: clone(live), applied: parent, manager, force: qBool(r.query, 'force'), node: ctx.schema.root(r.kind.definition),
    apiVersion, now: new Date(), subresource: 'scale',
  });
  const dryRun = [r.query.dryRun].flat().includes('All');
  const { object } = await ctx.registry.update(r.kind, r.namespace, r.name!, next, { dryRun, subresource: 'scale', skipRvCheck: true });
  send(r.res, 200, toScale(object), r.wanted);
}

/**
 * Serves Deployments and ReplicaSets and starts their controllers. Undefined when the API
 * selection (openapi/supported.yaml) leaves them out.
 */
export function setupWorkloads(registry: Registry): WorkloadController | undefined {
  if (!registry.kinds.has('deployments.apps') || !registry.kinds.has('replicasets.apps')) return undefined;
  registry.setStrategy('deployments.apps', deployments());
  registry.setStrategy('replicasets.apps', replicaSets());
  if (registry.kinds.has('replicationcontrollers')) registry.setStrategy('replicationcontrollers', replicationControllers());
  return startWorkloads(registry);
}
