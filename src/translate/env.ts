// A container's environment as kubelet's makeEnvironmentVariables builds it: envFrom first, then
// env in order (values expanded against what came before and the service variables), then the
// service variables nothing overrode. Error texts are kubelet's, because users see them as the
// CreateContainerConfigError message.

import { goQuote } from '../machinery/selectors.ts';
import { expand } from './expand.ts';
import type { Container, ObjectFieldSelector, ResourceFieldSelector } from './k8s.ts';
import { divideForEnv, tryParseQuantity } from './quantity.ts';
import type { PlanContext } from './types.ts';

/** The relaxed rule (GA in 1.34): printable ASCII except '='. */
export function isEnvVarName(name: string): boolean {
  return name.length > 0 && /^[\x20-\x3c\x3e-\x7e]+$/.test(name);
}

export function decodeSecretValue(v: unknown): string {
  return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '';
}

function dataOf(obj: Record<string, unknown>, key: 'data' | 'binaryData'): Record<string, string> {
  const d = obj[key];
  return d && typeof d === 'object' ? (d as Record<string, string>) : {};
}

function envVarName(s: string): string {
  const n = s.replace(/[.-]/g, '_').toUpperCase();
  return /^[0-9]/.test(n) ? '_' + n : n;
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Docker-link style variables of the Services a pod sees (envvars.FromServices). */
export function serviceEnv(ctx: PlanContext): Map<string, string> {
  const out = new Map<string, string>();
  const list = ctx.env.services;
  if (!list) return out;
  const links = ctx.spec.enableServiceLinks ?? true;
  const chosen = new Map<string, Record<string, any>>();
  // The default namespace's `kubernetes` Service is always visible; others only with links on.
  for (const svc of list('default')) {
    if (svc.metadata.name === 'kubernetes' && ipSet(svc)) chosen.set('kubernetes', svc);
  }
  if (links) {
    for (const svc of list(ctx.namespace)) if (ipSet(svc)) chosen.set(svc.metadata.name!, svc);
  }
  for (const name of [...chosen.keys()].sort()) {
    const svc = chosen.get(name)!;
    const spec = svc.spec as { clusterIP: string; ports?: Array<{ name?: string; port: number; protocol?: string }> };
    const ports = spec.ports ?? [];
    if (ports.length === 0) continue;
    const prefix = envVarName(name);
    // The clusterIP does not route on Docker: a Service's DNS name does (see translate/services.ts).
    const host = name === 'kubernetes' && svc.metadata.namespace === 'default' ? spec.clusterIP : `${name}.${svc.metadata.namespace}.svc.${ctx.env.clusterDomain ?? 'cluster.local'}`;
    out.set(`${prefix}_SERVICE_HOST`, host);
    out.set(`${prefix}_SERVICE_PORT`, String(ports[0].port));
    for (const p of ports) if (p.name) out.set(`${prefix}_SERVICE_PORT_${envVarName(p.name)}`, String(p.port));
    ports.forEach((p, i) => {
      const proto = (p.protocol || 'TCP');
      const url = `${proto.toLowerCase()}://${hostPort(host, p.port)}`;
      if (i === 0) out.set(`${prefix}_PORT`, url);
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.set(pp, url);
      out.set(`${pp}_PROTO`, proto.toLowerCase());
      out.set(`${pp}_PORT`, String(p.port));
      out.set(`${pp}_ADDR`, host);
    });
  }
  return out;
}

function ipSet(svc: Record<string, any>): boolean {
  const ip = svc.spec?.clusterIP;
  return typeof ip === 'string' && ip !== '' && ip !== 'None';
}

export function podIPs(ctx: PlanContext): string[] {
  if (ctx.env.podIPs?.length) return ctx.env.podIPs;
  if (ctx.env.podIP) return [ctx.env.podIP];
  return ctx.spec.hostNetwork ? hostIPs(ctx) : [];
}

function hostIPs(ctx: PlanContext): string[] {
  return ctx.env.hostIPs?.length ? ctx.env.hostIPs : ctx.env.hostIP ? [ctx.env.hostIP] : [];
}

/** fieldpath.FormatMap: sorted `key="value"` lines. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${goQuote(m![k])}`).join('\n');
}

/** A downward API field's value, or undefined when the path is not one Kubernetes supports. */
export function podFieldValue(ctx: PlanContext, sel: ObjectFieldSelector): string | undefined {
  const meta = ctx.pod.metadata;
  const path = sel.fieldPath;
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (sub) return (meta[sub[1]] as Record<string, string> | undefined)?.[sub[2]] ?? '';
  switch (path) {
    case 'metadata.name': return ctx.name;
    case 'metadata.namespace': return ctx.namespace;
    case 'metadata.uid': return ctx.uid;
    case 'metadata.labels': return formatMap(meta.labels);
    case 'metadata.annotations': return formatMap(meta.annotations);
    case 'spec.nodeName': return ctx.spec.nodeName || ctx.env.nodeName;
    case 'spec.serviceAccountName': return ctx.spec.serviceAccountName || ctx.spec.serviceAccount || 'default';
    case 'status.hostIP': return hostIPs(ctx)[0] ?? '';
    case 'status.hostIPs': return hostIPs(ctx).join(',');
    case 'status.podIP': return podIPs(ctx)[0] ?? '';
    case 'status.podIPs': return podIPs(ctx).join(',');
  }
  return undefined;
}

/** resourceFieldRef: an unset limit is node allocatable, an unset request defaults to the limit. */
export function resourceFieldValue(ctx: PlanContext, sel: ResourceFieldSelector, self?: Container): string | undefined {
  const all = [...(ctx.spec.containers ?? []), ...(ctx.spec.initContainers ?? [])];
  const c = sel.containerName ? all.find((x) => x.name === sel.containerName) : self;
  const m = /^(limits|requests)\.(.+)$/.exec(sel.resource);
  if (!c || !m) return undefined;
  const [, kind, res] = m;
  let v = kind === 'limits' ? c.resources?.limits?.[res] : c.resources?.requests?.[res] ?? c.resources?.limits?.[res];
  if (v === undefined && kind === 'limits') v = ctx.env.nodeAllocatable?.[res];
  const q = tryParseQuantity(v ?? 0);
  if (!q) return undefined;
  return divideForEnv(res, q, tryParseQuantity(sel.divisor ?? 1));
}

export interface ResolvedEnv {
  /** ordered NAME, value pairs as Docker gets them */
  list: Array<[string, string]>;
  map: Map<string, string>;
}

export function resolveEnv(ctx: PlanContext, c: Container, field: string, svcEnv: Map<string, string>): ResolvedEnv {
  const { namespace: ns } = ctx;
  const vars = new Map<string, string>();
  const fail = (f: string, message: string) => {
    // kubelet stops at the first failure; one message is what the user sees.
    if (!ctx.errors.some((e) => e.container === c.name && e.reason === 'CreateContainerConfigError')) {
      ctx.errors.push({ field: f, message, reason: 'CreateContainerConfigError', container: c.name });
    }
  };

  (c.envFrom ?? []).forEach((src, i) => {
    const f = `${field}.envFrom[${i}]`;
    const ref = src.configMapRef ?? src.secretRef;
    if (!ref) return;
    const isSecret = !src.configMapRef;
    const kind = isSecret ? 'secret' : 'configmap';
    const obj = isSecret ? ctx.env.secrets(ns, ref.name ?? '') : ctx.env.configMaps(ns, ref.name ?? '');
    if (!obj) {
      if (!ref.optional) fail(`${f}.${isSecret ? 'secretRef' : 'configMapRef'}`, `${kind} ${goQuote(ref.name ?? '')} not found`);
      return;
    }
    const data = dataOf(obj, 'data');
    const invalid: string[] = [];
    for (const key of Object.keys(data).sort()) {
      const name = (src.prefix ?? '') + key;
      if (!isEnvVarName(name)) { invalid.push(name); continue; }
      vars.set(name, isSecret ? decodeSecretValue(data[key]) : String(data[key]));
    }
    if (invalid.length) {
      ctx.warnings.push(`Keys [${invalid.join(', ')}] from the EnvFrom ${isSecret ? 'secret' : 'configMap'} ${ns}/${ref.name} were skipped since they are considered invalid environment variable names.`);
    }
  });

  const lookup = (name: string) => vars.get(name) ?? svcEnv.get(name);
  (c.env ?? []).forEach((ev, i) => {
    const f = `${field}.env[${i}]`;
    if (ev.value) { vars.set(ev.name, expand(ev.value, lookup)); return; }
    const from = ev.valueFrom;
    if (!from) { vars.set(ev.name, ''); return; }
    if (from.configMapKeyRef || from.secretKeyRef) {
      const isSecret = !from.configMapKeyRef;
      const ref = (from.configMapKeyRef ?? from.secretKeyRef)!;
      const rf = `${f}.valueFrom.${isSecret ? 'secretKeyRef' : 'configMapKeyRef'}`;
      const obj = isSecret ? ctx.env.secrets(ns, ref.name ?? '') : ctx.env.configMaps(ns, ref.name ?? '');
      if (!obj) {
        if (!ref.optional) fail(rf, `${isSecret ? 'secret' : 'configmap'} ${goQuote(ref.name ?? '')} not found`);
        return;
      }
      const data = dataOf(obj, 'data');
      if (!(ref.key in data)) {
        if (!ref.optional) fail(rf, `couldn't find key ${ref.key} in ${isSecret ? 'Secret' : 'ConfigMap'} ${ns}/${ref.name}`);
        return;
      }
      vars.set(ev.name, isSecret ? decodeSecretValue(data[ref.key]) : String(data[ref.key]));
      return;
    }
    if (from.fieldRef) {
      const v = podFieldValue(ctx, from.fieldRef);
      if (v === undefined) {
        ctx.errors.push({ field: `${f}.valueFrom.fieldRef.fieldPath`, message: `Unsupported value: ${goQuote(from.fieldRef.fieldPath)}`, reason: 'Invalid', container: c.name });
      } else vars.set(ev.name, v);
      return;
    }
    if (from.resourceFieldRef) {
      const v = resourceFieldValue(ctx, from.resourceFieldRef, c);
      if (v === undefined) {
        ctx.errors.push({ field: `${f}.valueFrom.resourceFieldRef`, message: `Unsupported value: ${goQuote(from.resourceFieldRef.resource)}`, reason: 'Invalid', container: c.name });
      } else vars.set(ev.name, v);
      return;
    }
    ctx.errors.push({ field: `${f}.valueFrom`, message: 'Forbidden: only configMapKeyRef, secretKeyRef, fieldRef and resourceFieldRef are supported', reason: 'Invalid', container: c.name });
  });

  const list: Array<[string, string]> = [...vars];
  for (const [k, v] of svcEnv) if (!vars.has(k)) list.push([k, v]);
  return { list, map: new Map(list) };
}
