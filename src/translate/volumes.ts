// Pod volumes as Docker volumes and binds.
//
// Every volume a pod owns (emptyDir, configMap, secret, downwardAPI, projected) is one named Docker
// volume, created implicitly by the sandbox's mount of it (VolumeOptions carry its labels and,
// for memory-backed ones, the tmpfs driver options). The sandbox keeps all of them mounted at
// SANDBOX_VOLUME_ROOT/<name> for the pod's life, which does three jobs: tmpfs volumes stay mounted
// while app containers restart (emptyDir survives a container restart, as on Kubernetes); the
// caller writes configMap/secret/downwardAPI files through the sandbox with the archive API,
// rewriting them whenever the source object changes, so running pods see ConfigMap updates; and
// no host path is ever read by the translator. Secrets and projected volumes are tmpfs, so
// secret data never reaches the disk, as on Kubernetes.

import { goQuote } from '../machinery/selectors.ts';
import { podFieldValue, resourceFieldValue } from './env.ts';
import { expand } from './expand.ts';
import type { Container, DownwardAPIVolumeFile, KeyToPath, Volume } from './k8s.ts';
import { LABELS } from './names.ts';
import { quantityValue, tryParseQuantity } from './quantity.ts';
import { SANDBOX_VOLUME_ROOT, type DockerMount, type FileSpec, type PlanContext } from './types.ts';

export interface VolumePlan {
  name: string;
  field: string;
  kind: 'emptyDir' | 'configMap' | 'secret' | 'downwardAPI' | 'projected' | 'persistentVolumeClaim' | 'hostPath';
  /** the Docker volume; absent for hostPath and for a claim that is not bound */
  source?: string;
  hostPath?: string;
  /** mounted read-only whatever the volumeMount says */
  readOnly: boolean;
  /** created for the pod and removed with it */
  owned: boolean;
  tmpfs?: Record<string, string>;
}

const SUPPORTED = ['emptyDir', 'hostPath', 'configMap', 'secret', 'downwardAPI', 'projected', 'persistentVolumeClaim'];
const HOSTPATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
const DEFAULT_MODE = 0o644;

export function planVolumes(ctx: PlanContext): Map<string, VolumePlan> {
  const out = new Map<string, VolumePlan>();
  (ctx.spec.volumes ?? []).forEach((v, i) => {
    const field = `spec.volumes[${i}]`;
    const kinds = Object.keys(v).filter((k) => k !== 'name' && v[k] != null);
    const kind = kinds[0] as VolumePlan['kind'] | undefined;
    if (!kind || !SUPPORTED.includes(kind)) {
      ctx.errors.push({ field: `${field}${kind ? '.' + kind : ''}`, message: `Forbidden: ${kind ?? 'this'} volumes are not supported on this node; supported: ${SUPPORTED.join(', ')}`, reason: 'Invalid' });
      return;
    }
    const owned = kind !== 'hostPath' && kind !== 'persistentVolumeClaim';
    const plan: VolumePlan = { name: v.name, field, kind, readOnly: false, owned };
    if (owned) plan.source = ctx.env.volumeDir(ctx.uid, v.name);
    switch (kind) {
      case 'emptyDir': {
        if (v.emptyDir?.medium === 'Memory') plan.tmpfs = tmpfsOptions(memoryVolumeSize(ctx, v));
        else if (v.emptyDir?.medium && v.emptyDir.medium !== '') {
          ctx.errors.push({ field: `${field}.emptyDir.medium`, message: `Unsupported value: ${goQuote(v.emptyDir.medium)}: supported values: "", "Memory"`, reason: 'Invalid' });
        } else if (v.emptyDir?.sizeLimit !== undefined) {
          ctx.warnings.push(`volume ${goQuote(v.name)}: emptyDir sizeLimit is not enforced for disk-backed volumes on this node`);
        }
        break;
      }
      case 'secret':
      case 'projected':
        plan.tmpfs = tmpfsOptions(undefined);
        plan.readOnly = true;
        break;
      case 'configMap':
      case 'downwardAPI':
        plan.readOnly = true;
        break;
      case 'persistentVolumeClaim': {
        const claim = v.persistentVolumeClaim!;
        plan.readOnly = claim.readOnly === true;
        plan.source = ctx.env.pvcVolume(ctx.namespace, claim.claimName);
        if (!plan.source) {
          ctx.errors.push({ field: `${field}.persistentVolumeClaim.claimName`, message: `persistentvolumeclaim ${goQuote(claim.claimName)} not found`, reason: 'FailedMount' });
        }
        break;
      }
      case 'hostPath': {
        const hp = v.hostPath!;
        plan.hostPath = hp.path;
        if (!HOSTPATH_TYPES.includes(hp.type ?? '')) {
          ctx.errors.push({ field: `${field}.hostPath.type`, message: `Unsupported value: ${goQuote(hp.type!)}: supported values: ${HOSTPATH_TYPES.map(goQuote).join(', ')}`, reason: 'Invalid' });
        }
        if (/[:,]/.test(hp.path)) {
          ctx.errors.push({ field: `${field}.hostPath.path`, message: "Forbidden: a host path containing ':' or ',' cannot be bound by this node", reason: 'Invalid' });
        }
        break;
      }
    }
    out.set(v.name, plan);
  });
  return out;
}

