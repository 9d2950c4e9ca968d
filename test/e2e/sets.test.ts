// StatefulSets and DaemonSets run as pods (Docker containers), driven by real kubectl: ordered
// creation, stable names, one claim per ordinal whose data survives the pod, scale-down from the
// top, rolling updates with ControllerRevisions (history, undo), and one daemon pod per node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { docker, kubectl, kubectlOk, request, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
const TAG = 'busybox:k2d-e2e-sets';
before(async () => {
  s = await startServer();
  ns = uniqueName('sets');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const t = await docker(['tag', 'busybox:latest', TAG]);
  assert.equal(t.code, 0, t.stderr);
});
after(async () => {
  if (s?.running()) await kubectl(s, ['delete', 'namespace', ns, '--wait=true', '--timeout=90s'], { timeoutMs: 100_000 });
  await s?.stop();
  await docker(['rmi', TAG]);
});

type Obj = Record<string, any>;
const json = async (args: string[]) => JSON.parse((await kubectlOk(s, [...args, '-n', ns, '-o', 'json'])).stdout);
const podsOf = async (app: string) => (await json(['get', 'pods', '-l', `app=${app}`])).items as Obj[];
const isReady = (p: Obj) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: Obj) => c.type === 'Ready' && c.status === 'True');
const readyAt = (p: Obj) => Date.parse(p.status.conditions.find((c: Obj) => c.type === 'Ready').lastTransitionTime);
const names = (pods: Obj[]) => pods.map((p) => p.metadata.name).sort();

/** Samples the pods of an app until stopped: every list seen, in order. */
function sampler(app: string) {
  const seen: Obj[][] = [];
  let on = true;
  const done = (async () => {
    while (on) {
      const r = await request(s, 'GET', `/api/v1/namespaces/${ns}/pods?labelSelector=app%3D${app}`);
      if (r.status === 200) seen.push(r.body.items as Obj[]);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  })();
  return { seen, stop: async () => { on = false; await done; } };
}

const statefulSet = `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox:latest
        imagePullPolicy: IfNotPresent
        command: [sleep, '3600']
        volumeMounts: [{ name: data, mountPath: /data }]
  volumeClaimTemplates:
  - metadata: { name: data, labels: { tier: storage } }
    spec:
      accessModes: [ReadWriteOnce]
      resources: { requests: { storage: 1Gi } }
`;

test('StatefulSet of 3: defaults, pods created in order with identity and one claim each, rollout status returns', async () => {
  const watch = sampler('web');
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: statefulSet });
  const sts = await json(['get', 'sts', 'web']);
  assert.equal(sts.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(sts.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 1 } });
  assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(sts.spec.revisionHistoryLimit, 10);
  assert.equal(sts.spec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');
  assert.equal(sts.spec.volumeClaimTemplates[0].status.phase, 'Pending');
  const st = await kubectlOk(s, ['rollout', 'status', 'sts/web', '-n', ns, '--timeout=100s'], { timeoutMs: 110_000 });
  assert.match(st.stdout, /partitioned roll out complete: 3 new pods have been updated/);
  await watch.stop();
  // OrderedReady: no pod existed before its predecessor was Ready.
  for (const list of watch.seen) {
    for (const p of list) {
      const ord = Number(p.metadata.name.split('-')[1]);
      if (ord === 0) continue;
      const prev = list.find((q) => q.metadata.name === `web-${ord - 1}`);
      assert.ok(prev && isReady(prev), `web-${ord} existed while web-${ord - 1} was not ready`);
    }
  }
  const pods = (await podsOf('web')).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  assert.deepEqual(names(pods), ['web-0', 'web-1', 'web-2']);
  for (let i = 1; i < 3; i++) assert.ok(Date.parse(pods[i].metadata.creationTimestamp) >= Math.floor(readyAt(pods[i - 1]) / 1000) * 1000);
  const got = await json(['get', 'sts', 'web']);
  const updateRevision = got.status.updateRevision;
  assert.match(updateRevision, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.deepEqual({ ...got.status, currentRevision: undefined, updateRevision: undefined }, {
    observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3,
    collisionCount: 0, currentRevision: undefined, updateRevision: undefined,
  });
  assert.equal(got.status.currentRevision, updateRevision);
  pods.forEach((p, i) => {
    assert.equal(p.metadata.labels['statefulset.kubernetes.io/pod-name'], `web-${i}`);
    assert.equal(p.metadata.labels['apps.kubernetes.io/pod-index'], String(i));
    assert.equal(p.metadata.labels['controller-revision-hash'], updateRevision);
    assert.equal(p.spec.hostname, `web-${i}`);
    assert.equal(p.spec.subdomain, 'web');
    assert.deepEqual(p.spec.volumes.find((v: Obj) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: `data-web-${i}` } });
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: got.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  });
  const claims = (await json(['get', 'pvc'])).items as Obj[];
  assert.deepEqual(names(claims), ['data-web-0', 'data-web-1', 'data-web-2']);
  for (const c of claims) {
    assert.equal(c.status.phase, 'Bound');
    assert.deepEqual(c.metadata.labels, { tier: 'storage', app: 'web' });
  }
  const revs = (await json(['get', 'controllerrevisions'])).items as Obj[];
  assert.equal(revs.length, 1);
  assert.equal(revs[0].metadata.name, updateRevision);
  assert.equal(revs[0].revision, 1);
  assert.equal(revs[0].metadata.labels['controller.kubernetes.io/hash'], updateRevision.slice(4));
  const table = await kubectlOk(s, ['get', 'sts', '-n', ns]);
  assert.match(table.stdout, /^web\s+3\/3\s+/m);
  // kubectl 1.31 lists then watches for the same command.
  const old = await kubectlOk(s, ['rollout', 'status', 'statefulset/web', '-n', ns, '--timeout=30s'], { version: '1.31' });
  assert.match(old.stdout, /partitioned roll out complete/);
});

