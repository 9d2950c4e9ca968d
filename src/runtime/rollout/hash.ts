// pod-template-hash: the name suffix and label that tie a ReplicaSet (and its pods) to one
// Deployment template. Upstream hashes Go's spew dump of the struct, which cannot be reproduced
// here, so the value differs from a real cluster's; what matters is that it is stable and uses
// the same alphabet and length, so names look and sort like Kubernetes' own.
import type { KObject } from '../../machinery/types.ts';
import { deepEqual } from '../../machinery/util.ts';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

type Obj = Record<string, unknown>;

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const keys = Object.keys(v).filter((k) => (v as Obj)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Obj)[k])}`).join(',')}}`;
}

/** FNV-1a, 32 bits (hash/fnv New32a). */
export function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** rand.SafeEncodeString: each character maps into an alphabet without vowels or look-alikes. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/**
 * Stable hash of a pod template (the template as the Deployment holds it, without the
 * pod-template-hash label). collisionCount, as upstream, perturbs the hash after a name clash.
 */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonical(withoutHash(template))));
  if (collisionCount != null) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncode(String(h));
}

export function replicaSetName(deployment: KObject | string, hash: string): string {
  const name = typeof deployment === 'string' ? deployment : deployment.metadata.name ?? '';
  return `${name}-${hash}`;
}

export function withHashLabel(labels: Record<string, string> | undefined, hash: string): Record<string, string> {
  return { ...(labels ?? {}), [POD_TEMPLATE_HASH]: hash };
}

export interface LabelSelectorLike { matchLabels?: Record<string, string>; matchExpressions?: unknown[] }

/** CloneSelectorAndAddLabel: the ReplicaSet's selector is the Deployment's plus the hash. */
export function selectorWithHash(sel: LabelSelectorLike | undefined, hash: string): LabelSelectorLike {
  const out: LabelSelectorLike = { matchLabels: withHashLabel(sel?.matchLabels, hash) };
  if (sel?.matchExpressions?.length) out.matchExpressions = structuredClone(sel.matchExpressions);
  return out;
}

function withoutHash(template: unknown): unknown {
  const t = template as { metadata?: { labels?: Record<string, string> } } | undefined;
  if (!t?.metadata?.labels || !(POD_TEMPLATE_HASH in t.metadata.labels)) return template;
  const labels = { ...t.metadata.labels };
  delete labels[POD_TEMPLATE_HASH];
  return { ...t, metadata: { ...t.metadata, labels } };
}

/** EqualIgnoreHash: how upstream finds the ReplicaSet that already runs a Deployment's template. */
export function templatesEqualIgnoringHash(a: unknown, b: unknown): boolean {
  const norm = (t: unknown) => {
    const x = withoutHash(t) as { metadata?: { labels?: Record<string, string> } } | undefined;
    if (x?.metadata?.labels && Object.keys(x.metadata.labels).length === 0) {
      return { ...x, metadata: { ...x.metadata, labels: undefined } };
    }
    return x;
  };
  return deepEqual(norm(a), norm(b));
}