function tmpfsOptions(size: number | undefined): Record<string, string> {
  const o: Record<string, string> = { type: 'tmpfs', device: 'tmpfs' };
  if (size) o.o = `size=${size}`;
  return o;
}

/**
 * A memory-backed emptyDir is as large as the smallest of node allocatable memory, the pod's
 * memory limit (when every container has one) and the volume's sizeLimit, as kubelet sizes it.
 */
function memoryVolumeSize(ctx: PlanContext, v: Volume): number | undefined {
  const sizes: number[] = [];
  const add = (x: unknown) => {
    const q = tryParseQuantity(x as string | number | undefined);
    if (q && q.num > 0n) sizes.push(quantityValue(q));
  };
  add(ctx.env.nodeAllocatable?.memory);
  add(v.emptyDir?.sizeLimit);
  const limit = podMemoryLimit(ctx);
  if (limit) sizes.push(limit);
  return sizes.length ? Math.min(...sizes) : undefined;
}

function memLimit(c: Container): number | undefined {
  const q = tryParseQuantity(c.resources?.limits?.memory);
  return q && q.num > 0n ? quantityValue(q) : undefined;
}

/** The pod's memory limit: app and sidecar limits added up, or the largest init limit. */
function podMemoryLimit(ctx: PlanContext): number | undefined {
  const init = ctx.spec.initContainers ?? [];
  const running = [...(ctx.spec.containers ?? []), ...init.filter((c) => c.restartPolicy === 'Always')];
  const limits = running.map(memLimit);
  if (limits.some((l) => l === undefined)) return undefined;
  let total = limits.reduce<number>((a, b) => a + b!, 0);
  for (const c of init) {
    if (c.restartPolicy === 'Always') continue;
    const l = memLimit(c);
    if (l === undefined) return undefined;
    total = Math.max(total, l);
  }
  return total || undefined;
}

/** Labels and driver options for the sandbox's mount of every Docker-volume-backed pod volume. */
export function sandboxMounts(ctx: PlanContext, vols: Map<string, VolumePlan>): DockerMount[] {
  const out: DockerMount[] = [];
  for (const v of vols.values()) {
    if (!v.source) continue;
    const m: DockerMount = { Type: 'volume', Source: v.source, Target: `${SANDBOX_VOLUME_ROOT}/${v.name}`, VolumeOptions: { NoCopy: true } };
    if (v.owned) {
      m.VolumeOptions!.Labels = {
        [LABELS.podName]: ctx.name, [LABELS.podNamespace]: ctx.namespace, [LABELS.podUid]: ctx.uid,
        [LABELS.instance]: ctx.env.instance, [LABELS.volume]: v.name,
      };
    }
    if (v.tmpfs) m.VolumeOptions!.DriverConfig = { Name: 'local', Options: v.tmpfs };
    out.push(m);
  }
  return out;
}

function subpathSupported(apiVersion: string | undefined): boolean {
  if (!apiVersion) return true;
  const [major, minor] = apiVersion.split('.').map(Number);
  return major > 1 || (major === 1 && minor >= 45);
}

/** kubelet's subPath checks, with its wording. */
function subPathError(sub: string): string | undefined {
  if (sub.startsWith('/')) return `error SubPath \`${sub}\` must not be an absolute path`;
  if (sub.split('/').includes('..')) return `unable to provision SubPath \`${sub}\`: must not contain '..'`;
  return undefined;
}

export interface ContainerMounts { Mounts: DockerMount[]; Binds: string[]; dirs: FileSpec[] }

