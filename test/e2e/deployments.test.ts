// Deployments and ReplicaSets run as pods (Docker containers), driven by real kubectl.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { docker, kubectl, kubectlOk, request, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
const TAG = 'busybox:k2d-e2e';
before(async () => {
  s = await startServer();
  ns = uniqueName('deploy');
  await kubectlOk(s, ['create', 'namespace', ns]);
  const t = await docker(['tag', 'busybox:latest', TAG]);
  assert.equal(t.code, 0, t.stderr);
});
after(async () => {
  await s?.stop();
  await docker(['rmi', TAG]);
});

const json = async (args: string[]) => JSON.parse((await kubectlOk(s, [...args, '-n', ns, '-o', 'json'])).stdout);
const podsOf = async (app: string) => (await json(['get', 'pods', '-l', `app=${app}`])).items as Array<Record<string, any>>;
const running = async (app: string, n: number) => {
  const pods = (await podsOf(app)).filter((p) => !p.metadata.deletionTimestamp);
  return pods.length === n && pods.every((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) ? pods : undefined;
};

const manifest = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox:latest
        imagePullPolicy: IfNotPresent
        command: [sleep, '3600']
`;

test('apply of 3 replicas: defaults, ReplicaSet and pods named as upstream, Available, rollout status returns', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: manifest('web', 3) });
  const d = await json(['get', 'deployment', 'web']);
  assert.equal(d.spec.strategy.type, 'RollingUpdate');
  assert.deepEqual(d.spec.strategy.rollingUpdate, { maxUnavailable: '25%', maxSurge: '25%' });
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.spec.progressDeadlineSeconds, 600);
  assert.equal(d.spec.template.spec.restartPolicy, 'Always');
  assert.equal(d.metadata.generation, 1);
  const st = await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
  assert.match(st.stdout, /successfully rolled out/);
  const after = await json(['get', 'deployment', 'web']);
  assert.equal(after.status.readyReplicas, 3);
  assert.equal(after.status.availableReplicas, 3);
  assert.equal(after.status.updatedReplicas, 3);
  assert.equal(after.status.observedGeneration, 1);
  assert.equal(after.metadata.annotations['deployment.kubernetes.io/revision'], '1');
  const conds = Object.fromEntries(after.status.conditions.map((c: any) => [c.type, c]));
  assert.equal(conds.Available.reason, 'MinimumReplicasAvailable');
  assert.equal(conds.Progressing.reason, 'NewReplicaSetAvailable');
  const rss = (await json(['get', 'rs', '-l', 'app=web'])).items;
  assert.equal(rss.length, 1);
  const hash = rss[0].metadata.labels['pod-template-hash'];
  assert.equal(rss[0].metadata.name, `web-${hash}`);
  assert.equal(rss[0].metadata.ownerReferences[0].kind, 'Deployment');
  const pods = await podsOf('web');
  assert.equal(pods.length, 3);
  for (const p of pods) {
    assert.match(p.metadata.name, new RegExp(`^web-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
    assert.equal(p.metadata.labels['pod-template-hash'], hash);
    assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rss[0].metadata.name, uid: rss[0].metadata.uid, controller: true, blockOwnerDeletion: true }]);
  }
  const ps = await docker(['ps', '--filter', `label=io.kubernetes.pod.namespace=${ns}`, '--filter', 'label=io.kubernetes.container.name=main', '-q']);
  assert.equal(ps.stdout.trim().split('\n').length, 3);
  const table = await kubectlOk(s, ['get', 'deploy', '-n', ns]);
  assert.match(table.stdout, /^web\s+3\/3\s+3\s+3\s+/m);
});

