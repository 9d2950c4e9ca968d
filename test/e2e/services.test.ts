// Services on the one Docker network, driven by real kubectl: DNS names that reach every ready
// replica, port -> targetPort, Endpoints/EndpointSlices, NodePort and LoadBalancer on 127.0.0.1.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { after, before, test } from 'node:test';
import { docker, freePort, kubectl, kubectlOk, startServer, uniqueName, waitFor, type Server } from './harness.ts';

let s: Server;
let ns: string;
let other: string;
before(async () => {
  s = await startServer();
  ns = uniqueName('svc');
  other = uniqueName('svc-other');
  await kubectlOk(s, ['create', 'namespace', ns]);
  await kubectlOk(s, ['create', 'namespace', other]);
  // web: 3 replicas answering their own pod name on 8080 (named port "http").
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: web('web', 3) });
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: client('client') });
  await kubectlOk(s, ['apply', '-n', other, '-f', '-'], { input: client('client') });
  await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=120s'], { timeoutMs: 130_000 });
  await kubectlOk(s, ['wait', '-n', ns, '--for=condition=Ready', 'pod/client', '--timeout=120s'], { timeoutMs: 130_000 });
  await kubectlOk(s, ['wait', '-n', other, '--for=condition=Ready', 'pod/client', '--timeout=120s'], { timeoutMs: 130_000 });
});
after(async () => {
  await s?.stop();
});

function web(name: string, replicas: number, extraLabels = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name}${extraLabels} } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: busybox:latest
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'mkdir -p /www && echo "$(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www']
        ports: [{ name: http, containerPort: 8080 }]
        readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
`;
}

function client(name: string): string {
  return `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: [sleep, '3600']
`;
}

const svc = (name: string, type: string, selector: string, ports: string, extra = '') => `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec:
  type: ${type}
  selector: { app: ${selector} }
  ports: ${ports}
