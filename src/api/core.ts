// Strategies of the stored core kinds: Namespace, ConfigMap, Secret, ServiceAccount.
import type { StatusCause } from '../machinery/errors.ts';
import { forbidden } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { StrategyContext } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';
import { deepEqual } from '../machinery/util.ts';
import { log } from '../log.ts';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const UNDELETABLE = new Set(['default', 'kube-system', 'kube-public']);

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

function keyCauses(field: string, keys: string[]): StatusCause[] {
  const out: StatusCause[] = [];
  for (const k of keys) {
    if (!CONFIG_KEY.test(k) || k.length > 253 || k === '.' || k === '..') {
      out.push({ reason: 'FieldValueInvalid', field: `${field}[${k}]`, message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')` });
    }
  }
  return out;
}

function immutableCauses(obj: KObject, old: KObject | undefined): StatusCause[] {
  if (!old || old.immutable !== true) return [];
  const out: StatusCause[] = [];
  if (!deepEqual(obj.data, old.data)) out.push({ reason: 'FieldValueForbidden', field: 'data', message: 'Forbidden: field is immutable when `immutable` is set' });
  if (!deepEqual(obj.binaryData, old.binaryData)) out.push({ reason: 'FieldValueForbidden', field: 'binaryData', message: 'Forbidden: field is immutable when `immutable` is set' });
  if (obj.immutable !== true) out.push({ reason: 'FieldValueForbidden', field: 'immutable', message: 'Forbidden: field is immutable when `immutable` is set' });
  return out;
}

const isB64 = (s: unknown) => typeof s === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0;

export const configMaps = {
  validate(obj: KObject, old: KObject | undefined): StatusCause[] {
    const data = (obj.data ?? {}) as Record<string, unknown>;
    const bin = (obj.binaryData ?? {}) as Record<string, unknown>;
    const causes = [...keyCauses('data', Object.keys(data)), ...keyCauses('binaryData', Object.keys(bin))];
    for (const k of Object.keys(bin)) {
      if (k in data) causes.push({ reason: 'FieldValueInvalid', field: `data[${k}]`, message: `Invalid value: "${k}": duplicate of key present in binaryData` });
      if (!isB64(bin[k])) causes.push({ reason: 'FieldValueInvalid', field: `binaryData[${k}]`, message: 'Invalid value: illegal base64 data' });
    }
    return [...causes, ...immutableCauses(obj, old)];
  },
};

function foldStringData(obj: KObject): void {
  const sd = obj.stringData as Record<string, string> | undefined;
  if (sd && typeof sd === 'object') {
    const data = (obj.data ??= {}) as Record<string, string>;
    for (const [k, v] of Object.entries(sd)) data[k] = Buffer.from(String(v)).toString('base64');
  }
  delete obj.stringData;
}

const SECRET_REQUIRED: Record<string, string[]> = {
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

export const secrets = {
  prepareForCreate(obj: KObject): void {
    foldStringData(obj);
    obj.type ??= 'Opaque';
  },
  prepareForUpdate(obj: KObject, old: KObject): void {
    foldStringData(obj);
    obj.type ??= old.type ?? 'Opaque';
  },
  validate(obj: KObject, old: KObject | undefined): StatusCause[] {
    const data = (obj.data ?? {}) as Record<string, unknown>;
    const causes = keyCauses('data', Object.keys(data));
    for (const [k, v] of Object.entries(data)) {
      if (!isB64(v)) causes.push({ reason: 'FieldValueInvalid', field: `data[${k}]`, message: 'Invalid value: "<secret contents redacted>": illegal base64 data' });
    }
    const type = String(obj.type ?? 'Opaque');
    for (const key of SECRET_REQUIRED[type] ?? []) {
      if (!(key in data)) causes.push({ reason: 'FieldValueRequired', field: `data[${key}]`, message: 'Required value' });
    }
    if (type === 'kubernetes.io/service-account-token' && !obj.metadata.annotations?.['kubernetes.io/service-account.name']) {
      causes.push({ reason: 'FieldValueRequired', field: 'metadata.annotations[kubernetes.io/service-account.name]', message: 'Required value' });
    }
    if (old && old.type !== obj.type) causes.push({ reason: 'FieldValueInvalid', field: 'type', message: `Invalid value: "${obj.type}": field is immutable` });
    return [...causes, ...immutableCauses(obj, old)];
  },
};

function defaultServiceAccount(namespace: string): KObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } };
}

