// PersistentVolumeClaims on Docker named volumes, driven by real kubectl against a real engine:
// the default class, binding, data that outlives its pod, and both reclaim policies.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { docker, kubectl, kubectlOk, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
before(async () => {
  s = await startServer();
  ns = uniqueName('storage');
  await kubectlOk(s, ['create', 'namespace', ns]);
});
after(async () => { await s?.stop(); });

const yaml = (lines: string[]) => lines.join('\n') + '\n';
const IMAGE = 'busybox:latest';
const getJson = async (args: string[]) => JSON.parse((await kubectlOk(s, [...args, '-o', 'json'])).stdout);
const volumeExists = async (name: string) => (await docker(['volume', 'inspect', name])).code === 0;

const claimYaml = (name: string, extra: string[] = []) => [
  'apiVersion: v1', 'kind: PersistentVolumeClaim', `metadata: {name: ${name}}`, 'spec:',
  '  accessModes: [ReadWriteOnce]', '  resources: {requests: {storage: 1Gi}}', ...extra,
];
const podYaml = (name: string, claim: string, command: string) => [
  'apiVersion: v1', 'kind: Pod', `metadata: {name: ${name}}`, 'spec:',
  '  volumes:', '  - name: data', `    persistentVolumeClaim: {claimName: ${claim}}`,
  '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent',
  `    command: ["sh", "-c", ${JSON.stringify(command)}]`, '    volumeMounts: [{name: data, mountPath: /data}]',
];

test('kubectl get sc shows the default local class', async () => {
  const table = await kubectlOk(s, ['get', 'sc']);
  assert.match(table.stdout, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE$/m);
  assert.match(table.stdout, /^local \(default\)\s+k2d\.io\/local\s+Delete\s+Immediate\s+false\s+\S+$/m);
  const old = await kubectlOk(s, ['get', 'storageclasses'], { version: '1.31' });
  assert.match(old.stdout, /^local \(default\)\s+k2d\.io\/local/m);
});

test('a PVC binds to a Docker volume; its data survives deleting and recreating the pod; Delete removes PV and volume', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    ...claimYaml('data'), '---',
    ...podYaml('writer', 'data', 'echo written-by-writer > /data/note && sleep 3600'),
  ]) });
  const pvc = await getJson(['get', 'pvc', 'data', '-n', ns]);
  assert.equal(pvc.status.phase, 'Bound');
  assert.equal(pvc.spec.storageClassName, 'local');
  const pvName = pvc.spec.volumeName;
  assert.equal(pvName, `pvc-${pvc.metadata.uid}`);
  assert.deepEqual(pvc.metadata.finalizers, ['kubernetes.io/pvc-protection']);
  assert.equal(pvc.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
  assert.equal(pvc.metadata.annotations['volume.kubernetes.io/storage-provisioner'], 'k2d.io/local');

  const claims = await kubectlOk(s, ['get', 'pvc', '-n', ns]);
  assert.match(claims.stdout, /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE$/m);
  assert.match(claims.stdout, new RegExp(`^data\\s+Bound\\s+${pvName}\\s+1Gi\\s+RWO\\s+local\\s+<unset>\\s+\\S+$`, 'm'));
  const pvs = await kubectlOk(s, ['get', 'pv', pvName]);
  assert.match(pvs.stdout, new RegExp(`^${pvName}\\s+1Gi\\s+RWO\\s+Delete\\s+Bound\\s+${ns}/data\\s+local\\s+<unset>\\s+\\S*\\s+\\S+$`, 'm'));
  const describe = await kubectlOk(s, ['describe', 'pv', pvName]);
  assert.match(describe.stdout, /LocalVolume/);

  const vol = JSON.parse((await docker(['volume', 'inspect', pvName])).stdout)[0];
  assert.equal(vol.Labels['k2d.io/instance'], s.instance);
  assert.equal(vol.Labels['k2d.io/pvc-namespace'], ns);
  assert.equal(vol.Labels['k2d.io/pvc-name'], 'data');
  assert.equal(vol.Labels['k2d.io/pv'], pvName);

  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/writer', '-n', ns, '--timeout=60s']);
  await waitFor(async () => (await kubectl(s, ['exec', 'writer', '-n', ns, '--', 'cat', '/data/note'])).stdout === 'written-by-writer\n', { what: 'the note written' });
  await kubectlOk(s, ['delete', 'pod', 'writer', '-n', ns, '--grace-period=1']);
  assert.ok(await volumeExists(pvName), 'the claim\'s volume outlives the pod');

  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml(podYaml('reader', 'data', 'sleep 3600')) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/reader', '-n', ns, '--timeout=60s']);
  assert.equal((await kubectlOk(s, ['exec', 'reader', '-n', ns, '--', 'cat', '/data/note'])).stdout, 'written-by-writer\n');

  // pvc-protection: the claim waits for its pod.
  await kubectlOk(s, ['delete', 'pvc', 'data', '-n', ns, '--wait=false']);
  const terminating = await getJson(['get', 'pvc', 'data', '-n', ns]);
  assert.ok(terminating.metadata.deletionTimestamp);
  assert.match((await kubectlOk(s, ['get', 'pvc', 'data', '-n', ns])).stdout, /^data\s+Terminating\s/m);
  assert.ok(await volumeExists(pvName));
  await kubectlOk(s, ['delete', 'pod', 'reader', '-n', ns, '--grace-period=1']);
  await waitFor(async () => (await kubectl(s, ['get', 'pvc', 'data', '-n', ns])).code === 1, { what: 'the claim to go' });
  await waitFor(async () => (await kubectl(s, ['get', 'pv', pvName])).code === 1, { what: 'the PV to go' });
  await waitFor(async () => !(await volumeExists(pvName)), { what: 'the Docker volume to go' });
});