test('StatefulSet pods resolve by <pod>.<serviceName> through the headless Service, also fully qualified', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: `apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ port: 80 }]
` });
  const ipOf = async (name: string) => (await json(['get', 'pod', name])).status.podIP as string;
  for (const [from, name] of [['web-0', 'web-1.web'], ['web-2', `web-0.web.${ns}.svc.cluster.local`]]) {
    const target = name.split('.')[0];
    await waitFor(async () => {
      // ping resolves through the C library, as applications do (search domains applied);
      // busybox nslookup would ask for the name exactly as written.
      const r = await kubectl(s, ['exec', from, '-n', ns, '--', 'ping', '-c', '1', '-W', '1', name]);
      const ip = await ipOf(target);
      return r.stdout.includes(`PING ${name} (${ip})`);
    }, { timeoutMs: 60_000, intervalMs: 1000, what: `${name} resolving from ${from} to ${target}'s address` });
  }
});

test('only the fields upstream allows may change: serviceName is forbidden', async () => {
  const r = await kubectl(s, ['patch', 'sts', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"serviceName":"other"}}']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden/);
});

test('a deleted pod comes back with the same name and its claim: the data survives', async () => {
  await kubectlOk(s, ['exec', 'web-1', '-n', ns, '--', 'sh', '-c', 'echo kept-by-web-1 > /data/note']);
  const before = await json(['get', 'pod', 'web-1']);
  await kubectlOk(s, ['delete', 'pod', 'web-1', '-n', ns], { timeoutMs: 60_000 });
  const again = await waitFor(async () => {
    const p = (await podsOf('web')).find((x) => x.metadata.name === 'web-1');
    return p && p.metadata.uid !== before.metadata.uid && isReady(p) ? p : undefined;
  }, { timeoutMs: 90_000, what: 'web-1 recreated and ready' });
  assert.equal(again.spec.volumes.find((v: Obj) => v.name === 'data').persistentVolumeClaim.claimName, 'data-web-1');
  const cat = await kubectlOk(s, ['exec', 'web-1', '-n', ns, '--', 'cat', '/data/note']);
  assert.equal(cat.stdout.trim(), 'kept-by-web-1');
});

test('scale to 1 removes pods from the highest ordinal, one at a time, and keeps the claims', async () => {
  const watch = sampler('web');
  await kubectlOk(s, ['scale', 'sts/web', '-n', ns, '--replicas=1']);
  await waitFor(async () => names(await podsOf('web')).join() === 'web-0', { timeoutMs: 90_000, what: 'only web-0 left' });
  await watch.stop();
  for (const list of watch.seen) {
    const two = list.find((p) => p.metadata.name === 'web-2');
    const one = list.find((p) => p.metadata.name === 'web-1');
    assert.ok(!(two && one?.metadata.deletionTimestamp), 'web-1 was deleted while web-2 still existed');
  }
  assert.deepEqual(names((await json(['get', 'pvc'])).items), ['data-web-0', 'data-web-1', 'data-web-2']);
  await waitFor(async () => {
    const st = (await json(['get', 'sts', 'web'])).status;
    return st.replicas === 1 && st.readyReplicas === 1;
  }, { what: 'status.replicas 1' });
});