export function containerMounts(
  ctx: PlanContext, c: Container, field: string, envMap: Map<string, string>,
  vols: Map<string, VolumePlan>, files: FileSpec[],
): ContainerMounts {
  const out: ContainerMounts = { Mounts: [], Binds: [], dirs: [] };
  const declared = new Set((ctx.spec.volumes ?? []).map((v) => v.name));
  (c.volumeMounts ?? []).forEach((vm, j) => {
    const f = `${field}.volumeMounts[${j}]`;
    const vol = vols.get(vm.name);
    if (!vol) {
      if (!declared.has(vm.name)) ctx.errors.push({ field: `${f}.name`, message: `Not found: ${goQuote(vm.name)}`, reason: 'Invalid', container: c.name });
      return;
    }
    let sub = vm.subPath ?? '';
    if (vm.subPathExpr) {
      const missing = new Set<string>();
      sub = expand(vm.subPathExpr, (k) => {
        const v = envMap.get(k);
        if (!v) missing.add(k);
        return v ?? '';
      });
      if (missing.size) {
        ctx.errors.push({ field: `${f}.subPathExpr`, message: `missing value for ${[...missing].sort().join(', ')}`, reason: 'CreateContainerConfigError', container: c.name });
        return;
      }
    }
    sub = sub.replace(/\/+$/, '');
    const bad = sub ? subPathError(sub) : undefined;
    if (bad) {
      ctx.errors.push({ field: `${f}.${vm.subPathExpr ? 'subPathExpr' : 'subPath'}`, message: bad, reason: 'CreateContainerConfigError', container: c.name });
      return;
    }
    const readOnly = vm.readOnly === true || vol.readOnly;
    if (vol.hostPath !== undefined) {
      const opts = [readOnly ? 'ro' : 'rw'];
      if (vm.mountPropagation === 'HostToContainer') opts.push('rslave');
      if (vm.mountPropagation === 'Bidirectional') opts.push('rshared');
      const src = sub ? `${vol.hostPath.replace(/\/+$/, '')}/${sub}` : vol.hostPath;
      out.Binds.push(`${src}:${vm.mountPath}:${opts.join(',')}`);
      return;
    }
    if (!vol.source) return;
    if (sub && (vol.kind === 'emptyDir' || vol.kind === 'persistentVolumeClaim')
      && !files.some((x) => x.volume === vol.name && (x.path === sub || x.path.startsWith(sub + '/')))) {
      const fsGroup = ctx.spec.securityContext?.fsGroup;
      const dir: FileSpec = { volume: vol.name, path: sub, content: Buffer.alloc(0), mode: vol.kind === 'emptyDir' ? 0o777 : 0o755, dir: true, ifMissing: true };
      if (fsGroup !== undefined && vol.kind === 'emptyDir') dir.gid = fsGroup;
      out.dirs.push(dir);
    }
    let m: DockerMount;
    if (!sub) {
      m = { Type: 'volume', Source: vol.source, Target: vm.mountPath, VolumeOptions: { NoCopy: true } };
    } else if (subpathSupported(ctx.env.apiVersion)) {
      m = { Type: 'volume', Source: vol.source, Target: vm.mountPath, VolumeOptions: { NoCopy: true, Subpath: sub } };
    } else if (ctx.env.volumeRoot) {
      // Engines before API 1.45 cannot mount part of a volume; its directory on the engine's
      // host can be bound instead (the sandbox keeps tmpfs volumes mounted there).
      m = { Type: 'bind', Source: `${ctx.env.volumeRoot.replace(/\/+$/, '')}/${vol.source}/_data/${sub}`, Target: vm.mountPath };
    } else {
      ctx.errors.push({ field: `${f}.subPath`, message: 'Forbidden: this engine cannot mount a volume subPath (needs API 1.45, or the volume root to bind from)', reason: 'Invalid', container: c.name });
      return;
    }
    if (readOnly) m.ReadOnly = true;
    out.Mounts.push(m);
  });
  return out;
}