${extra}`;

/** Distinct answers of `count` requests to url, made from inside the client pod of namespace. */
async function answers(namespace: string, url: string, count = 30): Promise<Set<string>> {
  const r = await kubectl(s, ['exec', '-n', namespace, 'client', '--', 'sh', '-c',
    `for i in $(seq 1 ${count}); do wget -q -O - ${url} 2>&1; done`], { timeoutMs: 120_000 });
  return new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean));
}

const webPods = async (): Promise<string[]> => JSON.parse((await kubectlOk(s, ['get', 'pods', '-n', ns, '-l', 'app=web', '-o', 'json'])).stdout).items
  .map((p: any) => p.metadata.name as string).sort();

function httpGet(port: number): Promise<string> {
  return new Promise((ok, fail) => {
    const req = get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => (body += d)).on('end', () => ok(body.trim()));
    });
    req.on('error', fail).on('timeout', () => req.destroy(new Error('timeout')));
  });
}

test('ClusterIP Service: defaults, allocated clusterIP, Endpoints and EndpointSlice of the ready pods', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: svc('web', 'ClusterIP', 'web', '[{ name: http, port: 80, targetPort: http }]') });
  const o = JSON.parse((await kubectlOk(s, ['get', 'svc', 'web', '-n', ns, '-o', 'json'])).stdout);
  assert.match(o.spec.clusterIP, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
  assert.deepEqual(o.spec.clusterIPs, [o.spec.clusterIP]);
  assert.deepEqual(o.spec.ipFamilies, ['IPv4']);
  assert.equal(o.spec.ipFamilyPolicy, 'SingleStack');
  assert.equal(o.spec.sessionAffinity, 'None');
  assert.equal(o.spec.internalTrafficPolicy, 'Cluster');
  assert.equal(o.spec.ports[0].protocol, 'TCP');
  const pods = await webPods();
  const ep = await waitFor(async () => {
    const e = JSON.parse((await kubectlOk(s, ['get', 'endpoints', 'web', '-n', ns, '-o', 'json'])).stdout);
    return e.subsets?.[0]?.addresses?.length === 3 ? e : undefined;
  }, { timeoutMs: 30_000, what: 'three endpoint addresses' });
  assert.deepEqual(ep.subsets[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(ep.subsets[0].addresses.map((a: any) => a.targetRef.name).sort(), pods);
  const slices = JSON.parse((await kubectlOk(s, ['get', 'endpointslices', '-n', ns, '-l', 'kubernetes.io/service-name=web', '-o', 'json'])).stdout).items;
  assert.equal(slices.length, 1);
  assert.equal(slices[0].addressType, 'IPv4');
  assert.equal(slices[0].metadata.ownerReferences[0].kind, 'Service');
  assert.equal(slices[0].endpoints.length, 3);
  assert.ok(slices[0].endpoints.every((e: any) => e.conditions.ready === true));
  const table = (await kubectlOk(s, ['get', 'endpoints', 'web', '-n', ns])).stdout;
  assert.match(table, /:8080/);
  const described = (await kubectlOk(s, ['describe', 'svc', 'web', '-n', ns])).stdout;
  assert.match(described, /Endpoints:\s+\d+\.\d+\.\d+\.\d+:8080/);
  assert.match(described, /TargetPort:\s+http\/TCP/);
});

test('the Service name reaches every replica: short name, <svc>.<ns>, FQDN from another namespace, port -> targetPort', async () => {
  const pods = await webPods();
  const short = await waitFor(async () => {
    const a = await answers(ns, 'http://web/');
    return pods.every((p: string) => a.has(p)) ? a : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1000, what: 'all three replicas answering http://web/' });
  assert.equal(short.size, 3, [...short].join(' | '));
  const fromOther = await answers(other, `http://web.${ns}/`, 20);
  assert.ok([...fromOther].every((a) => pods.includes(a)), [...fromOther].join(' | '));
  assert.ok(fromOther.size >= 2, [...fromOther].join(' | '));
  const fqdn = await answers(other, `http://web.${ns}.svc.cluster.local:80/`, 10);
  assert.ok([...fqdn].every((a) => pods.includes(a)), [...fqdn].join(' | '));
  const svcSuffix = await answers(other, `http://web.${ns}.svc/`, 5);
  assert.ok([...svcSuffix].every((a) => pods.includes(a)), [...svcSuffix].join(' | '));
  // The short name means this namespace only.
  const none = await kubectl(s, ['exec', '-n', other, 'client', '--', 'sh', '-c', 'wget -q -T 3 -O - http://web/ || echo failed'], { timeoutMs: 60_000 });
  assert.ok(!pods.some((p: string) => none.stdout.includes(p)), none.stdout);
});

test('membership follows scale and readiness without restarting any pod', async () => {
  await kubectlOk(s, ['scale', 'deployment/web', '-n', ns, '--replicas=1']);
  await waitFor(async () => {
    const e = JSON.parse((await kubectlOk(s, ['get', 'endpoints', 'web', '-n', ns, '-o', 'json'])).stdout);
    return e.subsets?.[0]?.addresses?.length === 1 && !e.subsets[0].notReadyAddresses;
  }, { timeoutMs: 60_000, what: 'one endpoint address after scale to 1' });
  const [only] = await waitFor(async () => { const p = await webPods(); return p.length === 1 ? p : undefined; }, { timeoutMs: 60_000 });
  const restarts = async () => JSON.parse((await kubectlOk(s, ['get', 'pod', only, '-n', ns, '-o', 'json'])).stdout).status.containerStatuses[0].restartCount;
  const a = await waitFor(async () => { const x = await answers(ns, 'http://web/', 10); return x.size === 1 && x.has(only) ? x : undefined; },
    { timeoutMs: 30_000, intervalMs: 1000, what: 'only the remaining replica answering' });
  assert.deepEqual([...a], [only]);
  // A Service selecting nothing has no addresses and the name stops resolving to the pod.
  await kubectlOk(s, ['patch', 'svc', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"selector":{"app":"nothing"}}}']);
  await waitFor(async () => {
    const e = JSON.parse((await kubectlOk(s, ['get', 'endpoints', 'web', '-n', ns, '-o', 'json'])).stdout);
    return !e.subsets;
  }, { timeoutMs: 30_000, what: 'no endpoints' });
  const gone = await kubectl(s, ['exec', '-n', ns, 'client', '--', 'sh', '-c', 'wget -q -T 3 -O - http://web/ || echo failed'], { timeoutMs: 60_000 });
  assert.ok(!gone.stdout.includes(only), gone.stdout);
  await kubectlOk(s, ['patch', 'svc', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"selector":{"app":"web"}}}']);
  await waitFor(async () => (await answers(ns, 'http://web/', 3)).has(only), { timeoutMs: 30_000, intervalMs: 1000, what: 'the replica back behind the name' });
  assert.equal(await restarts(), 0);
  await kubectlOk(s, ['scale', 'deployment/web', '-n', ns, '--replicas=3']);
  await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=120s'], { timeoutMs: 130_000 });
});