test('scale subresource: kubectl scale to 5 then 1; Scale is autoscaling/v1', async () => {
  const sc = await request(s, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/web/scale`);
  assert.equal(sc.status, 200);
  const body = sc.body as Record<string, any>;
  assert.equal(body.kind, 'Scale');
  assert.equal(body.apiVersion, 'autoscaling/v1');
  assert.equal(body.spec.replicas, 3);
  assert.equal(body.status.selector, 'app=web');
  await kubectlOk(s, ['scale', 'deployment/web', '-n', ns, '--replicas=5']);
  await waitFor(() => running('web', 5), { timeoutMs: 60_000, what: '5 ready pods' });
  await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
  await kubectlOk(s, ['scale', 'deployment/web', '-n', ns, '--replicas=1']);
  await waitFor(async () => (await podsOf('web')).length === 1, { timeoutMs: 60_000, what: 'scale down to 1 pod' });
  const d = await json(['get', 'deployment', 'web']);
  assert.equal(d.spec.replicas, 1);
  await waitFor(async () => (await json(['get', 'deployment', 'web'])).status.replicas === 1, { what: 'status.replicas 1' });
  const bad = await kubectl(s, ['scale', 'deployment/web', '-n', ns, '--replicas=-1']);
  assert.notEqual(bad.code, 0);
  await kubectlOk(s, ['scale', 'deployment/web', '-n', ns, '--replicas=3']);
  await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
});

test('set image rolls to a new ReplicaSet; rollout undo restores the previous template', async () => {
  // 3 replicas at 25%/25%: maxUnavailable rounds down to 0, so 3 ready pods at every moment.
  let floor = Infinity;
  let watching = true;
  const sampler = (async () => {
    while (watching) {
      const r = await request(s, 'GET', `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb`);
      const ready = (r.body.items as Array<Record<string, any>>).filter((p) => !p.metadata.deletionTimestamp &&
        p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
      floor = Math.min(floor, ready);
      await new Promise((ok) => setTimeout(ok, 50));
    }
  })();
  await kubectlOk(s, ['set', 'image', 'deployment/web', '-n', ns, `main=${TAG}`]);
  await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=120s'], { timeoutMs: 130_000 });
  watching = false;
  await sampler;
  assert.equal(floor, 3, 'ready pods never went below spec.replicas - maxUnavailable');
  const pods = await waitFor(() => running('web', 3), { timeoutMs: 60_000, what: '3 new pods' });
  for (const p of pods) assert.equal(p.spec.containers[0].image, TAG);
  const rss = (await json(['get', 'rs', '-l', 'app=web'])).items as Array<Record<string, any>>;
  assert.equal(rss.length, 2);
  const byRev = Object.fromEntries(rss.map((r) => [r.metadata.annotations['deployment.kubernetes.io/revision'], r]));
  assert.equal(byRev['2'].spec.replicas, 3);
  assert.equal(byRev['1'].spec.replicas, 0);
  // created 1, three scales, one template change; the status writes never bumped it
  const d = await json(['get', 'deployment', 'web']);
  assert.equal(d.metadata.generation, 5);
  assert.equal(d.status.observedGeneration, 5);
  assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  const history = await kubectlOk(s, ['rollout', 'history', 'deployment/web', '-n', ns]);
  assert.match(history.stdout, /^1\s/m);
  assert.match(history.stdout, /^2\s/m);

  await kubectlOk(s, ['rollout', 'undo', 'deployment/web', '-n', ns]);
  await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=120s'], { timeoutMs: 130_000 });
  const back = await waitFor(async () => {
    const ps = await running('web', 3);
    return ps?.every((p) => p.spec.containers[0].image === 'busybox:latest') ? ps : undefined;
  }, { timeoutMs: 60_000, what: 'pods back on busybox:latest' });
  assert.equal(back[0].metadata.labels['pod-template-hash'], byRev['1'].metadata.labels['pod-template-hash']);
  const undone = await json(['get', 'deployment', 'web']);
  assert.equal(undone.spec.template.spec.containers[0].image, 'busybox:latest');
  // The old ReplicaSet is reused, now as revision 3.
  const rs1 = await json(['get', 'rs', byRev['1'].metadata.name]);
  assert.equal(rs1.metadata.annotations['deployment.kubernetes.io/revision'], '3');
  assert.equal(rs1.spec.replicas, 3);
});

test('rollout pause holds template changes back; resume rolls them out; restart makes a new ReplicaSet', async () => {
  const rsCount = async () => (await json(['get', 'rs', '-l', 'app=web'])).items.length;
  const before = await rsCount();
  await kubectlOk(s, ['rollout', 'pause', 'deployment/web', '-n', ns]);
  await kubectlOk(s, ['set', 'env', 'deployment/web', '-n', ns, 'MODE=paused']);
  await waitFor(async () => {
    const d = await json(['get', 'deployment', 'web']);
    return d.status.observedGeneration === d.metadata.generation && d.status.conditions.some((c: any) => c.type === 'Progressing' && c.reason === 'DeploymentPaused');
  }, { what: 'DeploymentPaused observed' });
  assert.equal(await rsCount(), before);
  await kubectlOk(s, ['rollout', 'resume', 'deployment/web', '-n', ns]);
  await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=120s'], { timeoutMs: 130_000 });
  const pods = await waitFor(async () => {
    const ps = await running('web', 3);
    return ps?.every((p) => p.spec.containers[0].env?.[0]?.value === 'paused') ? ps : undefined;
  }, { timeoutMs: 60_000, what: 'pods with MODE=paused' });
  assert.equal(pods.length, 3);
  assert.equal(await rsCount(), before + 1);
  await kubectlOk(s, ['rollout', 'restart', 'deployment/web', '-n', ns]);
  await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=120s'], { timeoutMs: 130_000 });
  assert.equal(await rsCount(), before + 2);
});

test('a ReplicaSet on its own keeps its replicas: a deleted pod is replaced', async () => {
  const rs = `apiVersion: apps/v1
kind: ReplicaSet
metadata: { name: solo }
spec:
  replicas: 2
  selector: { matchLabels: { app: solo } }
  template:
    metadata: { labels: { app: solo } }
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{ name: main, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, '3600'] }]
`;
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: rs });
  const pods = await waitFor(() => running('solo', 2), { timeoutMs: 60_000, what: '2 solo pods' });
  await kubectlOk(s, ['delete', 'pod', pods[0].metadata.name, '-n', ns]);
  const again = await waitFor(() => running('solo', 2), { timeoutMs: 60_000, what: 'a replacement pod' });
  assert.ok(!again.some((p) => p.metadata.name === pods[0].metadata.name));
  const got = await json(['get', 'rs', 'solo']);
  assert.equal(got.status.readyReplicas, 2);
  const immut = await kubectl(s, ['patch', 'rs', 'solo', '-n', ns, '--type=merge', '-p', '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}']);
  assert.notEqual(immut.code, 0);
  assert.match(immut.stderr, /field is immutable/);
  await kubectlOk(s, ['delete', 'rs', 'solo', '-n', ns]);
  await waitFor(async () => (await podsOf('solo')).length === 0, { timeoutMs: 60_000, what: 'solo pods gone' });
});

test('kubectl create deployment; deleting a Deployment removes its ReplicaSets, pods and containers', async () => {
  // Not :latest, so the pull policy defaults to IfNotPresent (nothing is pulled offline).
  await kubectlOk(s, ['create', 'deployment', 'made', '-n', ns, `--image=${TAG}`, '--replicas=2', '--', 'sleep', '3600']);
  const made = await json(['get', 'deployment', 'made']);
  assert.equal(made.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  await kubectlOk(s, ['rollout', 'status', 'deployment/made', '-n', ns, '--timeout=90s'], { timeoutMs: 100_000 });
  assert.equal((await podsOf('made')).length, 2);
  for (const name of ['made', 'web']) {
    await kubectlOk(s, ['delete', 'deployment', name, '-n', ns]);
    await waitFor(async () => (await json(['get', 'rs', '-l', `app=${name}`])).items.length === 0, { timeoutMs: 60_000, what: `${name} ReplicaSets gone` });
    await waitFor(async () => (await podsOf(name)).length === 0, { timeoutMs: 60_000, what: `${name} pods gone` });
  }
  await waitFor(async () => (await docker(['ps', '-a', '--filter', `label=io.kubernetes.pod.namespace=${ns}`, '-q'])).stdout.trim() === '', { timeoutMs: 60_000, what: 'containers gone' });
});

// ---- adoption, cascading deletion, autoscale, server-side apply of Scale ----------------------

const rsOf = async (app: string) => (await json(['get', 'rs', '-l', `app=${app}`])).items as Array<Record<string, any>>;
const uids = (items: Array<Record<string, any>>) => items.map((o) => o.metadata.uid).sort();

test('delete --cascade=orphan keeps ReplicaSet and pods; re-applying adopts them, no pod replaced', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: manifest('adopt', 2) });
  await kubectlOk(s, ['rollout', 'status', 'deployment/adopt', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
  const [rs] = await rsOf('adopt');
  const pods = await waitFor(() => running('adopt', 2), { timeoutMs: 30_000, what: '2 adopt pods' });

  await kubectlOk(s, ['delete', 'deployment', 'adopt', '-n', ns, '--cascade=orphan', '--timeout=30s'], { timeoutMs: 40_000 });
  const orphan = await rsOf('adopt');
  assert.equal(orphan.length, 1);
  assert.equal(orphan[0].metadata.uid, rs.metadata.uid);
  assert.equal(orphan[0].metadata.ownerReferences, undefined, 'the ReplicaSet lost its ownerReference');
  assert.deepEqual(uids(await podsOf('adopt')), uids(pods), 'the pods keep running');

  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: manifest('adopt', 2) });
  const d = await json(['get', 'deployment', 'adopt']);
  const adopted = await waitFor(async () => {
    const rss = await rsOf('adopt');
    return rss.length === 1 && rss[0].metadata.ownerReferences?.[0]?.uid === d.metadata.uid ? rss[0] : undefined;
  }, { timeoutMs: 30_000, what: 'the ReplicaSet adopted' });
  assert.equal(adopted.metadata.uid, rs.metadata.uid);
  assert.equal(adopted.metadata.labels['pod-template-hash'], rs.metadata.labels['pod-template-hash']);
  assert.deepEqual(adopted.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'adopt', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  await kubectlOk(s, ['rollout', 'status', 'deployment/adopt', '-n', ns, '--timeout=30s'], { timeoutMs: 40_000 });
  assert.deepEqual(uids(await podsOf('adopt')), uids(pods), 'no pod replaced');

  // The ReplicaSet alone, orphaning its pods: the Deployment makes it again and it adopts them.
  await kubectlOk(s, ['delete', 'rs', rs.metadata.name, '-n', ns, '--cascade=orphan', '--timeout=30s'], { timeoutMs: 40_000 });
  const again = await waitFor(async () => {
    const rss = await rsOf('adopt');
    return rss.length === 1 && rss[0].metadata.uid !== rs.metadata.uid ? rss[0] : undefined;
  }, { timeoutMs: 30_000, what: 'a new ReplicaSet' });
  assert.equal(again.metadata.name, rs.metadata.name);
  const back = await waitFor(async () => {
    const ps = await podsOf('adopt');
    return ps.length === 2 && ps.every((p) => p.metadata.ownerReferences?.[0]?.uid === again.metadata.uid) ? ps : undefined;
  }, { timeoutMs: 30_000, what: 'pods adopted by the new ReplicaSet' });
  assert.deepEqual(uids(back), uids(pods), 'the same pods, adopted');
  await waitFor(async () => (await json(['get', 'rs', again.metadata.name])).status?.readyReplicas === 2, { what: 'ReplicaSet counts its adopted pods' });
});

test('kubectl autoscale (1.35 posts autoscaling/v2, 1.31 autoscaling/v1): the HPA is stored and shown, and inert', async () => {
  await kubectlOk(s, ['autoscale', 'deployment', 'adopt', '-n', ns, '--min=3', '--max=5', '--cpu-percent=80']);
  await kubectlOk(s, ['autoscale', 'deployment', 'adopt', '-n', ns, '--name=adopt-v1', '--max=4'], { version: '1.31' });
  const table = await kubectlOk(s, ['get', 'hpa', '-n', ns]);
  assert.match(table.stdout, /^adopt\s+Deployment\/adopt\s+cpu: <unknown>\/80%\s+3\s+5\s+/m);
  assert.match(table.stdout, /^adopt-v1\s+Deployment\/adopt\s+cpu: <unknown>\/80%\s+1\s+4\s+/m);
  const old = await kubectlOk(s, ['get', 'hpa', '-n', ns], { version: '1.31' });
  assert.match(old.stdout, /^adopt-v1\s+Deployment\/adopt\s+/m);
  // v2 defaults (minReplicas 1, 80% CPU) on the object 1.31 posted without them.
  const v2 = await json(['get', 'hpa', 'adopt-v1']);
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.equal(v2.spec.minReplicas, 1);
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  const v1 = await request(s, 'GET', `/apis/autoscaling/v1/namespaces/${ns}/horizontalpodautoscalers/adopt`);
  assert.equal(v1.status, 200);
  assert.equal(v1.body.apiVersion, 'autoscaling/v1');
  assert.equal(v1.body.spec.targetCPUUtilizationPercentage, 80);
  assert.equal(v1.body.spec.minReplicas, 3);
  assert.equal(v1.body.spec.metrics, undefined);
  const bad = await kubectl(s, ['create', '-n', ns, '-f', '-'], { input: 'apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: bad }\nspec: { scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: adopt }, minReplicas: 3, maxReplicas: 2 }\n' });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`/);
  // Inert: nothing scales the Deployment up to minReplicas 3.
  await new Promise((ok) => setTimeout(ok, 1500));
  assert.equal((await json(['get', 'deployment', 'adopt'])).spec.replicas, 2);
  assert.equal((await podsOf('adopt')).length, 2);
  await kubectlOk(s, ['delete', 'hpa', 'adopt', 'adopt-v1', '-n', ns]);
});

