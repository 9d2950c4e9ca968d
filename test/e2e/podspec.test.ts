// PodSpec fields the translator maps, checked from inside the running containers (kubectl exec)
// against a real engine, with real kubectl; docker inspect only where nothing inside shows it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { docker, kubectl, kubectlOk, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
let hostDir: string;
before(async () => {
  s = await startServer();
  ns = uniqueName('podspec');
  hostDir = mkdtempSync(join(tmpdir(), 'k2d-podspec-'));
  await kubectlOk(s, ['create', 'namespace', ns]);
});
after(async () => {
  await s?.stop();
  if (hostDir) rmSync(hostDir, { recursive: true, force: true });
});

const IMAGE = 'busybox:latest';
const yaml = (lines: string[]) => lines.join('\n') + '\n';
const apply = (lines: string[]) => kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: yaml(lines) });
const getPod = async (name: string) => JSON.parse((await kubectlOk(s, ['get', 'pod', name, '-n', ns, '-o', 'json'])).stdout);
const ready = (...names: string[]) => kubectlOk(s, ['wait', '--for=condition=Ready', ...names.map((n) => `pod/${n}`), '-n', ns, '--timeout=60s']);
const sh = async (pod: string, cmd: string, container?: string) =>
  (await kubectlOk(s, ['exec', pod, ...(container ? ['-c', container] : []), '-n', ns, '--', 'sh', '-c', cmd])).stdout;
const del = (...names: string[]) => kubectlOk(s, ['delete', 'pod', ...names, '-n', ns, '--grace-period=0', '--force', '--ignore-not-found']);
const header = (name: string, spec: string[] = []) => ['apiVersion: v1', 'kind: Pod', 'metadata:', `  name: ${name}`, 'spec:', '  terminationGracePeriodSeconds: 0', ...spec];
const ctr = (name: string, cmd = '["sleep", "3600"]') => [`  - name: ${name}`, `    image: ${IMAGE}`, '    imagePullPolicy: IfNotPresent', `    command: ${cmd}`];
/** The pod once fn(pod) holds. */
const podWhen = (name: string, fn: (p: any) => unknown, what: string, timeoutMs = 60_000) =>
  waitFor(async () => { const p = await getPod(name); return fn(p) ? p : undefined; }, { timeoutMs, what });

test('hostNetwork, hostPID, hostIPC: the pod shares the host\'s namespaces; an ordinary pod does not', async () => {
  await apply(header('hostns', ['  hostNetwork: true', '  hostPID: true', '  hostIPC: true', '  containers:', ...ctr('main')]));
  await apply(header('plainns', ['  containers:', ...ctr('main')]));
  await ready('hostns', 'plainns');
  const hostNs = (k: string) => readlinkSync(`/proc/self/ns/${k}`);
  const inside = async (pod: string) => (await sh(pod, 'for n in net pid ipc; do readlink /proc/self/ns/$n; done')).trim().split('\n');
  assert.deepEqual(await inside('hostns'), [hostNs('net'), hostNs('pid'), hostNs('ipc')]);
  const plain = await inside('plainns');
  for (const [i, k] of ['net', 'pid', 'ipc'].entries()) assert.notEqual(plain[i], hostNs(k), `an ordinary pod has its own ${k} namespace`);
  // The host's processes are visible: this very server, by its pid.
  assert.match(await sh('hostns', `tr '\\0' ' ' < /proc/${s.pid}/cmdline`), /k2d\.js/);
  assert.notEqual((await kubectl(s, ['exec', 'plainns', '-n', ns, '--', 'test', '-e', `/proc/${s.pid}/cmdline`])).code, 0, 'an ordinary pod does not see the server');
  // The host's interfaces and name.
  const ifaces = (await sh('hostns', 'ls /sys/class/net')).trim().split(/\s+/);
  for (const i of readdirSync('/sys/class/net').filter((n) => !n.startsWith('veth'))) assert.ok(ifaces.includes(i), `host interface ${i} seen inside (${ifaces})`);
  assert.equal((await sh('hostns', 'hostname')).trim(), hostname());
  const pod = await getPod('hostns');
  assert.ok(pod.status.hostIP);
  assert.equal(pod.status.podIP, pod.status.hostIP);
  assert.notEqual((await getPod('plainns')).status.podIP, pod.status.hostIP);
  await del('hostns', 'plainns');
});