test('NodePort answers on 127.0.0.1 from every ready replica', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: svc('web-np', 'NodePort', 'web', '[{ port: 80, targetPort: 8080 }]') });
  const o = JSON.parse((await kubectlOk(s, ['get', 'svc', 'web-np', '-n', ns, '-o', 'json'])).stdout);
  const nodePort = o.spec.ports[0].nodePort;
  assert.ok(nodePort >= 30000 && nodePort <= 32767, String(nodePort));
  assert.equal(o.spec.externalTrafficPolicy, 'Cluster');
  const pods = await webPods();
  const seen = await waitFor(async () => {
    const got = new Set<string>();
    for (let i = 0; i < 12; i++) got.add(await httpGet(nodePort));
    return pods.every((p: string) => got.has(p)) ? got : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1000, what: `every replica on 127.0.0.1:${nodePort}` });
  assert.equal(seen.size, 3);
  assert.match((await kubectlOk(s, ['get', 'svc', 'web-np', '-n', ns])).stdout, new RegExp(`80:${nodePort}/TCP`));
});

test('a NodePort keeps listening through a rolling restart: no connection refused, new replicas answer', async () => {
  const nodePort = JSON.parse((await kubectlOk(s, ['get', 'svc', 'web-np', '-n', ns, '-o', 'json'])).stdout).spec.ports[0].nodePort;
  const before = new Set(await webPods());
  const errors = new Map<string, number>();
  const answered = new Set<string>();
  let ok = 0;
  let done = false;
  // Bounded: at most 3000 requests and 120 s, one at a time.
  const load = (async () => {
    const until = Date.now() + 120_000;
    for (let i = 0; i < 3000 && !done && Date.now() < until; i++) {
      try {
        answered.add(await httpGet(nodePort));
        ok++;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        errors.set(code, (errors.get(code) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await kubectlOk(s, ['rollout', 'restart', 'deployment/web', '-n', ns]);
    await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=120s'], { timeoutMs: 130_000 });
    const after = await waitFor(async () => { const p = await webPods(); return p.length === 3 && p.every((x) => !before.has(x)) ? p : undefined; },
      { timeoutMs: 60_000, what: 'three new replicas and the old ones gone' });
    await waitFor(async () => (after.every((p) => answered.has(p)) ? true : undefined), { timeoutMs: 30_000, intervalMs: 200, what: `every new replica answering on ${nodePort}` });
  } finally {
    done = true;
    await load;
  }
  const summary = `${ok} answered, errors: ${JSON.stringify(Object.fromEntries(errors))}`;
  console.log(`[services] NodePort through a rolling restart: ${summary}`);
  assert.equal(errors.get('ECONNREFUSED') ?? 0, 0, summary);
  assert.ok(ok >= 50, summary);
});

test('kubectl replace of a Service manifest without clusterIP keeps the allocated address (helm upgrade --force does this)', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: svc('replaced', 'ClusterIP', 'web', '[{ port: 80, targetPort: 8080 }]') });
  const ip = JSON.parse((await kubectlOk(s, ['get', 'svc', 'replaced', '-n', ns, '-o', 'json'])).stdout).spec.clusterIP;
  await kubectlOk(s, ['replace', '-n', ns, '-f', '-'], { input: svc('replaced', 'ClusterIP', 'web', '[{ port: 81, targetPort: 8080 }]') });
  const after = JSON.parse((await kubectlOk(s, ['get', 'svc', 'replaced', '-n', ns, '-o', 'json'])).stdout);
  assert.equal(after.spec.clusterIP, ip);
  assert.equal(after.spec.ports[0].port, 81);
  await kubectlOk(s, ['delete', 'svc', 'replaced', '-n', ns]);
});

test('nodePort validation: out of range and already allocated are 422 naming the field', async () => {
  const bad = await kubectl(s, ['apply', '-n', ns, '-f', '-'], { input: svc('bad-np', 'NodePort', 'web', '[{ port: 80, nodePort: 80 }]') });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /spec\.ports\[0\]\.nodePort: Invalid value: 80: provided port is not in the valid range\. The range of valid ports is 30000-32767/);
  const taken = JSON.parse((await kubectlOk(s, ['get', 'svc', 'web-np', '-n', ns, '-o', 'json'])).stdout).spec.ports[0].nodePort;
  const dup = await kubectl(s, ['apply', '-n', other, '-f', '-'], { input: svc('dup-np', 'NodePort', 'web', `[{ port: 80, nodePort: ${taken} }]`) });
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, new RegExp(`spec\\.ports\\[0\\]\\.nodePort: Invalid value: ${taken}: provided port is already allocated`));
  const none = await kubectl(s, ['get', 'svc', 'dup-np', '-n', other]);
  assert.notEqual(none.code, 0);
});

