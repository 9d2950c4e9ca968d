// Events the controllers record, aggregated by object, reason and message as client-go's
// recorder does (a repeat bumps count and lastTimestamp instead of adding an Event).
import type { Registry } from '../machinery/registry.ts';
import type { KObject } from '../machinery/types.ts';
import { rfc3339 } from '../machinery/util.ts';

type Obj = Record<string, any>;

export interface EventSource {
  /** e.g. kubelet, endpoint-controller, job-controller */
  component: string;
  host?: string;
}

/** Records an Event about obj; never throws (an Event is never worth failing the caller). */
export function recordEvent(
  registry: Registry, obj: KObject, type: 'Normal' | 'Warning', reason: string, message: string,
  source: EventSource, extra: { apiVersion?: string; kind?: string; fieldPath?: string } = {},
): void {
  const kind = registry.kinds.get('events');
  if (!kind) return;
  const ns = obj.metadata.namespace ?? 'default';
  const now = rfc3339();
  const same = registry.all(kind, ns).find((e) => (e.involvedObject as Obj)?.uid === obj.metadata.uid && e.reason === reason && e.message === message);
  const involved: Obj = {
    apiVersion: extra.apiVersion ?? obj.apiVersion ?? 'v1', kind: extra.kind ?? obj.kind, name: obj.metadata.name,
    ...(obj.metadata.namespace ? { namespace: ns } : {}), uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion,
  };
  if (extra.fieldPath) involved.fieldPath = extra.fieldPath;
  const write = same
    ? registry.update(kind, ns, same.metadata.name!, { ...same, count: Number(same.count ?? 1) + 1, lastTimestamp: now }, { skipRvCheck: true })
    : registry.create(kind, ns, {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 4096).toString(16)}`, namespace: ns },
      involvedObject: involved, reason, message, type, count: 1, firstTimestamp: now, lastTimestamp: now,
      source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
      reportingComponent: source.component, reportingInstance: source.host ?? '',
    } as KObject);
  void Promise.resolve(write).catch(() => {});
}