/** The content of every pod-owned volume (see FileSpec). */
export function podFiles(ctx: PlanContext, vols: Map<string, VolumePlan>): FileSpec[] {
  const files: FileSpec[] = [];
  const fsGroup = ctx.spec.securityContext?.fsGroup;
  const push = (volume: string, path: string, content: Buffer, mode: number) => {
    const f: FileSpec = { volume, path, content, mode: fsGroup !== undefined ? mode | 0o440 : mode };
    if (fsGroup !== undefined) f.gid = fsGroup;
    files.push(f);
  };
  (ctx.spec.volumes ?? []).forEach((v) => {
    const plan = vols.get(v.name);
    if (!plan?.source) return;
    switch (plan.kind) {
      case 'emptyDir': {
        // Kubernetes makes emptyDir world-writable (setgid with an fsGroup); a fresh Docker volume is 0755.
        const f: FileSpec = { volume: v.name, path: '', content: Buffer.alloc(0), mode: fsGroup !== undefined ? 0o2777 : 0o777, dir: true };
        if (fsGroup !== undefined) f.gid = fsGroup;
        files.push(f);
        break;
      }
      case 'configMap': {
        const src = v.configMap!;
        const mode = src.defaultMode ?? DEFAULT_MODE;
        for (const [path, content, m] of keyFiles(ctx, plan.field + '.configMap', false, src.name ?? '', src.items, src.optional, mode)) push(v.name, path, content, m);
        break;
      }
      case 'secret': {
        const src = v.secret!;
        const mode = src.defaultMode ?? DEFAULT_MODE;
        for (const [path, content, m] of keyFiles(ctx, plan.field + '.secret', true, src.secretName ?? '', src.items, src.optional, mode)) push(v.name, path, content, m);
        break;
      }
      case 'downwardAPI': {
        const mode = v.downwardAPI!.defaultMode ?? DEFAULT_MODE;
        for (const [path, content, m] of downwardFiles(ctx, plan.field + '.downwardAPI', v.downwardAPI!.items, mode)) push(v.name, path, content, m);
        break;
      }
      case 'projected': {
        const mode = v.projected!.defaultMode ?? DEFAULT_MODE;
        (v.projected!.sources ?? []).forEach((s, k) => {
          const sf = `${plan.field}.projected.sources[${k}]`;
          let got: Array<[string, Buffer, number]> = [];
          if (s.configMap) got = keyFiles(ctx, sf + '.configMap', false, s.configMap.name ?? '', s.configMap.items, s.configMap.optional, mode);
          else if (s.secret) got = keyFiles(ctx, sf + '.secret', true, s.secret.name ?? '', s.secret.items, s.secret.optional, mode);
          else if (s.downwardAPI) got = downwardFiles(ctx, sf + '.downwardAPI', s.downwardAPI.items, mode);
          else if (s.serviceAccountToken) {
            const t = s.serviceAccountToken;
            const sa = ctx.spec.serviceAccountName || ctx.spec.serviceAccount || 'default';
            const token = ctx.env.serviceAccountToken?.(ctx.namespace, sa, t.audience ?? '', t.expirationSeconds ?? 3600);
            if (token === undefined) ctx.warnings.push(`volume ${goQuote(v.name)}: no service account token can be issued on this node; ${t.path} is left out`);
            else got = [[t.path, Buffer.from(token), mode]];
          } else {
            const kind = Object.keys(s).find((key) => s[key] != null) ?? 'unknown';
            ctx.warnings.push(`volume ${goQuote(v.name)}: projected ${kind} sources are not supported on this node and are left out`);
          }
          for (const [path, content, m] of got) push(v.name, path, content, m);
        });
        break;
      }
    }
  });
  return files;
}

function keyFiles(
  ctx: PlanContext, field: string, isSecret: boolean, name: string, items: KeyToPath[] | undefined,
  optional: boolean | undefined, mode: number,
): Array<[string, Buffer, number]> {
  const obj = isSecret ? ctx.env.secrets(ctx.namespace, name) : ctx.env.configMaps(ctx.namespace, name);
  if (!obj) {
    if (!optional) ctx.errors.push({ field, message: `${isSecret ? 'secret' : 'configmap'} ${goQuote(name)} not found`, reason: 'FailedMount' });
    return [];
  }
  const values = new Map<string, Buffer>();
  const data = (obj.data ?? {}) as Record<string, string>;
  // Secret data may be binary: decoded straight to bytes, never through a string.
  for (const [k, v] of Object.entries(data)) values.set(k, isSecret ? Buffer.from(v, 'base64') : Buffer.from(String(v)));
  if (!isSecret) {
    for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) values.set(k, Buffer.from(v, 'base64'));
  }
  if (!items?.length) return [...values.keys()].sort().map((k) => [k, values.get(k)!, mode]);
  const out: Array<[string, Buffer, number]> = [];
  for (const it of items) {
    const content = values.get(it.key);
    if (!content) {
      if (!optional) {
        ctx.errors.push({ field, message: isSecret ? `references non-existent secret key: ${it.key}` : `configmap references non-existent config key: ${it.key}`, reason: 'FailedMount' });
      }
      continue;
    }
    out.push([it.path, content, it.mode ?? mode]);
  }
  return out;
}

function downwardFiles(ctx: PlanContext, field: string, items: DownwardAPIVolumeFile[] | undefined, mode: number): Array<[string, Buffer, number]> {
  const out: Array<[string, Buffer, number]> = [];
  (items ?? []).forEach((it, i) => {
    let value: string | undefined;
    if (it.fieldRef) value = /^(status|spec)\./.test(it.fieldRef.fieldPath) ? undefined : podFieldValue(ctx, it.fieldRef);
    else if (it.resourceFieldRef) value = it.resourceFieldRef.containerName ? resourceFieldValue(ctx, it.resourceFieldRef) : undefined;
    if (value === undefined) {
      const what = it.fieldRef ? `fieldRef.fieldPath` : 'resourceFieldRef';
      ctx.errors.push({ field: `${field}.items[${i}].${what}`, message: `Unsupported value: ${goQuote(it.fieldRef?.fieldPath ?? it.resourceFieldRef?.resource ?? '')}`, reason: 'Invalid' });
      return;
    }
    out.push([it.path, Buffer.from(value), it.mode ?? mode]);
  });
  return out;
}