test('server-side apply of an autoscaling/v1 Scale owns spec.replicas and conflicts as upstream', async () => {
  const path = `/apis/apps/v1/namespaces/${ns}/deployments/adopt/scale`;
  const apply = (body: string, query = 'fieldManager=scaler') => request(s, 'PATCH', `${path}?${query}`, { body, contentType: 'application/apply-patch+yaml' });
  const scale = (n: number) => `apiVersion: autoscaling/v1\nkind: Scale\nmetadata: { name: adopt }\nspec: { replicas: ${n} }\n`;
  // kubectl's client-side apply manager owns spec.replicas: a conflict unless forced.
  const c = await apply(scale(1));
  assert.equal(c.status, 409, c.text);
  assert.match(c.body.message, /Apply failed with 1 conflict: conflict with "kubectl-client-side-apply".*\.spec\.replicas/);
  const ok = await apply(scale(1), 'fieldManager=scaler&force=true');
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.kind, 'Scale');
  assert.equal(ok.body.spec.replicas, 1);
  const d = await json(['get', 'deployment', 'adopt', '--show-managed-fields']);
  assert.equal(d.spec.replicas, 1);
  const entry = d.metadata.managedFields.find((m: any) => m.manager === 'scaler');
  assert.equal(entry.operation, 'Apply');
  assert.equal(entry.subresource, 'scale');
  assert.deepEqual(entry.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  assert.ok(!d.metadata.managedFields.some((m: any) => m.manager !== 'scaler' && m.fieldsV1?.['f:spec']?.['f:replicas']), 'ownership moved');
  await waitFor(async () => (await podsOf('adopt')).length === 1, { timeoutMs: 30_000, what: 'scaled down to 1 pod' });
  // The Deployment's own version is not a Scale (upstream: the scale endpoint applies autoscaling/v1).
  const wrong = await apply('apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: adopt }\nspec: { replicas: 2 }\n');
  assert.equal(wrong.status, 400);
  assert.match(wrong.body.message, /Incorrect version specified in apply patch. Specified patch version: apps\/v1, expected: autoscaling\/v1/);
  const noManager = await apply(scale(2), 'force=true');
  assert.equal(noManager.status, 400);
  const back = await apply(scale(2));
  assert.equal(back.status, 200, back.text);
  await waitFor(() => running('adopt', 2), { timeoutMs: 30_000, what: '2 adopt pods again' });
});

