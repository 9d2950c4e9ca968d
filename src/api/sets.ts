// apps/v1 StatefulSets and DaemonSets (and their ControllerRevisions): strategies and controllers. (Being written.)
import type { Registry } from '../machinery/registry.ts';

/** Serves StatefulSets and DaemonSets and starts their controllers; undefined when not selected. */
export function setupSets(registry: Registry): { stop(): void } | undefined {
  if (!registry.kinds.has('statefulsets.apps')) return undefined;
  return undefined;
}
