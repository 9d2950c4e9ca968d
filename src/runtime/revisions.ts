// ControllerRevisions of StatefulSets and DaemonSets (pkg/controller/history, and the DaemonSet
// controller's constructHistory/cleanupHistory). Each distinct pod template is stored once, as
// the strategic-merge patch that puts it back ({"spec":{"template":{..., "$patch":"replace"}}}),
// so `kubectl rollout history` prints it and `kubectl rollout undo` patches the set with it.
// Also the small keyed work loop both controllers run on.
import { ApiError } from '../machinery/errors.ts';
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject, OwnerReference } from '../machinery/types.ts';
import { clone, controllerOf } from '../machinery/util.ts';

type Obj = Record<string, any>;

/** history.ControllerRevisionHashLabel (StatefulSet revisions). */
export const HASH_LABEL = 'controller.kubernetes.io/hash';
/** apps.ControllerRevisionHashLabelKey: on every set pod; DaemonSet revisions carry it too. */
export const REVISION_LABEL = 'controller-revision-hash';
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_PREFIX = 223;

/** JSON with object keys sorted: what Go writes when it marshals a map, as upstream's getPatch does. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const keys = Object.keys(v).filter((k) => (v as Obj)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Obj)[k])}`).join(',')}}`;
}

/** The revision's data for a set: a patch replacing spec.template. */
export function revisionData(set: KObject): Obj {
  const template = clone(((set.spec as Obj | undefined)?.template ?? {}) as Obj);
  return { spec: { template: { ...template, $patch: 'replace' } } };
}

/** The pod template a revision holds. */
export function revisionTemplate(rev: KObject): Obj {
  const t = clone(((rev as Obj).data?.spec?.template ?? {}) as Obj);
  delete t.$patch;
  return t;
}

/** FNV-1, 32 bits (hash/fnv New32, as HashControllerRevision uses). */
export function fnv32(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = (Math.imul(h, 0x01000193) ^ b) >>> 0;
  return h >>> 0;
}

export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** HashControllerRevision: the data bytes, then the collision count as decimal text. */
export function hashRevision(data: Obj, collisionCount?: number): string {
  const enc = new TextEncoder();
  let h = fnv32(enc.encode(canonicalJson(data)));
  if (collisionCount != null) h = fnv32(enc.encode(String(collisionCount)), h);
  return safeEncode(String(h));
}

export function revisionName(parent: string, hash: string): string {
  return `${parent.slice(0, MAX_PREFIX)}-${hash}`;
}

export function equalRevision(a: KObject, b: KObject): boolean {
  return canonicalJson((a as Obj).data ?? null) === canonicalJson((b as Obj).data ?? null);
}

export function revisionNumber(r: KObject): number {
  return Number((r as Obj).revision ?? 0);
}

/** history.SortControllerRevisions: by revision, then creation time, then name. */
export function sortRevisions(revs: KObject[]): KObject[] {
  return [...revs].sort((a, b) => {
    const d = revisionNumber(a) - revisionNumber(b);
    if (d) return d;
    const ta = a.metadata.creationTimestamp ?? '', tb = b.metadata.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  });
}

export function nextRevision(revs: KObject[]): number {
  return revs.reduce((m, r) => Math.max(m, revisionNumber(r)), 0) + 1;
}