test('dnsPolicy None with dnsConfig, hostAliases, hostname and subdomain', async () => {
  await apply(header('dns', [
    '  hostname: myhost', '  subdomain: mysub', '  dnsPolicy: "None"',
    '  dnsConfig:', '    nameservers: ["192.0.2.53"]', '    searches: [one.example, two.example]',
    '    options: [{name: ndots, value: "2"}, {name: edns0}]',
    '  hostAliases:', '  - ip: 192.0.2.10', '    hostnames: [foo.local, bar.local]',
    '  containers:', ...ctr('main'),
  ]));
  await ready('dns');
  const resolv = await sh('dns', 'cat /etc/resolv.conf');
  // On a user-defined network the engine's embedded DNS (127.0.0.11) is the pod's nameserver and
  // forwards to the configured ones: only the sandbox's config shows them.
  assert.match(resolv, /^nameserver (192\.0\.2\.53|127\.0\.0\.11)$/m);
  assert.match(resolv, /^search one\.example two\.example$/m);
  assert.match(resolv, /^options .*\bndots:2\b/m);
  assert.match(resolv, /^options .*\bedns0\b/m);
  assert.doesNotMatch(resolv, /svc\.cluster\.local/, 'dnsPolicy None: no cluster search list');
  const hosts = await sh('dns', 'cat /etc/hosts');
  assert.match(hosts, /^192\.0\.2\.10\s+foo\.local$/m);
  assert.match(hosts, /^192\.0\.2\.10\s+bar\.local$/m);
  const pod = await getPod('dns');
  assert.match(hosts, new RegExp(`^${pod.status.podIP.replace(/\./g, '\\.')}\\s+myhost\\.mysub\\.${ns}\\.svc\\.cluster\\.local\\s+myhost$`, 'm'));
  assert.equal((await sh('dns', 'hostname')).trim(), 'myhost');
  const sandbox = (await docker(['ps', '-q', '--filter', `label=io.kubernetes.pod.uid=${pod.metadata.uid}`, '--filter', 'label=io.kubernetes.docker.type=podsandbox'])).stdout.trim();
  assert.ok(sandbox, 'the pod sandbox');
  assert.deepEqual(JSON.parse((await docker(['inspect', sandbox, '--format', '{{json .HostConfig.Dns}}'])).stdout), ['192.0.2.53']);
  await del('dns');
});

