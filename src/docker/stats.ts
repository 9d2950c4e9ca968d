// One stats reading of a container: `one-shot` (API 1.41) answers at once with the cumulative
// counters instead of waiting a second to fill in the previous sample; rates are the caller's.
import type { DockerStats } from '../translate/metrics.ts';
import type { Engine } from './engine.ts';
import { dial, isNotFound } from './http.ts';

/** undefined when the container is gone. */
export async function statsOnce(engine: Engine, containerId: string): Promise<DockerStats | undefined> {
  try {
    return await dial<DockerStats>(engine, {
      method: 'GET', path: `/containers/${encodeURIComponent(containerId)}/stats`, query: { stream: false, 'one-shot': true },
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