export function controllerRef(set: KObject, kind: string): OwnerReference {
  return { apiVersion: 'apps/v1', kind, name: set.metadata.name!, uid: set.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * How each kind names and labels its revisions: a StatefulSet hashes the revision data and
 * labels it controller.kubernetes.io/hash; a DaemonSet hashes its template and labels it
 * controller-revision-hash (the value its pods carry).
 */
export interface RevisionStyle {
  kind: 'StatefulSet' | 'DaemonSet';
  hash(set: KObject, data: Obj, collisionCount: number): string;
  hashLabel: string;
}

/** The unsaved revision for a set's current template. */
export function newRevision(set: KObject, style: RevisionStyle, revision: number, collisionCount: number): KObject {
  const data = revisionData(set);
  const hash = style.hash(set, data, collisionCount);
  const labels = { ...(((set.spec as Obj | undefined)?.template?.metadata?.labels ?? {}) as Record<string, string>), [style.hashLabel]: hash };
  const meta: KObject['metadata'] = {
    name: revisionName(set.metadata.name!, hash), namespace: set.metadata.namespace, labels,
    ownerReferences: [controllerRef(set, style.kind)],
  };
  const ann = set.metadata.annotations;
  if (ann && Object.keys(ann).length) meta.annotations = { ...ann };
  delete meta.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
  if (meta.annotations && !Object.keys(meta.annotations).length) delete meta.annotations;
  return { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: meta, data, revision } as KObject;
}

/**
 * Revisions that should be deleted to keep `limit` historic ones: the oldest of those no pod,
 * current or update revision uses.
 */
export function revisionsToTruncate(revs: KObject[], live: Set<string>, limit: number): KObject[] {
  const history = sortRevisions(revs).filter((r) => !live.has(r.metadata.name!));
  return history.length <= limit ? [] : history.slice(0, history.length - limit);
}

export interface HistoryResult {
  /** every revision the set owns, sorted, including the update revision */
  revisions: KObject[];
  /** the revision of the set's current template */
  update: KObject;
  collisionCount: number;
}

/** Reads and writes a set's revisions in the registry. */
export class RevisionHistory {
  readonly kind: KindInfo;
  constructor(private registry: Registry) {
    this.kind = registry.kind('controllerrevisions.apps');
  }

  owned(set: KObject): KObject[] {
    const uid = set.metadata.uid;
    return sortRevisions(this.registry.all(this.kind, set.metadata.namespace).filter((r) => controllerOf(r)?.uid === uid));
  }

  /**
   * Finds or stores the revision of the set's template (getStatefulSetRevisions /
   * constructHistory): an equal older revision is renumbered to the newest (a rollback), a name
   * clash with different data bumps collisionCount.
   */
  async sync(set: KObject, style: RevisionStyle): Promise<HistoryResult> {
    let revisions = this.owned(set);
    let collisionCount = Number((set.status as Obj | undefined)?.collisionCount ?? 0);
    const next = nextRevision(revisions);
    const candidate = newRevision(set, style, next, collisionCount);
    const equal = revisions.filter((r) => equalRevision(r, candidate));
    let update: KObject;
    if (equal.length) {
      update = equal[equal.length - 1];
      const newest = revisions[revisions.length - 1];
      if (update !== newest && revisionNumber(update) < revisionNumber(newest)) {
        const bumped = clone(update) as Obj;
        bumped.revision = next;
        update = (await this.registry.update(this.kind, set.metadata.namespace, update.metadata.name!, bumped as KObject, { skipRvCheck: true })).object;
      }
    } else {
      for (;;) {
        const rev = newRevision(set, style, next, collisionCount);
        try {
          update = await this.registry.create(this.kind, set.metadata.namespace, rev);
          break;
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 409)) throw err;
          const existing = this.registry.peek(this.kind, set.metadata.namespace, rev.metadata.name!);
          if (existing && equalRevision(existing, rev) && controllerOf(existing)?.uid === set.metadata.uid) { update = existing; break; }
          collisionCount++;
        }
      }
    }
    revisions = this.owned(set);
    return { revisions, update: revisions.find((r) => r.metadata.name === update.metadata.name) ?? update, collisionCount };
  }

  async truncate(set: KObject, revs: KObject[], live: Set<string>): Promise<void> {
    const limit = Number((set.spec as Obj | undefined)?.revisionHistoryLimit ?? 10);
    for (const r of revisionsToTruncate(revs, live, limit)) {
      await this.registry.delete(this.kind, r.metadata.namespace, r.metadata.name!, {}).catch((err) => {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      });
    }
  }
}
