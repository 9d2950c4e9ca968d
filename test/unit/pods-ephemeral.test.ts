// pods/ephemeralcontainers through the registry: only spec.ephemeralContainers changes, new ones
// are added and defaulted, existing ones stay, and the apiserver's validation applies.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pods } from '../../src/api/pods.ts';
import { ApiError } from '../../src/machinery/errors.ts';
import { Registry } from '../../src/machinery/registry.ts';
import type { KindInfo, KObject } from '../../src/machinery/types.ts';
import type { PlanEnv } from '../../src/translate/index.ts';

const kinds = JSON.parse(readFileSync(new URL('../../generated/kinds.json', import.meta.url), 'utf8')) as KindInfo[];

async function fresh(): Promise<{ reg: Registry; pod: KindInfo; live: KObject }> {
  const reg = new Registry(kinds, undefined, { objects: [], resourceVersion: 0 });
  const env: PlanEnv = {
    instance: 't', network: 'k2d', sandboxImage: 'k2d/pause:1', aliases: [], configMaps: () => undefined, secrets: () => undefined,
    volumeDir: (u, v) => `${u}_${v}`, pvcVolume: () => undefined, nodeName: 'node', hostIP: '127.0.0.1',
  };
  reg.setStrategy('pods', pods({ nodeName: () => 'node', planEnv: () => env }));
  await reg.create(reg.kind('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const pod = reg.kind('pods');
  const live = await reg.create(pod, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } } as KObject);
  return { reg, pod, live };
}

const withEphemeral = (live: KObject, list: unknown[], extra: Record<string, unknown> = {}): KObject =>
  ({ ...live, ...extra, spec: { ...(live.spec as object), ephemeralContainers: list } } as KObject);

test('an ephemeral container is added, defaulted, and nothing else of the pod changes', async () => {
  const { reg, pod, live } = await fresh();
  const { object } = await reg.update(pod, 'default', 'p', withEphemeral(live, [{ name: 'dbg', image: 'busybox:latest', targetContainerName: 'main' }], { metadata: { ...live.metadata, labels: { sneaky: 'x' } } }),
    { subresource: 'ephemeralcontainers', fieldManager: 'kubectl-debug' });
  const spec = object.spec as Record<string, any>;
  assert.deepEqual(spec.ephemeralContainers, [{
    name: 'dbg', image: 'busybox:latest', targetContainerName: 'main', imagePullPolicy: 'Always',
    terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {},
  }]);
  assert.equal(object.metadata.labels, undefined, 'the subresource writes only ephemeral containers');
  assert.equal(spec.containers[0].name, 'main');
});

test('existing ephemeral containers may be neither changed nor removed; forbidden fields and names are 422', async () => {
  const { reg, pod, live } = await fresh();
  const { object } = await reg.update(pod, 'default', 'p', withEphemeral(live, [{ name: 'dbg', image: 'busybox:latest' }]), { subresource: 'ephemeralcontainers' });
  const causes = async (list: unknown[]) => {
    try {
      await reg.update(pod, 'default', 'p', withEphemeral(object, list), { subresource: 'ephemeralcontainers' });
      return [];
    } catch (e) {
      assert.ok(e instanceof ApiError && e.code === 422, String(e));
      return ((e.details as { causes?: Array<{ field: string; message: string }> }).causes ?? []).map((c) => `${c.field}: ${c.message}`);
    }
  };
  const existing = (object.spec as Record<string, any>).ephemeralContainers[0];
  assert.deepEqual(await causes([]), ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed\n']);
  assert.deepEqual(await causes([{ ...existing, image: 'busybox:1.36' }]), ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be changed\n']);
  assert.deepEqual(await causes([existing, { name: 'main', image: 'x', ports: [{ containerPort: 80 }], readinessProbe: { exec: { command: ['true'] } }, volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 's' }] }]), [
    'spec.ephemeralContainers[1].name: Duplicate value: "main"',
    'spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container',
    'spec.ephemeralContainers[1].readinessProbe: Forbidden: cannot be set for an Ephemeral Container',
    'spec.ephemeralContainers[1].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container',
  ]);
  assert.deepEqual(await causes([existing, { name: 'two', image: 'x', targetContainerName: 'dbg' }]), ['spec.ephemeralContainers[1].targetContainerName: Not found: "dbg"']);
  // The main resource cannot add them, nor can a create.
  await assert.rejects(reg.update(pod, 'default', 'p', withEphemeral(object, [existing, { name: 'three', image: 'x' }])), (e: ApiError) => e.code === 422);
  await assert.rejects(reg.create(pod, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'q' }, spec: { containers: [{ name: 'a', image: 'x' }], ephemeralContainers: [{ name: 'b', image: 'x' }] } } as KObject),
    (e: ApiError) => e.code === 422 && /spec\.ephemeralContainers: Forbidden: cannot be set on create/.test(e.message));
});
