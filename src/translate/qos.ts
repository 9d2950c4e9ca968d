// The pod's QoS class, computed as pkg/apis/core/v1/helper/qos GetPodQOS does: only cpu and
// memory count, zero quantities count as unset, and init containers take part.

import type { KObject } from '../machinery/types.ts';
import type { Container, PodSpec, ResourceList } from './k8s.ts';
import { addQuantity, compareQuantity, isPositive, tryParseQuantity, type Quantity } from './quantity.ts';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const COMPUTE = ['cpu', 'memory'];

/** Requests as the apiserver defaults them: a limit with no request is also the request. */
export function effectiveRequests(c: Container): ResourceList {
  return { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
}

export function qosClass(pod: KObject): QOSClass {
  const spec = (pod.spec ?? {}) as PodSpec;
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const [name, v] of Object.entries(effectiveRequests(c))) {
      const q = COMPUTE.includes(name) ? tryParseQuantity(v) : undefined;
      if (q && isPositive(q)) requests.set(name, requests.has(name) ? addQuantity(requests.get(name)!, q) : q);
    }
    const found = new Set<string>();
    for (const [name, v] of Object.entries(c.resources?.limits ?? {})) {
      const q = COMPUTE.includes(name) ? tryParseQuantity(v) : undefined;
      if (!q || !isPositive(q)) continue;
      found.add(name);
      limits.set(name, limits.has(name) ? addQuantity(limits.get(name)!, q) : q);
    }
    if (!COMPUTE.every((n) => found.has(n))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || compareQuantity(lim, req) !== 0) { guaranteed = false; break; }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
