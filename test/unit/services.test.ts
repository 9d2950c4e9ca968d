import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KObject } from '../../src/machinery/types.ts';
import {
  backends, endpointsFor, inClusterTarget, podAliases, podRelays, podServing, proxyPorts, resolveTargetPort, sliceFor,
} from '../../src/translate/services.ts';
import { defaultService } from '../../src/api/services.ts';
import { frontHash, slotHash, slotPorts } from '../../src/docker/proxy.ts';

type Obj = Record<string, any>;

const svc = (name: string, spec: Obj, ns = 'app'): KObject => ({ metadata: { name, namespace: ns, uid: `u-${name}` }, spec } as KObject);
const pod = (name: string, labels: Obj, opts: { ready?: boolean; ip?: string; spec?: Obj; status?: Obj; deleting?: boolean; ns?: string } = {}): KObject => ({
  metadata: { name, namespace: opts.ns ?? 'app', uid: `p-${name}`, labels, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080 }] }], ...opts.spec },
  status: opts.status ?? {
    phase: 'Running', podIP: opts.ip ?? '172.18.0.5',
    containerStatuses: [{ name: 'main', ready: !!opts.ready }],
    conditions: [{ type: 'Ready', status: opts.ready ? 'True' : 'False' }],
  },
} as KObject);

test('defaultService: type, affinity, protocol, targetPort, traffic policies', () => {
  const s = svc('x', { type: 'LoadBalancer', ports: [{ port: 80 }, { port: 81, targetPort: 'http' }] });
  defaultService(s);
  const sp = s.spec as Obj;
  assert.equal(sp.sessionAffinity, 'None');
  assert.deepEqual(sp.ports, [{ port: 80, protocol: 'TCP', targetPort: 80 }, { port: 81, targetPort: 'http', protocol: 'TCP' }]);
  assert.equal(sp.externalTrafficPolicy, 'Cluster');
  assert.equal(sp.internalTrafficPolicy, 'Cluster');
  assert.equal(sp.allocateLoadBalancerNodePorts, true);
  const e = svc('e', { type: 'ExternalName', externalName: 'x.example' });
  defaultService(e);
  assert.equal((e.spec as Obj).internalTrafficPolicy, undefined);
});

test('aliases: ready pods of selecting Services; unready and terminating ones none', () => {
  const services = [svc('web', { selector: { app: 'web' }, ports: [{ port: 80 }] }), svc('other', { selector: { app: 'x' } }), svc('web', { selector: { app: 'web' } }, 'elsewhere')];
  assert.deepEqual(podAliases(pod('a', { app: 'web' }, { ready: true }), services), ['web.app.svc.cluster.local']);
  assert.deepEqual(podAliases(pod('b', { app: 'web' }, { ready: false }), services), []);
  assert.deepEqual(podAliases(pod('c', { app: 'web' }, { ready: true, deleting: true }), services), []);
  // Not reported yet and no readiness probe: counts as ready (named at sandbox creation).
  assert.deepEqual(podAliases(pod('d', { app: 'web' }, { status: {} }), services), ['web.app.svc.cluster.local']);
  const probed = pod('e', { app: 'web' }, { status: {}, spec: { containers: [{ name: 'm', readinessProbe: { exec: { command: ['true'] } } }] } });
  assert.deepEqual(podAliases(probed, services), []);
  const pub = [svc('web', { selector: { app: 'web' }, publishNotReadyAddresses: true })];
  assert.deepEqual(podAliases(pod('f', { app: 'web' }, { ready: false }), pub), ['web.app.svc.cluster.local']);
});

test('aliases: hostname.subdomain under a headless Service; ExternalName naming an in-cluster Service', () => {
  const services = [
    svc('db', { clusterIP: 'None', selector: { app: 'db' } }),
    svc('db-alias', { type: 'ExternalName', externalName: 'db.app.svc.cluster.local' }, 'other'),
    svc('ext', { type: 'ExternalName', externalName: 'example.com' }),
  ];
  const p = pod('db-0', { app: 'db' }, { ready: true, spec: { hostname: 'db-0', subdomain: 'db' } });
  assert.deepEqual(podAliases(p, services), ['db-0.db.app.svc.cluster.local', 'db-alias.other.svc.cluster.local', 'db.app.svc.cluster.local']);
  assert.deepEqual(inClusterTarget('db.app.svc.cluster.local.'), ['db', 'app']);
  assert.equal(inClusterTarget('db.app'), undefined);
  assert.equal(inClusterTarget('example.com'), undefined);
  assert.equal(inClusterTarget('a.b.c.d'), undefined);
});

test('targetPort: number, numeric string, container port name, missing name', () => {
  const p = pod('a', { app: 'web' });
  assert.equal(resolveTargetPort({ port: 80, targetPort: 9000 }, p), 9000);
  assert.equal(resolveTargetPort({ port: 80, targetPort: '9001' }, p), 9001);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 'http' }, p), 8080);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 'nope' }, p), undefined);
  assert.equal(resolveTargetPort({ port: 80 }, p), 80);
});

test('relays: only where port and targetPort differ, TCP, not for headless', () => {
  const services = [
    svc('web', { selector: { app: 'web' }, ports: [{ name: 'a', port: 80, targetPort: 'http', protocol: 'TCP' }, { name: 'b', port: 8080, targetPort: 8080, protocol: 'TCP' }, { name: 'c', port: 53, targetPort: 5353, protocol: 'UDP' }] }),
    svc('h', { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 81, targetPort: 8080 }] }),
  ];
  assert.deepEqual(podRelays(pod('a', { app: 'web' }), services), [{ port: 80, target: 8080 }]);
});