test('a Retain class: deleting the claim leaves the PV Released and the Docker volume with its data', async () => {
  await kubectlOk(s, ['apply', '-f', '-'], { input: yaml([
    'apiVersion: storage.k8s.io/v1', 'kind: StorageClass', `metadata: {name: ${ns}-keep}`,
    'provisioner: k2d.io/local', 'reclaimPolicy: Retain',
  ]) });
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    ...claimYaml('kept', [`  storageClassName: ${ns}-keep`]), '---',
    ...podYaml('keeper', 'kept', 'echo kept > /data/note && sleep 3600'),
  ]) });
  const pvc = await getJson(['get', 'pvc', 'kept', '-n', ns]);
  assert.equal(pvc.status.phase, 'Bound');
  const pvName = pvc.spec.volumeName;
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/keeper', '-n', ns, '--timeout=60s']);
  await waitFor(async () => (await kubectl(s, ['exec', 'keeper', '-n', ns, '--', 'cat', '/data/note'])).stdout === 'kept\n', { what: 'the note written' });
  await kubectlOk(s, ['delete', 'pod', 'keeper', '-n', ns, '--grace-period=1']);
  await kubectlOk(s, ['delete', 'pvc', 'kept', '-n', ns]);
  const released = await waitFor(async () => {
    const pv = await getJson(['get', 'pv', pvName]);
    return pv.status.phase === 'Released' ? pv : undefined;
  }, { what: 'the PV Released' });
  assert.equal(released.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(released.spec.claimRef.name, 'kept');
  assert.match((await kubectlOk(s, ['get', 'pv', pvName])).stdout, new RegExp(`^${pvName}\\s+1Gi\\s+RWO\\s+Retain\\s+Released\\s+${ns}/kept\\s+${ns}-keep\\s`, 'm'));
  assert.ok(await volumeExists(pvName), 'Retain keeps the data');
  // The data is still in the volume: read it with a plain container (labelled for cleanup).
  const cat = await docker(['run', '--rm', '--label', 'k2d.test=1', '--label', `k2d.io/instance=${s.instance}`, '-v', `${pvName}:/data`, IMAGE, 'cat', '/data/note']);
  assert.equal(cat.stdout, 'kept\n');
  // Deleting a PV never deletes the storage behind it.
  await kubectlOk(s, ['delete', 'pv', pvName]);
  assert.ok(await volumeExists(pvName));
  await docker(['volume', 'rm', pvName]);
  await kubectlOk(s, ['delete', 'sc', `${ns}-keep`]);
});

test('invalid claims are refused with the apiserver\'s messages', async () => {
  const r = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: PersistentVolumeClaim', 'metadata: {name: bad}', 'spec: {resources: {}}',
  ]) });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec\.accessModes: Required value: at least 1 access mode is required/);
  assert.match(r.stderr, /spec\.resources\[storage\]: Required value/);
});