test('set image rolls the pods from the top; rollout history lists revisions; undo restores the template', async () => {
  await kubectlOk(s, ['scale', 'sts/web', '-n', ns, '--replicas=2']);
  await kubectlOk(s, ['rollout', 'status', 'sts/web', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
  const first = (await json(['get', 'sts', 'web'])).status.updateRevision;
  const watch = sampler('web');
  await kubectlOk(s, ['set', 'image', 'sts/web', '-n', ns, `main=${TAG}`]);
  await kubectlOk(s, ['rollout', 'status', 'sts/web', '-n', ns, '--timeout=100s'], { timeoutMs: 110_000 });
  await watch.stop();
  // From the top: web-0 is replaced only once web-1 runs the new template and is ready.
  for (const list of watch.seen) {
    const zero = list.find((p) => p.metadata.name === 'web-0');
    const one = list.find((p) => p.metadata.name === 'web-1');
    if (zero && (zero.metadata.deletionTimestamp || zero.spec.containers[0].image === TAG)) {
      assert.ok(one && one.spec.containers[0].image === TAG && isReady(one), 'web-0 was replaced before web-1 was updated and ready');
    }
  }
  const pods = await waitFor(async () => {
    const ps = await podsOf('web');
    return ps.length === 2 && ps.every((p) => isReady(p) && p.spec.containers[0].image === TAG) ? ps : undefined;
  }, { timeoutMs: 60_000, what: 'both pods on the new image' });
  const sts = await json(['get', 'sts', 'web']);
  assert.notEqual(sts.status.updateRevision, first);
  assert.equal(sts.status.currentRevision, sts.status.updateRevision);
  for (const p of pods) assert.equal(p.metadata.labels['controller-revision-hash'], sts.status.updateRevision);
  // The second pod's data is still there after its replacement.
  const cat = await kubectlOk(s, ['exec', 'web-1', '-n', ns, '--', 'cat', '/data/note']);
  assert.equal(cat.stdout.trim(), 'kept-by-web-1');
  const history = await kubectlOk(s, ['rollout', 'history', 'sts/web', '-n', ns]);
  assert.match(history.stdout, /^1\s/m);
  assert.match(history.stdout, /^2\s/m);
  const rev2 = await kubectlOk(s, ['rollout', 'history', 'sts/web', '-n', ns, '--revision=2']);
  assert.match(rev2.stdout, new RegExp(`Image:\\s+${TAG.replace('.', '\\.')}`));

  await kubectlOk(s, ['rollout', 'undo', 'sts/web', '-n', ns]);
  await kubectlOk(s, ['rollout', 'status', 'sts/web', '-n', ns, '--timeout=100s'], { timeoutMs: 110_000 });
  const back = await json(['get', 'sts', 'web']);
  assert.equal(back.spec.template.spec.containers[0].image, 'busybox:latest');
  assert.equal(back.status.updateRevision, first, 'the first revision is reused');
  const revs = (await json(['get', 'controllerrevisions'])).items as Obj[];
  assert.equal(revs.find((r) => r.metadata.name === first)?.revision, 3);
  await waitFor(async () => {
    const ps = await podsOf('web');
    return ps.length === 2 && ps.every((p) => isReady(p) && p.spec.containers[0].image === 'busybox:latest');
  }, { timeoutMs: 60_000, what: 'pods back on busybox:latest' });
});

test('deleting the StatefulSet removes its pods and revisions; Retain keeps the claims', async () => {
  await kubectlOk(s, ['delete', 'sts', 'web', '-n', ns, '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
  await waitFor(async () => (await podsOf('web')).length === 0, { timeoutMs: 60_000, what: 'pods gone' });
  await waitFor(async () => (await json(['get', 'controllerrevisions'])).items.length === 0, { what: 'revisions gone' });
  assert.deepEqual(names((await json(['get', 'pvc'])).items), ['data-web-0', 'data-web-1', 'data-web-2']);
});

const daemonSet = (name: string, extra = '') => `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: ${name} }
spec:
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
${extra}      containers:
      - name: main
        image: busybox:latest
        imagePullPolicy: IfNotPresent
        command: [sleep, '3600']
`;

test('DaemonSet: one pod on the node, rollout status returns, an update rolls it, history lists both', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: daemonSet('agent') });
  const ds = await json(['get', 'ds', 'agent']);
  assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(ds.spec.revisionHistoryLimit, 10);
  assert.equal(ds.metadata.annotations['deprecated.daemonset.template.generation'], '1');
  const st = await kubectlOk(s, ['rollout', 'status', 'ds/agent', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
  assert.match(st.stdout, /daemon set "agent" successfully rolled out/);
  const pods = await podsOf('agent');
  assert.equal(pods.length, 1);
  assert.match(pods[0].metadata.name, /^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.equal(pods[0].metadata.labels['pod-template-generation'], '1');
  const status = (await json(['get', 'ds', 'agent'])).status;
  assert.equal(status.desiredNumberScheduled, 1);
  assert.equal(status.currentNumberScheduled, 1);
  assert.equal(status.numberReady, 1);
  assert.equal(status.numberAvailable, 1);
  assert.equal(status.updatedNumberScheduled, 1);
  assert.equal(status.numberMisscheduled, 0);
  const revs = (await json(['get', 'controllerrevisions', '-l', 'app=agent'])).items as Obj[];
  assert.equal(revs.length, 1);
  assert.equal(revs[0].metadata.name, `agent-${pods[0].metadata.labels['controller-revision-hash']}`);

  await kubectlOk(s, ['set', 'env', 'ds/agent', '-n', ns, 'MODE=two']);
  await kubectlOk(s, ['rollout', 'status', 'ds/agent', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
  const next = await waitFor(async () => {
    const ps = await podsOf('agent');
    return ps.length === 1 && isReady(ps[0]) && ps[0].spec.containers[0].env?.[0]?.value === 'two' ? ps[0] : undefined;
  }, { timeoutMs: 60_000, what: 'the rolled daemon pod' });
  assert.notEqual(next.metadata.name, pods[0].metadata.name);
  assert.equal(next.metadata.labels['pod-template-generation'], '2');
  const history = await kubectlOk(s, ['rollout', 'history', 'ds/agent', '-n', ns]);
  assert.match(history.stdout, /^1\s/m);
  assert.match(history.stdout, /^2\s/m);
  const table = await kubectlOk(s, ['get', 'ds', '-n', ns]);
  assert.match(table.stdout, /^agent\s+1\s+1\s+1\s+1\s+1\s+/m);
});

test('DaemonSet whose nodeSelector does not match the node runs nothing; deleting a DaemonSet removes its pod', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: daemonSet('nowhere', '      nodeSelector: { disk: none-such }\n') });
  await waitFor(async () => {
    const st = (await json(['get', 'ds', 'nowhere'])).status;
    return st?.observedGeneration === 1 && st.desiredNumberScheduled === 0;
  }, { what: 'desiredNumberScheduled 0' });
  assert.equal((await podsOf('nowhere')).length, 0);
  await kubectlOk(s, ['rollout', 'status', 'ds/nowhere', '-n', ns, '--timeout=30s']);
  await kubectlOk(s, ['delete', 'ds', 'agent', 'nowhere', '-n', ns, '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
  await waitFor(async () => (await podsOf('agent')).length === 0, { timeoutMs: 60_000, what: 'daemon pod gone' });
});

test('Parallel from ordinals.start with whenScaled Delete: pods at once, a scaled-down ordinal takes its claim along', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: statefulSet.replace(/\bweb\b/g, 'par').replace('replicas: 3', `replicas: 2
  podManagementPolicy: Parallel
  ordinals: { start: 5 }
  persistentVolumeClaimRetentionPolicy: { whenScaled: Delete }`) });
  await kubectlOk(s, ['rollout', 'status', 'sts/par', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
  const pods = (await podsOf('par')).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  assert.deepEqual(names(pods), ['par-5', 'par-6']);
  // Both were created in one go: neither waited for the other to become ready.
  assert.ok(Date.parse(pods[1].metadata.creationTimestamp) <= readyAt(pods[0]));
  assert.equal(pods[1].metadata.labels['apps.kubernetes.io/pod-index'], '6');
  const claims = async () => names((await json(['get', 'pvc', '-l', 'app=par'])).items).sort();
  assert.deepEqual(await claims(), ['data-par-5', 'data-par-6']);
  await kubectlOk(s, ['scale', 'sts/par', '-n', ns, '--replicas=1']);
  await waitFor(async () => (await claims()).join() === 'data-par-5', { timeoutMs: 90_000, what: 'claim of par-6 deleted with its pod' });
  assert.deepEqual(names(await podsOf('par')), ['par-5']);
  const kept = await json(['get', 'pvc', 'data-par-5']);
  assert.equal(kept.metadata.ownerReferences, undefined);
  await kubectlOk(s, ['delete', 'sts', 'par', '-n', ns, '--wait=true', '--timeout=60s'], { timeoutMs: 70_000 });
});

test('the controllers logged no failures', () => {
  assert.doesNotMatch(s.logs(), /(statefulset|daemonset)[^\n]*(sync failed|create failed)/);
});
