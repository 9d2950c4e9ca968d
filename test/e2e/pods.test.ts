// Pods as Docker containers, driven by real kubectl against a real engine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { docker, kubectl, kubectlOk, request, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
before(async () => {
  s = await startServer();
  ns = uniqueName('pods');
  await kubectlOk(s, ['create', 'namespace', ns]);
});
after(async () => { await s?.stop(); });

const yaml = (lines: string[]) => lines.join('\n') + '\n';
const getPod = async (name: string) => JSON.parse((await kubectlOk(s, ['get', 'pod', name, '-n', ns, '-o', 'json'])).stdout);
const IMAGE = 'busybox:latest';

test('kubectl run: the pod runs as labelled Docker containers, shows Running, and deletes with a grace period', async () => {
  await kubectlOk(s, ['run', 'web', '-n', ns, `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--', 'sh', '-c', 'echo hello from web; trap "exit 0" TERM; while true; do sleep 1; done']);
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/web', '-n', ns, '--timeout=60s']);
  const pod = await getPod('web');
  assert.equal(pod.status.phase, 'Running');
  assert.match(pod.status.containerStatuses[0].containerID, /^docker:\/\/[0-9a-f]{64}$/);
  assert.equal(pod.status.containerStatuses[0].ready, true);
  assert.ok(pod.status.podIP);
  assert.equal(pod.status.qosClass, 'BestEffort');
  assert.equal(pod.spec.nodeName.length > 0, true);
  const ps = await docker(['ps', '--filter', `label=io.kubernetes.pod.uid=${pod.metadata.uid}`, '--format', '{{.Names}}']);
  const names = ps.stdout.trim().split('\n').sort();
  assert.deepEqual(names, [`k8s_POD_web_${ns}_${pod.metadata.uid}_0`, `k8s_web_web_${ns}_${pod.metadata.uid}_0`]);
  const table = await kubectlOk(s, ['get', 'pods', '-n', ns]);
  assert.match(table.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
  assert.match(table.stdout, /^web\s+1\/1\s+Running\s+0\s+/m);
  const logs = await kubectlOk(s, ['logs', 'web', '-n', ns]);
  assert.equal(logs.stdout, 'hello from web\n');
  const describe = await kubectlOk(s, ['describe', 'pod', 'web', '-n', ns]);
  assert.match(describe.stdout, /Started\s+.*Started container web/);
  await kubectlOk(s, ['delete', 'pod', 'web', '-n', ns, '--grace-period=5']);
  assert.equal((await kubectl(s, ['get', 'pod', 'web', '-n', ns])).code, 1);
  const left = await docker(['ps', '-a', '--filter', `label=io.kubernetes.pod.uid=${pod.metadata.uid}`, '-q']);
  assert.equal(left.stdout.trim(), '');
});

test('exec: stdin piped through, the remote exit code returned', async () => {
  await kubectlOk(s, ['run', 'sh', '-n', ns, `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--', 'sleep', '3600']);
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/sh', '-n', ns, '--timeout=60s']);
  const cat = await kubectlOk(s, ['exec', '-i', 'sh', '-n', ns, '--', 'cat'], { input: 'piped text\n' });
  assert.equal(cat.stdout, 'piped text\n');
  const code = await kubectl(s, ['exec', 'sh', '-n', ns, '--', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
  assert.equal(code.code, 7);
  assert.equal(code.stdout, 'out\n');
  assert.match(code.stderr, /err/);
  for (const v of ['1.31', '1.27'] as const) {
    const old = await kubectl(s, ['exec', 'sh', '-n', ns, '--', 'sh', '-c', 'echo old; exit 3'], { version: v }).catch(() => undefined);
    if (!old) continue; // 1.27 comes from the machine and may be absent
    assert.equal(old.code, 3, `kubectl ${v}: ${old.stderr}`);
    assert.equal(old.stdout, 'old\n');
  }
  await kubectlOk(s, ['delete', 'pod', 'sh', '-n', ns, '--grace-period=1']);
});

test('a crash-looping container shows CrashLoopBackOff, a growing restartCount and --previous logs', async () => {
  await kubectlOk(s, ['run', 'crash', '-n', ns, `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--', 'sh', '-c', 'echo run $(date +%s); exit 1']);
  const pod = await waitFor(async () => {
    const p = await getPod('crash');
    const cs = p.status.containerStatuses?.[0];
    return cs?.restartCount >= 1 && cs.state.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
  }, { timeoutMs: 60_000, what: 'CrashLoopBackOff' });
  assert.equal(pod.status.containerStatuses[0].lastState.terminated.exitCode, 1);
  assert.equal(pod.status.containerStatuses[0].lastState.terminated.reason, 'Error');
  const prev = await kubectlOk(s, ['logs', 'crash', '-n', ns, '--previous']);
  assert.match(prev.stdout, /^run \d+\n$/);
  const table = await kubectlOk(s, ['get', 'pod', 'crash', '-n', ns]);
  assert.match(table.stdout, /crash\s+0\/1\s+(CrashLoopBackOff|Error)\s+[1-9]/);
  await kubectlOk(s, ['delete', 'pod', 'crash', '-n', ns, '--grace-period=1']);
});

test('an image that is not on the engine: ErrImagePull, then ImagePullBackOff', async () => {
  await kubectlOk(s, ['run', 'noimg', '-n', ns, '--image=k2d.invalid/nothing:1', '--image-pull-policy=IfNotPresent']);
  const seen = new Set<string>();
  await waitFor(async () => {
    const p = await getPod('noimg');
    const r = p.status.containerStatuses?.[0]?.state?.waiting?.reason;
    if (r) seen.add(r);
    return seen.has('ErrImagePull') && seen.has('ImagePullBackOff');
  }, { timeoutMs: 60_000, intervalMs: 200, what: `ErrImagePull then ImagePullBackOff (seen ${[...seen]})` });
  const ev = await kubectlOk(s, ['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=noimg']);
  assert.match(ev.stdout, /Failed to pull image/);
  // kubectl logs says why there is nothing, in kubelet's words for the waiting reason.
  const logs = await kubectl(s, ['logs', 'noimg', '-n', ns]);
  assert.notEqual(logs.code, 0);
  assert.match(logs.stderr, /container "noimg" in pod "noimg" is waiting to start: (trying and failing to pull image|image can't be pulled)/);
  await kubectlOk(s, ['delete', 'pod', 'noimg', '-n', ns, '--grace-period=0', '--force']);
});

test('an 8 Mi memory limit exceeded: OOMKilled', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: oom', 'spec:', '  restartPolicy: Never', '  containers:',
    '  - name: hog', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent',
    '    command: ["sh", "-c", "x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while true; do x=$x$x; done"]',
    '    resources:', '      limits:', '        memory: 8Mi',
  ]) });
  // The engine may report the exit a moment before it marks the container OOM-killed (its oom
  // event can follow the die event); the status follows that event.
  const pod = await waitFor(async () => {
    const p = await getPod('oom');
    return p.status.containerStatuses?.[0]?.state?.terminated?.reason === 'OOMKilled' ? p : undefined;
  }, { timeoutMs: 60_000, what: 'the container to be OOM-killed' });
  assert.equal(pod.status.containerStatuses[0].state.terminated.exitCode, 137);
  assert.equal(pod.status.phase, 'Failed');
  await kubectlOk(s, ['delete', 'pod', 'oom', '-n', ns, '--grace-period=1']);
});

test('two containers talk over localhost; init containers run first and in order', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: duo', 'spec:',
    '  volumes:', '  - name: shared', '    emptyDir: {}',
    '  initContainers:',
    '  - name: first', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sh", "-c", "echo first >> /data/order"]', '    volumeMounts: [{name: shared, mountPath: /data}]',
    '  - name: second', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sh", "-c", "echo second >> /data/order"]', '    volumeMounts: [{name: shared, mountPath: /data}]',
    '  containers:',
    '  - name: server', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sh", "-c", "mkdir -p /www && cp /data/order /www/index.html && httpd -f -p 8080 -h /www"]', '    volumeMounts: [{name: shared, mountPath: /data}]',
    '  - name: client', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sleep", "3600"]',
  ]) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/duo', '-n', ns, '--timeout=60s']);
  const got = await waitFor(async () => {
    const r = await kubectl(s, ['exec', 'duo', '-c', 'client', '-n', ns, '--', 'sh', '-c', 'timeout 3 wget -qO- http://127.0.0.1:8080/']);
    return r.code === 0 ? r.stdout : undefined;
  }, { what: 'the server answering on localhost' });
  assert.equal(got, 'first\nsecond\n');
  const pod = await getPod('duo');
  assert.deepEqual(pod.status.initContainerStatuses.map((c: any) => c.state.terminated?.reason), ['Completed', 'Completed']);
  // kubectl picks a default container itself; the API answers as the apiserver does.
  const noName = await request(s, 'GET', `/api/v1/namespaces/${ns}/pods/duo/log`);
  assert.equal(noName.status, 400);
  assert.match(noName.body.message, /a container name must be specified for pod duo, choose one of: \[server client\] or one of the init containers: \[first second\]/);
  assert.equal((await kubectlOk(s, ['logs', 'duo', '-c', 'first', '-n', ns])).stdout, '');
  await kubectlOk(s, ['delete', 'pod', 'duo', '-n', ns, '--grace-period=1']);
});

test('a ConfigMap change reaches the mounted file of a running pod', async () => {
  await kubectlOk(s, ['create', 'configmap', 'conf', '-n', ns, '--from-literal=greeting=hello']);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: reader', 'spec:',
    '  volumes:', '  - name: conf', '    configMap:', '      name: conf',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sleep", "3600"]',
    '    volumeMounts: [{name: conf, mountPath: /etc/conf}]',
    '    env:', '    - name: GREETING', '      valueFrom:', '        configMapKeyRef: {name: conf, key: greeting}',
  ]) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/reader', '-n', ns, '--timeout=60s']);
  const read = async () => (await kubectlOk(s, ['exec', 'reader', '-n', ns, '--', 'cat', '/etc/conf/greeting'])).stdout;
  assert.equal(await read(), 'hello');
  assert.equal((await kubectlOk(s, ['exec', 'reader', '-n', ns, '--', 'sh', '-c', 'echo -n $GREETING'])).stdout, 'hello');
  await kubectlOk(s, ['patch', 'configmap', 'conf', '-n', ns, '--type=merge', '-p', '{"data":{"greeting":"bonjour"}}']);
  await waitFor(async () => (await read()) === 'bonjour', { timeoutMs: 30_000, what: 'the new value in the file' });
  await kubectlOk(s, ['delete', 'pod', 'reader', '-n', ns, '--grace-period=1']);
});

test('a field that cannot run here is refused with 422 naming it', async () => {
  const res = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: nfs', 'spec:',
    '  volumes:', '  - name: remote', '    nfs: {server: nfs.example, path: /x}',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    volumeMounts: [{name: remote, mountPath: /x}]',
  ]) });
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /spec\.volumes\[0\]/);
  assert.equal((await kubectl(s, ['get', 'pod', 'nfs', '-n', ns])).code, 1);
});

test('logs -f follows; cp both ways; exec -it through a pseudo-terminal; port-forward answers curl', async () => {
  const { spawn } = await import('node:child_process');
  const { kubectlPath } = await import('./harness.ts');
  const { mkdtempSync, writeFileSync, readFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  await kubectlOk(s, ['run', 'tools', '-n', ns, `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--',
    'sh', '-c', 'mkdir -p /www && echo served-by-tools > /www/index.html && httpd -p 8080 -h /www && i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.5; done']);
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/tools', '-n', ns, '--timeout=60s']);
  const kc = kubectlPath('1.35')!;
  // logs -f
  const follow = spawn(kc, ['--kubeconfig', s.kubeconfig, 'logs', '-f', 'tools', '-n', ns], { stdio: ['ignore', 'pipe', 'pipe'] });
  let followed = '';
  follow.stdout.on('data', (c) => { followed += c; });
  try {
    await waitFor(() => /tick [3-9]/.test(followed), { timeoutMs: 20_000, what: `followed ticks in ${JSON.stringify(followed)}` });
  } finally {
    follow.kill('SIGTERM');
  }
  const tail = await kubectlOk(s, ['logs', 'tools', '-n', ns, '--tail=1']);
  assert.match(tail.stdout, /^tick \d+\n$/);
  // cp both ways
  const dir = mkdtempSync(join(tmpdir(), 'k2d-cp-'));
  try {
    writeFileSync(join(dir, 'up.txt'), 'uploaded content\n');
    await kubectlOk(s, ['cp', join(dir, 'up.txt'), `${ns}/tools:/tmp/up.txt`]);
    assert.equal((await kubectlOk(s, ['exec', 'tools', '-n', ns, '--', 'cat', '/tmp/up.txt'])).stdout, 'uploaded content\n');
    await kubectlOk(s, ['cp', `${ns}/tools:/www/index.html`, join(dir, 'down.html')]);
    assert.equal(readFileSync(join(dir, 'down.html'), 'utf8'), 'served-by-tools\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // exec -it under a real pseudo-terminal (script(1) gives kubectl a tty)
  const tty = await (await import('./harness.ts')).run('script', ['-qec', `${kc} --kubeconfig ${s.kubeconfig} exec -it tools -n ${ns} -- sh -c 'tty; stty size; exit 9'`, '/dev/null'], { timeoutMs: 30_000, env: { ...process.env, COLUMNS: '101', LINES: '33' } });
  assert.match(tty.stdout, /\/dev\/pts\/\d+/);
  assert.equal(tty.code, 9);
  // port-forward, answered by a plain HTTP client on 127.0.0.1
  const pf = spawn(kc, ['--kubeconfig', s.kubeconfig, 'port-forward', '-n', ns, 'pod/tools', ':8080'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let pfOut = '';
  pf.stdout.on('data', (c) => { pfOut += c; });
  try {
    const port = await waitFor(() => /127\.0\.0\.1:(\d+) ->/.exec(pfOut)?.[1], { timeoutMs: 20_000, what: 'port-forward listening' });
    const body = await waitFor(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
      return r?.ok ? r.text() : undefined;
    }, { timeoutMs: 20_000, what: 'an answer through port-forward' });
    assert.equal(body, 'served-by-tools\n');
  } finally {
    pf.kill('SIGTERM');
  }
  await kubectlOk(s, ['delete', 'pod', 'tools', '-n', ns, '--grace-period=1']);
});

test('a container started by hand with docker run is listed as a Pod; logs, exec and delete work on it', async () => {
  const name = uniqueName('hand');
  const run = await docker(['run', '-d', '--name', name, '--label', 'k2d.test=1', '--label', `k2d.io/namespace=${ns}`, '--label', 'tier=hand',
    IMAGE, 'sh', '-c', 'echo made by hand; sleep 3600']);
  assert.equal(run.code, 0, run.stderr);
  try {
    const pod = await waitFor(async () => {
      const r = await kubectl(s, ['get', 'pod', name, '-n', ns, '-o', 'json']);
      const p = r.code === 0 ? JSON.parse(r.stdout) : undefined;
      return p?.status?.phase === 'Running' ? p : undefined;
    }, { timeoutMs: 20_000, what: 'the hand-made container as a Running pod' });
    assert.equal(pod.metadata.labels.tier, 'hand');
    assert.equal(pod.spec.containers[0].image, IMAGE);
    assert.match(pod.status.containerStatuses[0].containerID, /^docker:\/\//);
    assert.equal((await kubectlOk(s, ['logs', name, '-n', ns])).stdout, 'made by hand\n');
    assert.equal((await kubectlOk(s, ['exec', name, '-n', ns, '--', 'echo', 'inside'])).stdout, 'inside\n');
    await kubectlOk(s, ['delete', 'pod', name, '-n', ns, '--grace-period=1']);
    const gone = await docker(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.ID}} {{.Status}}']);
    // Once seen in CI: the container outlived its pod. What the server said helps the next look.
    assert.equal(gone.stdout.trim(), '', `left behind: ${gone.stdout}\n${s.logs().split('\n').filter((l) => /adopt|warn|error/.test(l)).slice(-20).join('\n')}`);
  } finally {
    await docker(['rm', '-f', name]);
  }
});

test('kubectl 1.31: run, get, logs, exec, delete', async () => {
  const v = '1.31' as const;
  await kubectlOk(s, ['run', 'old', '-n', ns, `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--', 'sh', '-c', 'echo from 1.31; sleep 3600'], { version: v });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/old', '-n', ns, '--timeout=60s'], { version: v });
  const table = await kubectlOk(s, ['get', 'pod', 'old', '-n', ns], { version: v });
  assert.match(table.stdout, /^old\s+1\/1\s+Running\s+0\s+/m);
  assert.equal((await kubectlOk(s, ['logs', 'old', '-n', ns], { version: v })).stdout, 'from 1.31\n');
  const cat = await kubectlOk(s, ['exec', '-i', 'old', '-n', ns, '--', 'cat'], { version: v, input: 'via 1.31\n' });
  assert.equal(cat.stdout, 'via 1.31\n');
  await kubectlOk(s, ['delete', 'pod', 'old', '-n', ns, '--grace-period=1'], { version: v });
  assert.equal((await kubectl(s, ['get', 'pod', 'old', '-n', ns], { version: v })).code, 1);
});

test('runAsNonRoot is checked against the image user; runAsUser runs as that user', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: nonroot', 'spec:',
    '  securityContext: {runAsNonRoot: true}',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sleep", "3600"]',
  ]) });
  const waiting = await waitFor(async () => (await getPod('nonroot')).status.containerStatuses?.[0]?.state?.waiting, { what: 'a waiting reason' });
  assert.equal(waiting.reason, 'CreateContainerConfigError');
  assert.match(waiting.message, /runAsNonRoot/);
  await kubectlOk(s, ['delete', 'pod', 'nonroot', '-n', ns, '--grace-period=0', '--force']);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: asuser', 'spec:',
    '  securityContext: {runAsNonRoot: true, runAsUser: 1234, runAsGroup: 5678}',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sleep", "3600"]',
  ]) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/asuser', '-n', ns, '--timeout=60s']);
  assert.equal((await kubectlOk(s, ['exec', 'asuser', '-n', ns, '--', 'id', '-u'])).stdout.trim(), '1234');
  assert.equal((await kubectlOk(s, ['exec', 'asuser', '-n', ns, '--', 'id', '-g'])).stdout.trim(), '5678');
  await kubectlOk(s, ['delete', 'pod', 'asuser', '-n', ns, '--grace-period=1']);
});

test('lifecycle hooks: postStart runs after start, preStop before the stop', async () => {
  const pod = (name: string, hooks: boolean) => yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata:', `  name: ${name}`, 'spec:',
    '  volumes:', '  - name: data', '    persistentVolumeClaim: {claimName: hooks}',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sleep", "3600"]',
    '    volumeMounts: [{name: data, mountPath: /data}]',
    ...(hooks ? ['    lifecycle:', '      postStart:', '        exec: {command: ["sh", "-c", "echo started > /data/post"]}',
      '      preStop:', '        exec: {command: ["sh", "-c", "echo stopping > /data/pre"]}'] : []),
  ]);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml(['apiVersion: v1', 'kind: PersistentVolumeClaim', 'metadata:', '  name: hooks', 'spec:', '  accessModes: [ReadWriteOnce]', '  resources: {requests: {storage: 10Mi}}']) });
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: pod('hooked', true) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/hooked', '-n', ns, '--timeout=60s']);
  assert.equal((await kubectlOk(s, ['exec', 'hooked', '-n', ns, '--', 'cat', '/data/post'])).stdout, 'started\n');
  await kubectlOk(s, ['delete', 'pod', 'hooked', '-n', ns, '--grace-period=5']);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: pod('after', false) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/after', '-n', ns, '--timeout=60s']);
  assert.equal((await kubectlOk(s, ['exec', 'after', '-n', ns, '--', 'cat', '/data/pre'])).stdout, 'stopping\n');
  await kubectlOk(s, ['delete', 'pod', 'after', '-n', ns, '--grace-period=1']);
  await kubectlOk(s, ['delete', 'pvc', 'hooks', '-n', ns]);
});

test('PodSpec fields: env fieldRef/resourceFieldRef/secretKeyRef, envFrom, downwardAPI and secret volumes, emptyDir Memory, hostPort, sidecar', async () => {
  const { freePort } = await import('./harness.ts');
  const hostPort = await freePort();
  await kubectlOk(s, ['create', 'secret', 'generic', 'creds', '-n', ns, '--from-literal=user=admin', '--from-literal=pass=s3cret']);
  await kubectlOk(s, ['create', 'configmap', 'envs', '-n', ns, '--from-literal=MODE=fast', '--from-literal=LEVEL=3']);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata:', '  name: fields', '  labels: {app: fields, tier: x}', '  annotations: {note: hello}', 'spec:',
    '  volumes:',
    '  - name: info', '    downwardAPI:', '      items:', '      - {path: labels, fieldRef: {fieldPath: metadata.labels}}', '      - {path: name, fieldRef: {fieldPath: metadata.name}}',
    '  - name: creds', '    secret:', '      secretName: creds', '      defaultMode: 0400', '      items: [{key: pass, path: password}]',
    '  - name: scratch', '    emptyDir: {medium: Memory, sizeLimit: 16Mi}',
    '  initContainers:',
    '  - name: sidecar', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    restartPolicy: Always', '    command: ["sh", "-c", "echo sidecar up > /scratch/side; sleep 3600"]',
    '    volumeMounts: [{name: scratch, mountPath: /scratch}]',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent',
    '    command: ["sh", "-c", "mkdir -p /www && echo via-hostport > /www/index.html && exec httpd -f -p 8080 -h /www"]',
    '    ports: [{containerPort: 8080, hostPort: ' + hostPort + '}]',
    '    resources: {limits: {memory: 64Mi, cpu: 500m}, requests: {memory: 32Mi, cpu: 250m}}',
    '    envFrom: [{prefix: CFG_, configMapRef: {name: envs}}]',
    '    env:',
    '    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}',
    '    - {name: POD_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}',
    '    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}',
    '    - {name: NOTE, valueFrom: {fieldRef: {fieldPath: "metadata.annotations[\'note\']"}}}',
    '    - {name: MEM_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}',
    '    - {name: USER, valueFrom: {secretKeyRef: {name: creds, key: user}}}',
    '    - {name: GREETING, value: "hi $(POD_NAME)"}',
    '    volumeMounts: [{name: info, mountPath: /etc/info}, {name: creds, mountPath: /etc/creds}, {name: scratch, mountPath: /scratch}]',
  ]) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/fields', '-n', ns, '--timeout=60s']);
  const pod = await getPod('fields');
  const sh = async (cmd: string) => (await kubectlOk(s, ['exec', 'fields', '-c', 'main', '-n', ns, '--', 'sh', '-c', cmd])).stdout;
  assert.equal(await sh('echo "$POD_NAME $POD_NS $NOTE $MEM_LIMIT $USER $CFG_MODE $CFG_LEVEL"'), `fields ${ns} hello 64 admin fast 3\n`);
  assert.equal(await sh('echo $POD_IP'), `${pod.status.podIP}\n`);
  assert.equal(await sh('echo $GREETING'), 'hi fields\n');
  assert.match(await sh('cat /etc/info/labels'), /app="fields"/);
  assert.equal(await sh('cat /etc/info/name'), 'fields');
  assert.equal(await sh('cat /etc/creds/password'), 's3cret');
  assert.equal(await sh('stat -L -c %a /etc/creds/password'), '400\n');
  assert.match(await sh('grep " /scratch " /proc/mounts'), /tmpfs/);
  assert.equal(await sh('cat /scratch/side'), 'sidecar up\n', 'the sidecar runs beside the main container');
  assert.equal(pod.status.qosClass, 'Burstable');
  const sidecar = pod.status.initContainerStatuses[0];
  assert.equal(sidecar.name, 'sidecar');
  assert.ok(sidecar.state.running, 'a restartPolicy: Always init container keeps running');
  const body = await waitFor(async () => {
    const r = await fetch(`http://127.0.0.1:${hostPort}/`).catch(() => undefined);
    return r?.ok ? r.text() : undefined;
  }, { what: 'the hostPort answering on 127.0.0.1' });
  assert.equal(body, 'via-hostport\n');
  await kubectlOk(s, ['delete', 'pod', 'fields', '-n', ns, '--grace-period=1']);
});

test('a deleted pod gets its whole grace period: a TERM handler of half a second finishes with grace 1', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: PersistentVolumeClaim', 'metadata: {name: grace-data}', 'spec:', '  accessModes: [ReadWriteOnce]', '  resources: {requests: {storage: 1Mi}}',
    '---',
    'apiVersion: v1', 'kind: Pod', 'metadata: {name: graceful}', 'spec:', '  terminationGracePeriodSeconds: 1',
    '  volumes: [{name: d, persistentVolumeClaim: {claimName: grace-data}}]',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    volumeMounts: [{name: d, mountPath: /d}]',
    '    command: ["sh", "-c", "trap \'usleep 500000; echo clean > /d/exit; exit 0\' TERM; echo up > /d/exit; while true; do sleep 0.1; done"]',
  ]) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/graceful', '-n', ns, '--timeout=60s']);
  await kubectlOk(s, ['delete', 'pod', 'graceful', '-n', ns]);
  const out = await kubectlOk(s, ['run', 'grace-read', '-n', ns, '-i', '--rm', '--restart=Never', `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent',
    '--overrides', JSON.stringify({ spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'grace-data' } }], containers: [{ name: 'grace-read', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['cat', '/d/exit'], volumeMounts: [{ name: 'd', mountPath: '/d' }] }] } })], { timeoutMs: 60_000 });
  assert.match(out.stdout, /^clean$/m, 'the TERM handler ran to its end before the kill');
  await kubectlOk(s, ['delete', 'pvc', 'grace-data', '-n', ns]);
});

test('a pod no Service selects keeps its sandbox connected: no reconnect however often it is synced', async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata: {name: steady, labels: {app: steady}}', 'spec:', '  terminationGracePeriodSeconds: 0',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sleep", "3600"]',
    '    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}',
  ]) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/steady', '-n', ns, '--timeout=60s']);
  // More syncs: a label change and an exec.
  await kubectlOk(s, ['label', 'pod', 'steady', '-n', ns, 'extra=1']);
  await kubectlOk(s, ['exec', 'steady', '-n', ns, '--', 'true']);
  await new Promise((r) => setTimeout(r, 2000));
  const pod = await getPod('steady');
  const sandbox = (await docker(['ps', '-q', '--no-trunc', '--filter', `label=io.kubernetes.pod.uid=${pod.metadata.uid}`, '--filter', 'label=k2d.io/kind=sandbox'])).stdout.trim();
  assert.ok(sandbox);
  const ev = await docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000)), '--filter', 'type=network', '--filter', 'event=disconnect', '--format', '{{.Actor.Attributes.container}}']);
  assert.equal(ev.code, 0, ev.stderr);
  assert.ok(!ev.stdout.includes(sandbox), 'the sandbox was disconnected from the pod network');
  await kubectlOk(s, ['delete', 'pod', 'steady', '-n', ns]);
});

test('kubectl describe node shows allocatable, the pods on it and the images on the engine', async () => {
  await kubectlOk(s, ['run', 'counted', '-n', ns, `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--', 'sleep', '3600']);
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/counted', '-n', ns, '--timeout=60s']);
  const out = await kubectlOk(s, ['describe', 'node']);
  assert.match(out.stdout, /Allocatable:\s+cpu:\s+\d+/);
  assert.match(out.stdout, /Non-terminated Pods:\s+\(\d+ in total\)/);
  assert.match(out.stdout, new RegExp(`${ns}\\s+counted`));
  // The node's heartbeat Lease, renewed as the Node is read.
  assert.match(out.stdout, /Lease:\s+HolderIdentity:\s+\S+\s+AcquireTime:\s+<unset>\s+RenewTime:\s+\w{3}, \d/);
  const node = JSON.parse((await kubectlOk(s, ['get', 'nodes', '-o', 'json'])).stdout).items[0];
  assert.ok(node.status.images.some((i: { names: string[] }) => i.names.some((n) => n.startsWith('busybox'))), 'images on the engine');
  await kubectlOk(s, ['delete', 'pod', 'counted', '-n', ns, '--grace-period=1']);
});

test('a sandbox that cannot start (hostPort taken) leaves the pod Pending with the reason as an event', async () => {
  const { freePort } = await import('./harness.ts');
  const port = await freePort();
  const pod = (name: string) => yaml(['apiVersion: v1', 'kind: Pod', 'metadata:', `  name: ${name}`, 'spec:', '  containers:',
    '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sleep", "3600"]', `    ports: [{containerPort: 80, hostPort: ${port}}]`]);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: pod('first-port') });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/first-port', '-n', ns, '--timeout=60s']);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: pod('second-port') });
  const ev = await waitFor(async () => {
    const r = await kubectlOk(s, ['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=second-port,reason=FailedCreatePodSandBox', '-o', 'json']);
    return JSON.parse(r.stdout).items[0];
  }, { timeoutMs: 30_000, what: 'a FailedCreatePodSandBox event' });
  assert.match(ev.message, /Failed to create pod sandbox/);
  const p = await getPod('second-port');
  assert.equal(p.status.phase, 'Pending');
  await kubectlOk(s, ['delete', 'pod', 'first-port', 'second-port', '-n', ns, '--grace-period=1']);
});

test('kubectl debug (1.35 and 1.31): an ephemeral container joins the target process namespace, takes piped stdin, shows in status; the subresource validates', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata: {name: debugee}', 'spec:', '  terminationGracePeriodSeconds: 0',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sleep", "3600"]',
  ]) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/debugee', '-n', ns, '--timeout=60s']);
  for (const version of ['1.35', '1.31'] as const) {
    const r = await kubectlOk(s, ['debug', 'debugee', '-n', ns, '-i', `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--target=main',
      '--', 'sh', '-c', 'read x; echo "got $x"; ps -o pid,args'], { version, input: `from ${version}\n`, timeoutMs: 60_000 });
    assert.match(r.stdout, new RegExp(`^got from ${version.replace('.', '\\.')}$`, 'm'), r.stdout);
    assert.match(r.stdout, /^\s+1 sleep 3600$/m, `the target's process is PID 1 in the debugger's view\n${r.stdout}`);
  }
  const pod = await waitFor(async () => {
    const p = await getPod('debugee');
    return p.status.ephemeralContainerStatuses?.length === 2 && p.status.ephemeralContainerStatuses.every((c: any) => c.state.terminated) ? p : undefined;
  }, { what: 'both ephemeral containers terminated in status' });
  assert.equal(pod.spec.ephemeralContainers.length, 2);
  assert.equal(pod.spec.ephemeralContainers[0].targetContainerName, 'main');
  for (const c of pod.status.ephemeralContainerStatuses) {
    assert.equal(c.ready, false);
    assert.equal(c.state.terminated.reason, 'Completed');
    assert.match(c.containerID, /^docker:\/\/[0-9a-f]{64}$/);
  }
  assert.equal(pod.status.phase, 'Running', 'ephemeral containers do not change the phase');
  assert.equal(pod.status.containerStatuses[0].restartCount, 0);
  const first = pod.spec.ephemeralContainers[0].name;
  assert.match((await kubectlOk(s, ['logs', 'debugee', '-n', ns, '-c', first])).stdout, /^got from 1\.35$/m);
  assert.match((await kubectlOk(s, ['describe', 'pod', 'debugee', '-n', ns])).stdout, new RegExp(`Ephemeral Containers:\\n  ${first}:`));

  const patch = (type: string, body: string) => kubectl(s, ['patch', 'pod', 'debugee', '-n', ns, '--subresource=ephemeralcontainers', `--type=${type}`, '-p', body]);
  const bad = await patch('strategic', JSON.stringify({ spec: { ephemeralContainers: [{ name: 'bad', image: IMAGE, ports: [{ containerPort: 80 }], targetContainerName: 'nope' }] } }));
  assert.notEqual(bad.code, 0);
  // A strategic merge patch without $setElementOrder puts the new item first, as upstream's does.
  assert.match(bad.stderr, /spec\.ephemeralContainers\[0\]\.targetContainerName: Not found: "nope"/);
  assert.match(bad.stderr, /spec\.ephemeralContainers\[0\]\.ports: Forbidden: cannot be set for an Ephemeral Container/);
  const removed = await patch('json', '[{"op":"remove","path":"/spec/ephemeralContainers/0"}]');
  assert.match(removed.stderr, new RegExp(`spec\\.ephemeralContainers: Forbidden: existing ephemeral containers "${first}" may not be removed`));
  const created = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata: {name: eph-on-create}', 'spec:', `  containers: [{name: a, image: ${IMAGE}}]`, `  ephemeralContainers: [{name: b, image: ${IMAGE}}]`,
  ]) });
  assert.match(created.stderr, /spec\.ephemeralContainers: Forbidden: cannot be set on create/);
  await kubectlOk(s, ['delete', 'pod', 'debugee', '-n', ns]);
  await waitFor(async () => ((await docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.uid=${pod.metadata.uid}`])).stdout.trim() === '' ? true : undefined),
    { what: 'the debuggers removed with the pod' });
});