test('LoadBalancer: the Service port on 127.0.0.1 and the host address in status', async () => {
  const port = await freePort();
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: svc('web-lb', 'LoadBalancer', 'web', `[{ port: ${port}, targetPort: http }]`) });
  const o = await waitFor(async () => {
    const x = JSON.parse((await kubectlOk(s, ['get', 'svc', 'web-lb', '-n', ns, '-o', 'json'])).stdout);
    return x.status?.loadBalancer?.ingress?.length ? x : undefined;
  }, { timeoutMs: 60_000, what: 'loadBalancer ingress' });
  assert.deepEqual(o.status.loadBalancer.ingress, [{ ip: '127.0.0.1', ipMode: 'VIP' }]);
  const pods = await webPods();
  const seen = await waitFor(async () => {
    const got = new Set<string>();
    for (let i = 0; i < 12; i++) got.add(await httpGet(port));
    return pods.every((p: string) => got.has(p)) ? got : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1000, what: `every replica on 127.0.0.1:${port}` });
  assert.equal(seen.size, 3);
  assert.match((await kubectlOk(s, ['get', 'svc', 'web-lb', '-n', ns])).stdout, /127\.0\.0\.1/);
  const proxies = async () => (await docker(['ps', '-aq', '--filter', `label=k2d.io/instance=${s.instance}`, '--filter', 'label=k2d.io/service-name=web-lb'])).stdout.trim().split('\n').filter(Boolean);
  assert.equal((await proxies()).length, 2, 'a front publishing the port and one slot holding the backends');
  await kubectlOk(s, ['delete', 'svc', 'web-lb', '-n', ns]);
  await waitFor(async () => { try { await httpGet(port); return false; } catch { return true; } }, { timeoutMs: 30_000, what: 'the port closed after delete' });
  await waitFor(async () => ((await proxies()).length === 0 ? true : undefined), { timeoutMs: 30_000, what: 'the proxy containers removed' });
});