test('delete --cascade=foreground: the Deployment waits, marked, until its ReplicaSets and pods are gone', async () => {
  await kubectlOk(s, ['delete', 'deployment', 'adopt', '-n', ns, '--cascade=foreground', '--wait=false']);
  const marked = (await request(s, 'GET', `/apis/apps/v1/namespaces/${ns}/deployments/adopt`)).body;
  assert.ok(marked.metadata.deletionTimestamp);
  assert.deepEqual(marked.metadata.finalizers, ['foregroundDeletion']);
  // kubectl delete --cascade=foreground waits for the object itself, so it returns once all is gone.
  await kubectlOk(s, ['delete', 'deployment', 'adopt', '-n', ns, '--cascade=foreground', '--ignore-not-found', '--timeout=60s'], { timeoutMs: 70_000 });
  assert.equal((await kubectl(s, ['get', 'deployment', 'adopt', '-n', ns])).code, 1);
  assert.equal((await rsOf('adopt')).length, 0);
  assert.equal((await podsOf('adopt')).length, 0);
});

test('server-side apply that drops its last annotation keeps the controller-owned revision annotation; diff --server-side is clean', async () => {
  const doc = (annotations: string) => [
    'apiVersion: apps/v1', 'kind: Deployment', `metadata: {name: ssa-ann${annotations}}`, 'spec:', '  replicas: 0',
    '  selector: {matchLabels: {app: ssa-ann}}', '  template:', '    metadata: {labels: {app: ssa-ann}}',
    '    spec: {containers: [{name: c, image: busybox:latest, imagePullPolicy: IfNotPresent}]}',
  ].join('\n') + '\n';
  await kubectlOk(s, ['apply', '--server-side', '--field-manager=helm', '-n', ns, '-f', '-'], { input: doc(', annotations: {a: x}') });
  await waitFor(async () => ((await json(['get', 'deployment', 'ssa-ann'])).metadata.annotations?.['deployment.kubernetes.io/revision'] === '1' ? true : undefined),
    { what: 'the revision annotation' });
  const applied = await kubectlOk(s, ['apply', '--server-side', '--field-manager=helm', '-n', ns, '-f', '-', '-o', 'json'], { input: doc('') });
  assert.deepEqual(JSON.parse(applied.stdout).metadata.annotations, { 'deployment.kubernetes.io/revision': '1' });
  const diff = await kubectl(s, ['diff', '--server-side', '--field-manager=helm', '-n', ns, '-f', '-'], { input: doc('') });
  assert.equal(diff.code, 0, diff.stdout);
  await kubectlOk(s, ['delete', 'deployment', 'ssa-ann', '-n', ns]);
});

