// batch/v1 Jobs and CronJobs: strategies and controllers. (Being written.)
import type { Registry } from '../machinery/registry.ts';

/** Serves Jobs and CronJobs and starts their controllers; undefined when not selected. */
export function setupBatch(registry: Registry): { stop(): void } | undefined {
  if (!registry.kinds.has('jobs.batch')) return undefined;
  return undefined;
}