test('Endpoints and EndpointSlice: ready and not-ready addresses, ports resolved, terminating flagged', () => {
  const s = svc('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] });
  const pods = [
    pod('a', { app: 'web' }, { ready: true, ip: '172.18.0.10' }),
    pod('b', { app: 'web' }, { ready: false, ip: '172.18.0.9' }),
    pod('c', { app: 'web' }, { ready: true, ip: '172.18.0.11', deleting: true }),
    pod('d', { app: 'web' }, { ready: true, status: { phase: 'Pending' } }),
    pod('e', { app: 'other' }, { ready: true, ip: '172.18.0.12' }),
  ];
  const list = backends(s, pods);
  assert.deepEqual(list.map((b) => b.pod.metadata.name), ['b', 'a', 'c']);
  const ep = endpointsFor(s, list, 'node1') as Obj;
  assert.deepEqual(ep.subsets, [{
    addresses: [{ ip: '172.18.0.10', nodeName: 'node1', targetRef: { kind: 'Pod', namespace: 'app', name: 'a', uid: 'p-a' } }],
    notReadyAddresses: [{ ip: '172.18.0.9', nodeName: 'node1', targetRef: { kind: 'Pod', namespace: 'app', name: 'b', uid: 'p-b' } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }]);
  const sl = sliceFor(s, list, 'node1');
  assert.deepEqual(sl.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(sl.endpoints.map((e) => [e.addresses[0], e.conditions]), [
    ['172.18.0.9', { ready: false, serving: false, terminating: false }],
    ['172.18.0.10', { ready: true, serving: true, terminating: false }],
    ['172.18.0.11', { ready: false, serving: true, terminating: true }],
  ]);
  assert.equal(sl.labels['kubernetes.io/service-name'], 'web');
  const empty = endpointsFor(s, [], 'node1') as Obj;
  assert.equal(empty.subsets, undefined);
});

test('proxy ports: NodePort publishes the nodePort, LoadBalancer the port too, only ready backends', () => {
  const pods = [pod('a', { app: 'web' }, { ready: true, ip: '172.18.0.10' }), pod('b', { app: 'web' }, { ready: false, ip: '172.18.0.9' })];
  const np = svc('np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http', nodePort: 30080, protocol: 'TCP' }, { port: 53, nodePort: 30053, protocol: 'UDP' }] });
  assert.deepEqual(proxyPorts(np, backends(np, pods)), [{ port: 80, hostPorts: [30080], backends: [{ ip: '172.18.0.10', port: 8080 }] }]);
  const lb = svc('lb', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30081, protocol: 'TCP' }] });
  assert.deepEqual(proxyPorts(lb, backends(lb, pods)), [{ port: 80, hostPorts: [30081, 80], backends: [{ ip: '172.18.0.10', port: 8080 }] }]);
  const cip = svc('c', { type: 'ClusterIP', selector: { app: 'web' }, ports: [{ port: 80 }] });
  assert.deepEqual(proxyPorts(cip, backends(cip, pods)), []);
});

test('backends leave out pods whose address is in question (sandbox being reconnected)', () => {
  const pods = [pod('a', { app: 'web' }, { ready: true, ip: '172.18.0.10' }), pod('b', { app: 'web' }, { ready: true, ip: '172.18.0.11' })];
  const np = svc('np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] });
  const settledOnlyA = (p: KObject) => p.metadata.name === 'a';
  assert.deepEqual(backends(np, pods, settledOnlyA).map((b) => b.ip), ['172.18.0.10']);
  assert.deepEqual(proxyPorts(np, backends(np, pods, settledOnlyA)), [{ port: 80, hostPorts: [30080], backends: [{ ip: '172.18.0.10', port: 8080 }] }]);
  assert.deepEqual(backends(np, pods).map((b) => b.ip), ['172.18.0.10', '172.18.0.11']);
});

test('podServing: finished pods never serve', () => {
  const s = svc('web', { selector: { app: 'web' }, publishNotReadyAddresses: true });
  assert.equal(podServing(pod('a', { app: 'web' }, { status: { phase: 'Succeeded' } }), s), false);
});

test('proxy: the front changes only with its ports, a slot with its backends; slot ports avoid the listening port', () => {
  const p = { labels: {}, name: 'k2d-svc_web_ns_80_abcd', image: 'img', network: 'k2d', listenPort: 30080, hostPorts: [30080], backends: [{ ip: '10.0.0.2', port: 8080 }] };
  const moved = { ...p, backends: [{ ip: '10.0.0.3', port: 8080 }] };
  assert.equal(frontHash(p), frontHash(moved));
  assert.notEqual(slotHash(p), slotHash(moved));
  assert.notEqual(frontHash(p), frontHash({ ...p, hostPorts: [30081] }));
  assert.deepEqual(slotPorts(30080), [1025, 1026]);
  for (const listen of [1025, 1026, 1027]) {
    const ports = slotPorts(listen);
    assert.equal(ports.length, 2);
    assert.ok(!ports.includes(listen), `${ports} avoid ${listen}`);
    assert.notEqual(ports[0], ports[1]);
  }
});