test('controllers record their events: ScalingReplicaSet, SuccessfulCreate/SuccessfulDelete for ReplicaSets, StatefulSets and DaemonSets', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: manifest('evt', 2) });
  await kubectlOk(s, ['rollout', 'status', 'deployment/evt', '-n', ns, '--timeout=60s'], { timeoutMs: 70_000 });
  await kubectlOk(s, ['scale', 'deployment/evt', '-n', ns, '--replicas=1']);
  const [rs] = (await json(['get', 'rs', '-l', 'app=evt'])).items;
  const events = async (kind: string, name: string) => (await kubectlOk(s, ['events', '-n', ns, '--for', `${kind}/${name}`])).stdout;
  await waitFor(async () => {
    const d = await events('deployment', 'evt');
    return d.includes(`Scaled up replica set ${rs.metadata.name} from 0 to 2`) && d.includes(`Scaled down replica set ${rs.metadata.name} from 2 to 1`) ? true : undefined;
  }, { what: 'the Deployment scaling events' });
  const r = await waitFor(async () => { const x = await events('replicaset', rs.metadata.name); return /SuccessfulDelete\s+.*Deleted pod: evt-/.test(x) ? x : undefined; },
    { what: 'the ReplicaSet delete event' });
  assert.match(r, /Normal\s+SuccessfulCreate\s+ReplicaSet\/\S+\s+Created pod: evt-/);
  assert.match((await kubectlOk(s, ['describe', 'deployment', 'evt', '-n', ns])).stdout, /ScalingReplicaSet\s+\S+\s+deployment-controller\s+Scaled up replica set/);

  const pod = (lines: string[]) => [...lines, '      terminationGracePeriodSeconds: 0',
    '      containers: [{name: main, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]'];
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: [
    ...pod(['apiVersion: apps/v1', 'kind: StatefulSet', 'metadata: {name: evts}', 'spec:', '  replicas: 1', '  serviceName: evts',
      '  selector: {matchLabels: {app: evts}}', '  template:', '    metadata: {labels: {app: evts}}', '    spec:']),
    '---',
    ...pod(['apiVersion: apps/v1', 'kind: DaemonSet', 'metadata: {name: evtd}', 'spec:',
      '  selector: {matchLabels: {app: evtd}}', '  template:', '    metadata: {labels: {app: evtd}}', '    spec:']),
  ].join('\n') + '\n' });
  await waitFor(async () => ((await events('statefulset', 'evts')).includes('create Pod evts-0 in StatefulSet evts successful') ? true : undefined), { what: 'the StatefulSet event' });
  await waitFor(async () => (/SuccessfulCreate\s+DaemonSet\/evtd\s+Created pod: evtd-/.test(await events('daemonset', 'evtd')) ? true : undefined), { what: 'the DaemonSet event' });
  await kubectlOk(s, ['delete', 'deployment/evt', 'statefulset/evts', 'daemonset/evtd', '-n', ns]);
});