test('a pod exported from a real cluster, with its kube-api-access projected volume, runs: every namespace has kube-root-ca.crt', async () => {
  const cm = JSON.parse((await kubectlOk(s, ['get', 'cm', 'kube-root-ca.crt', '-n', ns, '-o', 'json'])).stdout);
  assert.match(cm.data['ca.crt'], /^-----BEGIN CERTIFICATE-----\n/);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml([
    'apiVersion: v1', 'kind: Pod', 'metadata: {name: exported}', 'spec:', '  terminationGracePeriodSeconds: 0',
    '  containers:', '  - name: main', `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', '    command: ["sleep", "3600"]',
    '    volumeMounts: [{name: kube-api-access-x7k2p, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}]',
    '  volumes:', '  - name: kube-api-access-x7k2p', '    projected:', '      defaultMode: 420', '      sources:',
    '      - serviceAccountToken: {expirationSeconds: 3607, path: token}',
    '      - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}',
    '      - downwardAPI: {items: [{path: namespace, fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}]}',
  ]) });
  await kubectlOk(s, ['wait', '--for=condition=Ready', 'pod/exported', '-n', ns, '--timeout=60s']);
  const sh = async (cmd: string) => (await kubectlOk(s, ['exec', 'exported', '-n', ns, '--', 'sh', '-c', cmd])).stdout;
  assert.equal(await sh('cat /var/run/secrets/kubernetes.io/serviceaccount/namespace'), ns);
  assert.equal(await sh('cat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt'), cm.data['ca.crt']);
  await kubectlOk(s, ['delete', 'pod', 'exported', '-n', ns]);
});