test('same Service name in two namespaces: each resolves to its own pods', async () => {
  await kubectlOk(s, ['apply', '-n', other, '-f', '-'], { input: web('web', 1) });
  await kubectlOk(s, ['apply', '-n', other, '-f', '-'], { input: svc('web', 'ClusterIP', 'web', '[{ port: 80, targetPort: 8080 }]') });
  await kubectlOk(s, ['rollout', 'status', 'deployment/web', '-n', other, '--timeout=120s'], { timeoutMs: 130_000 });
  const otherPod = JSON.parse((await kubectlOk(s, ['get', 'pods', '-n', other, '-l', 'app=web', '-o', 'json'])).stdout).items[0].metadata.name;
  const mine = await waitFor(async () => { const a = await answers(other, 'http://web/', 5); return a.size === 1 && a.has(otherPod) ? a : undefined; },
    { timeoutMs: 60_000, intervalMs: 1000, what: 'the other namespace\'s web' });
  assert.deepEqual([...mine], [otherPod]);
  const theirs = await answers(ns, 'http://web/', 10);
  assert.ok(!theirs.has(otherPod), [...theirs].join(' | '));
  await kubectlOk(s, ['delete', 'deployment/web', 'svc/web', '-n', other, '--wait=true']);
});

test('headless Service: pod names by hostname/subdomain, and an ExternalName alias', async () => {
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: `apiVersion: v1
kind: Service
metadata: { name: db }
spec:
  clusterIP: None
  selector: { app: db }
  ports: [{ port: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: db-0, labels: { app: db } }
spec:
  hostname: db-0
  subdomain: db
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:latest
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'mkdir -p /www && echo "$(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www']
---
apiVersion: v1
kind: Service
metadata: { name: db-alias }
spec:
  type: ExternalName
  externalName: db.${ns}.svc.cluster.local
` });
  const h = JSON.parse((await kubectlOk(s, ['get', 'svc', 'db', '-n', ns, '-o', 'json'])).stdout);
  assert.equal(h.spec.clusterIP, 'None');
  await kubectlOk(s, ['wait', '-n', ns, '--for=condition=Ready', 'pod/db-0', '--timeout=120s'], { timeoutMs: 130_000 });
  const own = await waitFor(async () => { const a = await answers(other, `http://db-0.db.${ns}.svc.cluster.local:8080/`, 2); return a.size === 1 && a.has('db-0') ? a : undefined; },
    { timeoutMs: 60_000, intervalMs: 1000, what: 'db-0.db answering' });
  assert.deepEqual([...own], ['db-0']);
  const viaAlias = await waitFor(async () => { const a = await answers(ns, 'http://db-alias:8080/', 2); return a.size === 1 ? a : undefined; },
    { timeoutMs: 30_000, intervalMs: 1000, what: 'db-alias answering' });
  assert.deepEqual([...viaAlias], ['db-0']);
  const ep = JSON.parse((await kubectlOk(s, ['get', 'endpoints', 'db', '-n', ns, '-o', 'json'])).stdout);
  assert.equal(ep.subsets[0].addresses[0].hostname, 'db-0');
});

test('the kubernetes Service exists in default, and a Service without selector keeps its hand-made Endpoints', async () => {
  const k = JSON.parse((await kubectlOk(s, ['get', 'svc', 'kubernetes', '-n', 'default', '-o', 'json'])).stdout);
  assert.equal(k.spec.clusterIP, '10.96.0.1');
  assert.equal(k.spec.ports[0].port, 443);
  await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], { input: `apiVersion: v1
kind: Service
metadata: { name: manual }
spec:
  ports: [{ port: 5432 }]
---
apiVersion: v1
kind: Endpoints
metadata: { name: manual }
subsets:
- addresses: [{ ip: 192.0.2.10 }]
  ports: [{ port: 5432 }]
` });
  await new Promise((r) => setTimeout(r, 500));
  const ep = JSON.parse((await kubectlOk(s, ['get', 'endpoints', 'manual', '-n', ns, '-o', 'json'])).stdout);
  assert.equal(ep.subsets[0].addresses[0].ip, '192.0.2.10');
  // clusterIP may not change once set
  const r = await kubectl(s, ['patch', 'svc', 'manual', '-n', ns, '--type=merge', '-p', '{"spec":{"clusterIP":"10.96.5.5","clusterIPs":["10.96.5.5"]}}']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /spec\.clusterIPs\[0\]: Invalid value: \[\]string\{"10\.96\.5\.5"\}: may not change once set|may not change once set/);
});