test('securityContext: capabilities add/drop, readOnlyRootFilesystem, allowPrivilegeEscalation, groups, sysctls, runAsGroup', async () => {
  await apply(header('sec', [
    '  securityContext:',
    '    runAsUser: 1000', '    runAsGroup: 3000', '    fsGroup: 2000', '    supplementalGroups: [4000, 4001]',
    '    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "100"}]',
    '  volumes:', '  - name: scratch', '    emptyDir: {}',
    '  containers:',
    ...ctr('admin'), '    securityContext: {runAsUser: 0, capabilities: {add: [NET_ADMIN]}}',
    ...ctr('locked'), '    securityContext: {runAsUser: 0, capabilities: {drop: [ALL]}, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false}',
    '    volumeMounts: [{name: scratch, mountPath: /scratch}]',
    ...ctr('user'),
  ]));
  await ready('sec');
  const status = async (c: string) => Object.fromEntries((await sh('sec', 'cat /proc/self/status', c)).split('\n').map((l) => l.split(/:\s+/)));
  const NET_ADMIN = 1n << 12n;
  const admin = await status('admin');
  assert.notEqual(BigInt(`0x${admin.CapEff}`) & NET_ADMIN, 0n, `CapEff ${admin.CapEff} has NET_ADMIN`);
  assert.equal(admin.NoNewPrivs, '0');
  // NET_ADMIN lets it change an interface of the pod's own network namespace.
  await sh('sec', 'ip link set lo mtu 60000 && cat /sys/class/net/lo/mtu', 'admin');
  const locked = await status('locked');
  assert.equal(locked.CapEff, '0000000000000000');
  assert.equal(locked.CapBnd, '0000000000000000');
  assert.equal(locked.NoNewPrivs, '1');
  const lockedIp = await kubectl(s, ['exec', 'sec', '-c', 'locked', '-n', ns, '--', 'ip', 'link', 'set', 'lo', 'mtu', '65536']);
  assert.notEqual(lockedIp.code, 0, 'without NET_ADMIN the interface cannot be changed');
  const ro = await kubectl(s, ['exec', 'sec', '-c', 'locked', '-n', ns, '--', 'touch', '/written']);
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  await sh('sec', 'echo ok > /scratch/f && cat /scratch/f', 'locked');
  assert.equal(await sh('sec', 'cat /scratch/f', 'locked'), 'ok\n');
  // Pod-level user, group, fsGroup and supplemental groups.
  assert.equal((await sh('sec', 'id -u; id -g', 'user')).trim(), '1000\n3000');
  const groups = (await sh('sec', 'id -G', 'user')).trim().split(/\s+/);
  for (const g of ['3000', '2000', '4000', '4001']) assert.ok(groups.includes(g), `group ${g} in ${groups}`);
  assert.equal((await sh('sec', 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start', 'user')).trim(), '100');
  // The sysctl lets the non-root user listen on a port from 100 up, not below.
  const listen = (port: number) => sh('sec', `timeout 1 nc -l -p ${port} 2>&1; true`, 'user');
  assert.doesNotMatch(await listen(200), /denied/);
  assert.match(await listen(50), /Permission denied/);
  await del('sec');
});

test('projected volume (configMap + secret + downwardAPI, items and modes), subPath of a configMap and of an emptyDir', async () => {
  await kubectlOk(s, ['create', 'configmap', 'proj-cm', '-n', ns, '--from-literal=a=alpha', '--from-literal=b=beta']);
  await kubectlOk(s, ['create', 'secret', 'generic', 'proj-sec', '-n', ns, '--from-literal=token=t0k3n']);
  await apply(header('proj', [
    '  volumes:',
    '  - name: all', '    projected:', '      defaultMode: 0440', '      sources:',
    '      - configMap: {name: proj-cm, items: [{key: a, path: cfg/a.txt, mode: 0600}]}',
    '      - secret: {name: proj-sec, items: [{key: token, path: sec/token}]}',
    '      - downwardAPI: {items: [{path: meta/name, fieldRef: {fieldPath: metadata.name}}, {path: meta/ns, fieldRef: {fieldPath: metadata.namespace}}]}',
    '  - name: cm', '    configMap: {name: proj-cm}',
    '  - name: work', '    emptyDir: {}',
    '  containers:',
    ...ctr('main', '["sh", "-c", "echo from-main > /data/made && sleep 3600"]'),
    '    volumeMounts:',
    '    - {name: all, mountPath: /etc/all}',
    '    - {name: cm, mountPath: /etc/b.conf, subPath: b}',
    '    - {name: work, mountPath: /data, subPath: sub/dir}',
    ...ctr('whole'),
    '    volumeMounts: [{name: work, mountPath: /work}]',
  ]));
  await ready('proj');
  assert.equal(await sh('proj', 'cat /etc/all/cfg/a.txt /etc/all/sec/token /etc/all/meta/name /etc/all/meta/ns', 'main'), `alphat0k3nproj${ns}`);
  assert.equal(await sh('proj', 'stat -L -c %a /etc/all/cfg/a.txt /etc/all/sec/token /etc/all/meta/name', 'main'), '600\n440\n440\n');
  assert.equal(await sh('proj', 'ls /etc/all | sort | tr "\\n" " "', 'main'), 'cfg meta sec ');
  assert.equal(await sh('proj', 'cat /etc/b.conf', 'main'), 'beta');
  assert.equal(await sh('proj', 'test -f /etc/b.conf && echo file', 'main'), 'file\n');
  assert.equal(await sh('proj', 'cat /work/sub/dir/made', 'whole'), 'from-main\n');
  assert.equal(await sh('proj', 'ls /data', 'main'), 'made\n', 'the subPath mount shows only its own directory');
  await del('proj');
});

test('hostPath: DirectoryOrCreate makes the directory on the host; File on a missing path fails the mount', async () => {
  const made = join(hostDir, 'made', 'here');
  const missing = join(hostDir, 'no-such-file');
  writeFileSync(join(hostDir, 'present'), 'from the host\n');
  await apply(header('hp', [
    '  volumes:',
    `  - name: dir`, `    hostPath: {path: ${made}, type: DirectoryOrCreate}`,
    `  - name: file`, `    hostPath: {path: ${join(hostDir, 'present')}, type: File}`,
    '  containers:', ...ctr('main'), '    volumeMounts: [{name: dir, mountPath: /made}, {name: file, mountPath: /present}]',
  ]));
  await apply(header('hp-missing', [
    '  volumes:', `  - name: file`, `    hostPath: {path: ${missing}, type: File}`,
    '  containers:', ...ctr('main'), '    volumeMounts: [{name: file, mountPath: /present}]',
  ]));
  await ready('hp');
  assert.ok(statSync(made).isDirectory());
  await sh('hp', 'echo from-pod > /made/x');
  assert.equal(readFileSync(join(made, 'x'), 'utf8'), 'from-pod\n');
  assert.equal(await sh('hp', 'cat /present'), 'from the host\n');
  const ev = await waitFor(async () => {
    const r = await kubectlOk(s, ['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=hp-missing,reason=FailedMount', '-o', 'json']);
    return JSON.parse(r.stdout).items[0];
  }, { timeoutMs: 30_000, what: 'a FailedMount event for the missing file' });
  assert.match(ev.message, new RegExp(`hostPath type check failed: ${missing} is not a file`));
  const p = await getPod('hp-missing');
  assert.equal(p.status.phase, 'Pending');
  assert.equal(p.status.containerStatuses?.[0]?.state?.waiting?.reason ?? 'ContainerCreating', 'ContainerCreating');
  assert.equal(existsSync(missing), false, 'nothing was created at the missing path');
  await del('hp', 'hp-missing');
  // The container may have written as root; the after hook removes hostDir.
});

test('resources: limits and requests reach the container\'s cgroup', async () => {
  await apply(header('res', ['  containers:', ...ctr('main'),
    '    resources: {limits: {memory: 64Mi, cpu: 500m}, requests: {memory: 32Mi, cpu: 250m}}']));
  await ready('res');
  const pod = await getPod('res');
  const id = pod.status.containerStatuses[0].containerID.replace('docker://', '');
  const hc = JSON.parse((await docker(['inspect', id, '--format', '{{json .HostConfig}}'])).stdout);
  assert.equal(hc.Memory, 64 * 1024 * 1024);
  assert.equal(hc.MemoryReservation, 32 * 1024 * 1024);
  assert.equal(hc.CpuShares, 256);
  assert.equal(hc.CpuQuota * 1000 / hc.CpuPeriod + (hc.NanoCpus ?? 0) / 1e6, 500);
  // The same numbers as the container sees them (cgroup v1 or v2).
  const cg = await sh('res', 'if [ -f /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight; else cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares; fi');
  const v = cg.trim().split(/\s+/).map(Number);
  assert.equal(v[0], 64 * 1024 * 1024);
  assert.equal(v[1] / v[2], 0.5);
  if (v.length === 4) assert.equal(v[3], 256);
  assert.equal(pod.status.qosClass, 'Burstable');
  await del('res');
});

test('kubectl attach -i to a container with stdin; kubectl run -i --rm returns the output and removes the pod', async () => {
  await apply(header('att', ['  restartPolicy: Never', '  containers:', ...ctr('main', '["sh"]'), '    stdin: true', '    stdinOnce: true']));
  await ready('att');
  const att = await kubectl(s, ['attach', '-i', 'att', '-n', ns], { input: 'echo attached-$((6*7))\nexit 0\n', timeoutMs: 30_000 });
  assert.equal(att.code, 0, att.stderr);
  assert.match(att.stdout, /^attached-42$/m);
  await podWhen('att', (p) => p.status.phase === 'Succeeded', 'the attached shell to exit');
  const run = await kubectl(s, ['run', 'once', '-n', ns, '-i', '--rm', '--restart=Never', `--image=${IMAGE}`, '--image-pull-policy=IfNotPresent', '--', 'sh', '-c', 'echo run-output-$((2+3))'], { timeoutMs: 60_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^run-output-5$/m);
  assert.match(run.stdout, /pod "once" deleted/);
  await waitFor(async () => (await kubectl(s, ['get', 'pod', 'once', '-n', ns])).code === 1, { timeoutMs: 30_000, what: 'the run pod gone' });
  await del('att');
});

test('terminationMessagePath and FallbackToLogsOnError fill state.terminated.message', async () => {
  await apply(header('msg', ['  restartPolicy: Never', '  containers:',
    ...ctr('custom', '["sh", "-c", "echo logs-not-used; printf custom-path > /tmp/msg; exit 2"]'), '    terminationMessagePath: /tmp/msg',
    ...ctr('fallback', '["sh", "-c", "echo first; echo last words; exit 3"]'), '    terminationMessagePolicy: FallbackToLogsOnError',
    ...ctr('quiet', '["sh", "-c", "echo quiet; exit 0"]'), '    terminationMessagePolicy: FallbackToLogsOnError',
  ]));
  const pod = await podWhen('msg', (p) => p.status.containerStatuses?.length === 3 && p.status.containerStatuses.every((c: any) => c.state.terminated), 'all containers to end');
  const by = Object.fromEntries(pod.status.containerStatuses.map((c: any) => [c.name, c.state.terminated]));
  assert.equal(by.custom.message, 'custom-path');
  assert.equal(by.custom.exitCode, 2);
  assert.equal(by.fallback.message, 'first\nlast words\n');
  assert.equal(by.quiet.message, undefined, 'the logs stand in only for a failure');
  assert.equal(pod.status.phase, 'Failed');
  await del('msg');
});

test('restartPolicy OnFailure and Never; activeDeadlineSeconds fails the pod with DeadlineExceeded', async () => {
  await apply(header('onf-ok', ['  restartPolicy: OnFailure', '  containers:', ...ctr('main', '["sh", "-c", "exit 0"]')]));
  await apply(header('onf-bad', ['  restartPolicy: OnFailure', '  containers:', ...ctr('main', '["sh", "-c", "exit 1"]')]));
  await apply(header('never-bad', ['  restartPolicy: Never', '  containers:', ...ctr('main', '["sh", "-c", "exit 1"]')]));
  await apply(header('deadline', ['  activeDeadlineSeconds: 3', '  containers:', ...ctr('main')]));
  const ok = await podWhen('onf-ok', (p) => p.status.phase === 'Succeeded', 'onf-ok Succeeded');
  assert.equal(ok.status.containerStatuses[0].restartCount, 0);
  assert.equal(ok.status.containerStatuses[0].state.terminated.reason, 'Completed');
  const bad = await podWhen('onf-bad', (p) => p.status.containerStatuses?.[0]?.restartCount >= 1, 'onf-bad restarted');
  assert.equal(bad.status.phase, 'Running');
  const never = await podWhen('never-bad', (p) => p.status.phase === 'Failed', 'never-bad Failed');
  assert.equal(never.status.containerStatuses[0].restartCount, 0);
  assert.equal(never.status.containerStatuses[0].state.terminated.exitCode, 1);
  const dl = await podWhen('deadline', (p) => p.status.phase === 'Failed', 'the deadline pod Failed', 30_000);
  assert.equal(dl.status.reason, 'DeadlineExceeded');
  assert.match(dl.status.message, /Pod was active on the node longer than the specified deadline/);
  assert.ok(dl.status.containerStatuses[0].state.terminated, 'its container was stopped');
  // ok still has not restarted after all of that
  assert.equal((await getPod('onf-ok')).status.containerStatuses[0].restartCount, 0);
  await del('onf-ok', 'onf-bad', 'never-bad', 'deadline');
});
