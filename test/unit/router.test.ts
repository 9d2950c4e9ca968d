import { test } from 'node:test';
import assert from 'node:assert/strict';
import { operations, type OperationId } from '../../generated/operations.ts';
import { createRouter } from '../../src/server/router.ts';

const router = createRouter();
const all = Object.entries(operations) as [OperationId, (typeof operations)[OperationId]][];

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, k: string) => encodeURIComponent(values[k]));
}

function expectRoute(method: string, path: string, id: OperationId, params: Record<string, string>) {
  assert.deepEqual(router.match(method, path), { operationId: id, params }, `${method} ${path}`);
}

test('every operation is reached by a URL built from its own template', () => {
  assert.ok(all.length > 200);
  for (const [id, op] of all) {
    const values = { namespace: 'ns-1', name: 'obj-1' };
    const params = Object.fromEntries([...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => [m[1], values[m[1] as keyof typeof values]]));
    const url = fill(op.path, values);
    expectRoute(op.method, url, id, params);
    expectRoute(op.method.toUpperCase(), `${url}/`, id, params);
    expectRoute(op.method, `${url}?timeout=32s&watch=true`, id, params);
  }
});

test('names that look like path words still reach the right operation', () => {
  const tricky = ['status', 'finalize', 'watch', 'namespaces', 'configmaps', 'system:controller:job', 'a.b-c', 'v1'];
  for (const [id, op] of all) {
    if (!op.path.includes('{')) continue;
    for (const word of tricky) {
      const values = { namespace: word.replace(/[:.]/g, '-'), name: word };
      const params = Object.fromEntries([...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => [m[1], values[m[1] as keyof typeof values]]));
      expectRoute(op.method, fill(op.path, values), id, params);
    }
  }
});

test('the ambiguous-looking namespace paths pick the right operation', () => {
  expectRoute('get', '/api/v1/namespaces/default/configmaps', 'listCoreV1NamespacedConfigMap', { namespace: 'default' });
  expectRoute('get', '/api/v1/namespaces/default/status', 'readCoreV1NamespaceStatus', { name: 'default' });
  expectRoute('put', '/api/v1/namespaces/default/finalize', 'replaceCoreV1NamespaceFinalize', { name: 'default' });
  expectRoute('get', '/api/v1/namespaces/status', 'readCoreV1Namespace', { name: 'status' });
  expectRoute('get', '/api/v1/namespaces/default/configmaps/status', 'readCoreV1NamespacedConfigMap', { namespace: 'default', name: 'status' });
  expectRoute('get', '/api/v1/watch/namespaces/default', 'watchCoreV1Namespace', { name: 'default' });
  expectRoute('get', '/api/v1/watch/namespaces/default/events', 'watchCoreV1NamespacedEventList', { namespace: 'default' });
  expectRoute('get', '/apis/events.k8s.io/v1/namespaces/default/events', 'listEventsV1NamespacedEvent', { namespace: 'default' });
  expectRoute('get', '/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aaggregate-to-admin',
    'readRbacAuthorizationV1ClusterRole', { name: 'system:aggregate-to-admin' });
});

test('discovery paths with and without trailing slashes', () => {
  expectRoute('get', '/api', 'getCoreAPIVersions', {});
  expectRoute('get', '/api/', 'getCoreAPIVersions', {});
  expectRoute('get', '/apis/', 'getAPIVersions', {});
  expectRoute('get', '/api/v1/', 'getCoreV1APIResources', {});
  expectRoute('get', '/apis/rbac.authorization.k8s.io/', 'getRbacAuthorizationAPIGroup', {});
  expectRoute('get', '/apis/rbac.authorization.k8s.io/v1/', 'getRbacAuthorizationV1APIResources', {});
  expectRoute('get', '/apis/rbac.authorization.k8s.io/v1?timeout=32s', 'getRbacAuthorizationV1APIResources', {});
  expectRoute('get', '/version/', 'getCodeVersion', {});
});

test('unknown paths, groups not served and wrong methods match nothing', () => {
  for (const [method, path] of [
    ['get', '/apis/certificates.k8s.io/v1/'], ['get', '/apis/certificates.k8s.io/v1/certificatesigningrequests'],
    ['get', '/api/v1/namespaces/default/podtemplates'], ['get', '/'], ['get', '/apiz'], ['get', '/api/v2'],
    ['get', '/api/v1/namespaces/default/configmaps/a/b'], ['get', '/api/v1/namespaces/a%ZZ'],
    ['delete', '/api/v1/namespaces/default/status'], ['post', '/api/v1/namespaces/default/configmaps/x'],
    ['get', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'], ['trace', '/api/v1/namespaces'],
  ]) {
    assert.equal(router.match(method, path), undefined, `${method} ${path}`);
  }
});

// Speed belongs to the benchmark; this only reports it beside the check that repeated matching
// keeps answering the same (nothing cached wrongly between calls).
test('repeated matching of every operation answers the same each time', (t) => {
  const paths = all.map(([id, op]) => [id, op.method, fill(op.path, { namespace: 'ns-1', name: 'obj-1' })] as const);
  const first = paths.map(([, m, p]) => router.match(m, p)?.operationId);
  const rounds = 20;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) paths.forEach(([, m, p], k) => assert.equal(router.match(m, p)?.operationId, first[k], `${m} ${p}`));
  t.diagnostic(`router: ${(((performance.now() - t0) * 1000) / (rounds * paths.length)).toFixed(1)} us per match over ${paths.length} operations`);
  assert.ok(first.every((id) => id !== undefined));
});
