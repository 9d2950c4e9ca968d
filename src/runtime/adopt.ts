// Containers started by hand (`docker run`, compose, ...) show up as Pods: in `default`, or in
// the namespace their labels name. Their status follows the engine; logs, exec and delete work
// on them; nothing else is ever done to a container we did not make.
import type { Registry } from '../machinery/registry.ts';
import type { KindInfo, KObject } from '../machinery/types.ts';
import { deepEqual } from '../machinery/util.ts';
import { log } from '../log.ts';
import { isLabelKey, isLabelValue } from '../machinery/selectors.ts';
import { LABELS, podStatus, type DockerInspect } from '../translate/index.ts';

/** On an adopted Pod: the id of the container it stands for. */
export const ADOPTED = 'k2d.io/adopted-container';
/** A hand-made container may name its namespace with this label (or dockershim's). */
export const NAMESPACE_LABEL = 'k2d.io/namespace';

export interface AdoptEngine {
  /** Containers without any k2d.io/instance label: ones we did not make. */
  foreignContainers(): Promise<DockerInspect[]>;
  inspect(id: string): Promise<DockerInspect | undefined>;
  hostIP: string;
}

type Obj = Record<string, any>;

/** A DNS-1123 label made from a Docker container name. */
export function podNameFor(containerName: string): string {
  const n = containerName.replace(/^\//, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return n || 'container';
}

export class Adopter {
  private kind: KindInfo;
  private busy: Promise<void> = Promise.resolve();

  constructor(private registry: Registry, private engine: AdoptEngine) {
    this.kind = registry.kind('pods');
  }

  /** Adopts what runs now and drops adopted pods whose container is gone. */
  async start(): Promise<void> {
    await this.serial(async () => {
      const live = await this.engine.foreignContainers();
      const ids = new Set(live.map((c) => c.Id));
      for (const pod of this.adopted()) {
        if (!ids.has(pod.metadata.annotations![ADOPTED])) await this.registry.purge(this.kind, pod.metadata.namespace, pod.metadata.name!);
      }
      for (const c of live) await this.upsert(c);
    });
  }

  onEngineEvent(ev: { Type?: string; Action?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } }): void {
    if (ev.Type !== 'container') return;
    const attrs = ev.Actor?.Attributes ?? {};
    if (attrs[LABELS.instance] !== undefined) return;
    const id = ev.Actor?.ID ?? ev.id;
    if (!id || !ev.Action || ev.Action.startsWith('exec_')) return;
    void this.serial(async () => {
      if (ev.Action === 'destroy') {
        const pod = this.adopted().find((p) => p.metadata.annotations![ADOPTED] === id);
        if (pod) await this.registry.purge(this.kind, pod.metadata.namespace, pod.metadata.name!);
        return;
      }
      const c = await this.engine.inspect(id);
      if (c && c.Config?.Labels?.[LABELS.instance] === undefined) await this.upsert(c);
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    this.busy = this.busy.then(fn).catch((e) => log('adopt failed', { level: 'warn', error: (e as Error).message }));
    return this.busy;
  }

  private adopted(): KObject[] {
    return this.registry.all(this.kind).filter((p) => p.metadata.annotations?.[ADOPTED]);
  }

  private namespaceFor(c: DockerInspect): string {
    const labels = c.Config?.Labels ?? {};
    const want = labels[NAMESPACE_LABEL] ?? labels[LABELS.podNamespace];
    const nsKind = this.registry.kinds.get('namespaces');
    return want && nsKind && this.registry.peek(nsKind, undefined, want) ? want : 'default';
  }

  private async upsert(c: DockerInspect): Promise<void> {
    const existing = this.adopted().find((p) => p.metadata.annotations![ADOPTED] === c.Id);
    const name = (c as Obj).Name as string ?? c.Id.slice(0, 12);
    const container = podNameFor(name);
    const image = c.Config?.Image ?? '';
    let pod = existing;
    if (!pod) {
      const namespace = this.namespaceFor(c);
      let podName = container;
      if (this.registry.peek(this.kind, namespace, podName)) podName = `${container}-${c.Id.slice(0, 5)}`.slice(0, 63);
      const restart = ((c as Obj).HostConfig?.RestartPolicy?.Name as string) ?? 'no';
      pod = await this.registry.create(this.kind, namespace, {
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          name: podName, namespace,
          // Docker labels that are valid Kubernetes labels carry over (selectors work on them).
          labels: Object.fromEntries(Object.entries(c.Config?.Labels ?? {}).filter(([k, v]) => !isLabelKey(k).length && !isLabelValue(v).length)),
          annotations: { [ADOPTED]: c.Id, 'k2d.io/container-name': name },
        },
        spec: {
          containers: [{ name: container, image, imagePullPolicy: 'IfNotPresent' }],
          restartPolicy: restart === 'always' || restart === 'unless-stopped' ? 'Always' : restart === 'on-failure' ? 'OnFailure' : 'Never',
        },
      }, { fieldManager: 'docker' });
    }
    const status = podStatus(pod, { now: new Date(), hostIP: this.engine.hostIP, sandbox: c, containers: [{ name: container, current: c }] });
    if (!deepEqual(pod.status, status)) {
      const live = this.registry.peek(this.kind, pod.metadata.namespace, pod.metadata.name!);
      if (live) await this.registry.update(this.kind, live.metadata.namespace, live.metadata.name!, { ...live, status: status as unknown as Obj }, { subresource: 'status', skipRvCheck: true, fieldManager: 'k2d' });
    }
  }
}