/**
 * What every namespace gets on a real cluster besides its default ServiceAccount: the
 * root-ca-cert-publisher's ConfigMap. Manifests exported from a cluster carry the projected
 * `kube-api-access-*` volume, which needs it; without it such pods never start.
 */
function rootCAConfigMap(namespace: string, caPem: string): KObject {
  return {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: {
      name: 'kube-root-ca.crt', namespace,
      annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' },
    },
    data: { 'ca.crt': caPem.replace(/\r\n/g, '\n') },
  } as KObject;
}

/** As the root-ca-cert-publisher: a deleted kube-root-ca.crt comes back while its namespace lives. */
export function publishRootCA(registry: Registry, caPem: string): void {
  registry.hub.add({
    resource: 'configmaps',
    onChange: (c) => {
      if (c.type !== 'DELETED' || c.object.metadata.name !== 'kube-root-ca.crt') return;
      const namespace = c.object.metadata.namespace!;
      const ns = registry.peek(registry.kind('namespaces'), undefined, namespace);
      if (!ns || ns.metadata.deletionTimestamp) return;
      setImmediate(() => { void namespaceDefaults(registry, namespace, caPem); });
    },
  });
}

/** The default ServiceAccount and the root CA ConfigMap of a namespace, where missing. */
async function namespaceDefaults(registry: Registry, namespace: string, caPem: string | undefined, now?: Date): Promise<void> {
  const sa = registry.kinds.get('serviceaccounts');
  if (sa && !registry.peek(sa, namespace, 'default')) {
    await registry.create(sa, namespace, defaultServiceAccount(namespace), { fieldManager: 'k2d', now }).catch(() => {});
  }
  const cm = registry.kinds.get('configmaps');
  if (cm && caPem && !registry.peek(cm, namespace, 'kube-root-ca.crt')) {
    await registry.create(cm, namespace, rootCAConfigMap(namespace, caPem), { fieldManager: 'kube-controller-manager', now }).catch(() => {});
  }
}

export function namespaces(registry: Registry, caPem?: string) {
  const nsKind = () => registry.kind('namespaces');
  return {
    prepareForCreate(obj: KObject): void {
      obj.spec = { finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
    },
    prepareForUpdate(obj: KObject, old: KObject): void {
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
      if (!obj.spec) obj.spec = old.spec;
    },
    async afterCreate(obj: KObject, ctx: StrategyContext): Promise<void> {
      await namespaceDefaults(registry, obj.metadata.name!, caPem, ctx.now);
    },
    beginDelete(obj: KObject, ctx: StrategyContext): KObject {
      const name = obj.metadata.name!;
      if (UNDELETABLE.has(name)) throw forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`);
      obj.status = { ...(obj.status as object ?? {}), phase: 'Terminating' };
      if (!ctx.dryRun) setImmediate(() => { void emptyNamespace(registry, name).catch((e) => log('namespace cleanup failed', { level: 'error', namespace: name, error: String(e) })); });
      return obj;
    },
    nsKind,
  };
}

/** Deletes everything in a terminating namespace, then the namespace itself. */
async function emptyNamespace(registry: Registry, namespace: string): Promise<void> {
  for (const kind of registry.namespacedKinds()) {
    for (const o of registry.all(kind, namespace)) {
      await registry.delete(kind, namespace, o.metadata.name!, { propagationPolicy: 'Background' }).catch(() => {});
    }
  }
  const nsKind = registry.kind('namespaces');
  const ns = registry.peek(nsKind, undefined, namespace);
  if (!ns) return;
  const left = registry.namespacedKinds().some((k) => registry.all(k, namespace).length > 0);
  if (left) {
    // Something is still finalizing (a foreign finalizer): look again a little later.
    setTimeout(() => { void emptyNamespace(registry, namespace); }, 1000);
    return;
  }
  if ((ns.metadata.finalizers ?? []).length) return; // someone else's finalizer: wait for its update
  await registry.purge(nsKind, undefined, namespace);
}

export async function ensureSystemObjects(registry: Registry, caPem?: string): Promise<void> {
  const ns = registry.kind('namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    if (!registry.peek(ns, undefined, name)) {
      await registry.create(ns, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: 'k2d' });
    }
  }
  // Namespaces made by an older build, or whose defaults were deleted while we were down.
  for (const n of registry.all(ns)) if (!n.metadata.deletionTimestamp) await namespaceDefaults(registry, n.metadata.name!, caPem);
}
