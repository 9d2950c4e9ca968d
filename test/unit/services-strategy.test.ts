// The Service strategy through the registry: what an update that leaves allocated values out
// keeps, and the type-dependent fields, as the apiserver's service REST does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { services } from '../../src/api/services.ts';
import { ApiError } from '../../src/machinery/errors.ts';
import { Registry } from '../../src/machinery/registry.ts';
import type { KindInfo, KObject } from '../../src/machinery/types.ts';

const kinds = JSON.parse(readFileSync(new URL('../../generated/kinds.json', import.meta.url), 'utf8')) as KindInfo[];
type Obj = Record<string, any>;

async function fresh() {
  const reg = new Registry(kinds, undefined, { objects: [], resourceVersion: 0 });
  reg.setStrategy('services', services(reg));
  await reg.create(reg.kind('namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  return { reg, svc: reg.kind('services') };
}
const manifest = (spec: Obj): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec } as KObject);
const ports = [{ name: 'http', port: 80, targetPort: 8080 }];

test('a PUT without clusterIP/clusterIPs keeps the allocated ones (helm upgrade --force, kubectl replace)', async () => {
  const { reg, svc } = await fresh();
  const made = await reg.create(svc, 'default', manifest({ selector: { app: 'web' }, ports }));
  const ip = (made.spec as Obj).clusterIP;
  assert.match(ip, /^10\.\d+\.\d+\.\d+$/);
  const { object } = await reg.update(svc, 'default', 'web', manifest({ selector: { app: 'web' }, ports: [{ name: 'http', port: 81, targetPort: 8080 }] }));
  assert.equal((object.spec as Obj).clusterIP, ip);
  assert.deepEqual((object.spec as Obj).clusterIPs, [ip]);
  assert.equal((object.spec as Obj).ports[0].port, 81);
  await assert.rejects(reg.update(svc, 'default', 'web', manifest({ selector: { app: 'web' }, ports, clusterIP: '10.96.0.99' })),
    (e: ApiError) => e.code === 422 && /spec\.clusterIPs\[0\]: Invalid value: \[\]string\{"10\.96\.0\.99"\}: may not change once set/.test(e.message));
});

test('allocateLoadBalancerNodePorts: dropped when a LoadBalancer becomes a NodePort, refused on a NodePort create', async () => {
  const { reg, svc } = await fresh();
  const lb = await reg.create(svc, 'default', manifest({ type: 'LoadBalancer', selector: { app: 'web' }, ports }));
  assert.equal((lb.spec as Obj).allocateLoadBalancerNodePorts, true);
  const { object } = await reg.update(svc, 'default', 'web', { ...lb, spec: { ...(lb.spec as Obj), type: 'NodePort' } } as KObject);
  assert.equal((object.spec as Obj).type, 'NodePort');
  assert.equal((object.spec as Obj).allocateLoadBalancerNodePorts, undefined);
  assert.equal((object.spec as Obj).ports[0].nodePort, (lb.spec as Obj).ports[0].nodePort, 'the nodePort stays');
  await assert.rejects(reg.create(svc, 'default', { ...manifest({ type: 'NodePort', allocateLoadBalancerNodePorts: true, ports }), metadata: { name: 'np' } } as KObject),
    (e: ApiError) => e.code === 422 && /spec\.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'/.test(e.message));
});