test('ReplicationController: keeps its replicas, scales, shows in get rc, its pods go with it; apply --prune works with the default allowlist', async () => {
  const rc = (replicas: number) => [
    'apiVersion: v1', 'kind: ReplicationController', 'metadata: {name: legacy}', 'spec:', `  replicas: ${replicas}`,
    '  template:', '    metadata: {labels: {app: legacy}}', '    spec:', '      terminationGracePeriodSeconds: 0',
    '      containers: [{name: main, image: busybox:latest, imagePullPolicy: IfNotPresent, command: [sleep, "3600"]}]',
  ].join('\n') + '\n';
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: rc(2) });
  const made = await json(['get', 'rc', 'legacy']);
  assert.deepEqual(made.spec.selector, { app: 'legacy' }, 'the selector defaults to the template labels');
  assert.deepEqual(made.metadata.labels, { app: 'legacy' });
  await waitFor(async () => ((await json(['get', 'rc', 'legacy'])).status?.readyReplicas === 2 ? true : undefined), { what: '2 ready replicas' });
  const pods = (await json(['get', 'pods', '-l', 'app=legacy'])).items;
  assert.equal(pods.length, 2);
  assert.deepEqual(pods.map((p: any) => [p.metadata.ownerReferences[0].kind, p.metadata.ownerReferences[0].apiVersion]), [['ReplicationController', 'v1'], ['ReplicationController', 'v1']]);
  assert.match((await kubectlOk(s, ['get', 'rc', '-n', ns])).stdout, /^legacy\s+2\s+2\s+2\s+\S+$/m);
  await kubectlOk(s, ['scale', 'rc/legacy', '-n', ns, '--replicas=1']);
  await waitFor(async () => ((await json(['get', 'pods', '-l', 'app=legacy'])).items.filter((p: any) => !p.metadata.deletionTimestamp).length === 1 ? true : undefined), { what: 'one pod after scale' });
  await kubectlOk(s, ['delete', 'rc', 'legacy', '-n', ns]);
  await waitFor(async () => ((await json(['get', 'pods', '-l', 'app=legacy'])).items.length === 0 ? true : undefined), { what: 'its pods gone' });

  // kubectl's default prune allowlist includes ReplicationController: without it the RESTMapping fails.
  const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, labels: {set: pr}}\ndata: {a: b}\n`;
  await kubectlOk(s, ['apply', '-n', ns, '-l', 'set=pr', '--prune', '-f', '-'], { input: `${cm('p1')}---\n${cm('p2')}` });
  const pruned = await kubectlOk(s, ['apply', '-n', ns, '-l', 'set=pr', '--prune', '-f', '-'], { input: cm('p1') });
  assert.match(pruned.stdout, /configmap\/p2 pruned/);
  assert.equal((await kubectl(s, ['get', 'cm', 'p2', '-n', ns])).code, 1);
  await kubectlOk(s, ['delete', 'cm', 'p1', '-n', ns]);
});
