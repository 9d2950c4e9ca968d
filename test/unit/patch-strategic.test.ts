import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SchemaNav } from '../../src/machinery/schema.ts';
import { applyStrategicMergePatch } from '../../src/machinery/patch/index.ts';
import { ApiError } from '../../src/machinery/errors.ts';
import { loadUpstream, upstreamPath } from '../../codegen/upstream.ts';

const nav = new SchemaNav(loadUpstream(upstreamPath(fileURLToPath(new URL('../..', import.meta.url)))).definitions);
const DEPLOY = nav.root('io.k8s.api.apps.v1.Deployment');
const POD = nav.root('io.k8s.api.core.v1.Pod');
const CM = nav.root('io.k8s.api.core.v1.ConfigMap');

type Obj = Record<string, any>;
const clone = <T>(v: T): T => structuredClone(v);

function expectStatus(fn: () => unknown, code: number, reason: string, message: string): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  assert.ok(err instanceof ApiError, `expected ApiError, got ${err}`);
  assert.equal(err.code, code);
  assert.equal(err.reason, reason);
  assert.equal(err.message, message);
}

const pod = (): Obj => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'p', labels: { app: 'web' }, finalizers: ['a.example/x', 'a.example/y'] },
  spec: {
    containers: [
      { name: 'app', image: 'app:1', args: ['--a', '--b'], env: [{ name: 'A', value: '1' }, { name: 'X', value: 'server' }, { name: 'B', value: '2' }],
        ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 81, protocol: 'TCP' }] },
      { name: 'log', image: 'log:1' },
    ],
    nodeSelector: { disk: 'ssd', zone: 'a' },
  },
});

// Cases follow apimachinery strategicpatch semantics (see its patch_test.go), on real schemas.
const cases: { name: string; patch: Obj; want: (o: Obj) => void }[] = [
  { name: 'merging list: item merged by merge key', patch: { spec: { containers: [{ name: 'log', image: 'log:2' }] } },
    want: (o) => { o.spec.containers[1].image = 'log:2'; } },
  // without $setElementOrder, upstream's ordering puts items new to the live list first
  { name: 'merging list: unknown key added in front', patch: { spec: { containers: [{ name: 'side', image: 's' }] } },
    want: (o) => { o.spec.containers.unshift({ name: 'side', image: 's' }); } },
  { name: 'merging list: $patch delete removes the item', patch: { spec: { containers: [{ name: 'app', $patch: 'delete' }] } },
    want: (o) => { o.spec.containers.splice(0, 1); } },
  { name: 'merging list: $patch replace replaces the list', patch: { spec: { containers: [{ name: 'only', image: 'o' }, { $patch: 'replace' }] } },
    want: (o) => { o.spec.containers = [{ name: 'only', image: 'o' }]; } },
  { name: 'nested merging list by a numeric merge key', patch: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 81, name: 'metrics' }, { containerPort: 90 }] }] } },
    want: (o) => { o.spec.containers[0].ports[1].name = 'metrics'; o.spec.containers[0].ports.push({ containerPort: 90 }); } },
  { name: 'non-merging list is replaced', patch: { spec: { containers: [{ name: 'app', args: ['--c'] }] } },
    want: (o) => { o.spec.containers[0].args = ['--c']; } },
  { name: 'null deletes a key; null for a missing key is ignored', patch: { metadata: { labels: { app: null, gone: null } }, spec: { nodeSelector: { zone: null } } },
    want: (o) => { o.metadata.labels = {}; o.spec.nodeSelector = { disk: 'ssd' }; } },
  { name: 'maps merge key by key', patch: { metadata: { labels: { tier: 'fe' } } },
    want: (o) => { o.metadata.labels.tier = 'fe'; } },
  { name: '$patch replace on a map', patch: { spec: { nodeSelector: { $patch: 'replace', only: 'this' } } },
    want: (o) => { o.spec.nodeSelector = { only: 'this' }; } },
  { name: '$patch delete on a map leaves it empty', patch: { spec: { nodeSelector: { $patch: 'delete' } } },
    want: (o) => { o.spec.nodeSelector = {}; } },
  { name: 'new map value keeps no nulls and no directives', patch: { metadata: { annotations: { a: '1', b: null } }, spec: { hostAliases: [{ ip: '1.2.3.4', hostnames: ['h'] }] } },
    want: (o) => { o.metadata.annotations = { a: '1' }; o.spec.hostAliases = [{ ip: '1.2.3.4', hostnames: ['h'] }]; } },
  { name: 'primitive merge list: union without duplicates', patch: { metadata: { finalizers: ['a.example/y', 'a.example/z'] } },
    want: (o) => { o.metadata.finalizers = ['a.example/x', 'a.example/y', 'a.example/z']; } },
  { name: '$deleteFromPrimitiveList', patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example/x', 'not-there'] } },
    want: (o) => { o.metadata.finalizers = ['a.example/y']; } },
  { name: '$setElementOrder reorders and keeps server-only items by their live position', patch: { spec: { containers: [{ name: 'app', '$setElementOrder/env': [{ name: 'B' }, { name: 'A' }] }] } },
    want: (o) => { o.spec.containers[0].env = [{ name: 'X', value: 'server' }, { name: 'B', value: '2' }, { name: 'A', value: '1' }]; } },
  { name: '$setElementOrder with an added item', patch: { spec: { '$setElementOrder/containers': [{ name: 'first' }, { name: 'app' }, { name: 'log' }], containers: [{ name: 'first', image: 'f' }] } },
    want: (o) => { o.spec.containers.unshift({ name: 'first', image: 'f' }); } },
];

for (const c of cases) {
  test(`strategic merge: ${c.name}`, () => {
    const input = pod();
    const want = pod();
    c.want(want);
    assert.deepEqual(applyStrategicMergePatch(input, clone(c.patch), POD), want);
    assert.deepEqual(input, pod(), 'input is not mutated');
  });
}

test('$retainKeys clears the fields a union no longer uses (Deployment strategy)', () => {
  const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
    spec: { replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } } };
  const out = applyStrategicMergePatch(d, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }, DEPLOY);
  assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
  expectStatus(() => applyStrategicMergePatch(d, { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 1 } } } }, DEPLOY),
    400, 'BadRequest', 'invalid patch format of retainKeys');
  expectStatus(() => applyStrategicMergePatch(d, { spec: { strategy: { $retainKeys: 'type' } } }, DEPLOY),
    400, 'BadRequest', 'invalid patch format of retainKeys');
});

test('ordering after a delete and an add uses the live list as Go slices leave it', () => {
  // upstream "add map and delete map from merging list": deleting from the live slice and
  // appending to it shares one backing array, which the ordering step then reads
  const live = { spec: { containers: [{ name: 'c1' }, { name: 'c2', image: 'b' }, { name: 'c4', image: 'c' }] } };
  const patch = { spec: { '$setElementOrder/containers': [{ name: 'c2' }, { name: 'c3' }], containers: [{ name: 'c3' }, { name: 'c1', $patch: 'delete' }] } };
  const out = applyStrategicMergePatch(live, patch, POD);
  assert.deepEqual(out.spec.containers.map((c: Obj) => c.name), ['c2', 'c4', 'c3']);
});

test('errors the apiserver reports', () => {
  // missing merge key: a plain Go error, hence a 500 without a reason
  expectStatus(() => applyStrategicMergePatch(pod(), { spec: { containers: [{ image: 'x' }] } }, POD),
    500, '', 'map: map[image:x] does not contain declared merge key: name');
  expectStatus(() => applyStrategicMergePatch(pod(), { spec: { nodeSelector: { $patch: 'frob' } } }, POD),
    500, '', 'unknown patch type: frob in map: map[$patch:frob]');
  expectStatus(() => applyStrategicMergePatch(pod(), { spec: { containers: [{ $patch: 'merge' }] } }, POD),
    500, '', 'merging lists cannot yet be specified in the patch');
  expectStatus(() => applyStrategicMergePatch(pod(), { metadata: { '$setElementOrder/finalizers': 'x' } }, POD),
    500, '', 'expected a []interface {}, but received a string');
  expectStatus(() => applyStrategicMergePatch(pod(), { metadata: { $deleteFromPrimitiveList: ['a'] } }, POD),
    400, 'BadRequest', 'invalid patch format of primitive list');
  expectStatus(() => applyStrategicMergePatch(pod(), { spec: { '$setElementOrder/nope': [] } }, POD),
    500, '', 'unable to find api field in struct PodSpec for the json field "nope"');
  expectStatus(() => applyStrategicMergePatch(pod(), { metadata: { finalizers: [['x']] } }, POD),
    500, '', 'list element types are not identical: [[a.example/x a.example/y] [[x]]]');
  const noFinalizers = pod();
  noFinalizers.metadata.finalizers = [];
  expectStatus(() => applyStrategicMergePatch(noFinalizers, { metadata: { finalizers: [['x']] } }, POD),
    422, 'Invalid', 'the server rejected our request due to an error in our request');
  expectStatus(() => applyStrategicMergePatch(pod(), [{ a: 1 }], POD),
    400, 'BadRequest', 'json: cannot unmarshal array into Go value of type map[string]interface {}');
});

test('a null patch is an empty patch; $patch replace at the top replaces the object', () => {
  assert.deepEqual(applyStrategicMergePatch(pod(), null, POD), pod());
  assert.deepEqual(applyStrategicMergePatch(pod(), { $patch: 'replace', kind: 'Pod' }, POD), { kind: 'Pod' });
});

// ------------------------------------------------------------------ what kubectl really sends

interface Fixture { name: string; definition: string; live: Obj; manifest: Obj; request: { method: string; query: string; contentType: string; body: Obj } }
const fixtures = (JSON.parse(readFileSync(new URL('../fixtures/patch/kubectl-client-side-apply.json', import.meta.url), 'utf8')) as { cases: Fixture[] }).cases;
const fixture = (prefix: string) => fixtures.find((f) => f.name.startsWith(prefix))!;

/** The live object after the apply: last-applied annotation replaced, `edit` applied. */
function expected(f: Fixture, edit: (o: Obj) => void): Obj {
  const o = clone(f.live);
  o.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] =
    f.request.body.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
  edit(o);
  return o;
}

const kubectlCases: [string, (o: Obj) => void][] = [
  ['ConfigMap: data key and label dropped', (o) => { o.data = { a: '10' }; o.metadata.labels = { app: 'web' }; }],
  ['Namespace: label dropped', (o) => { o.metadata.labels = { team: 'a2', 'kubernetes.io/metadata.name': 'team-a' }; }],
  ['Role: a rule dropped', (o) => { o.rules = [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]; }],
  ['Deployment: strategy type changed', (o) => {
    o.spec.strategy = { type: 'Recreate' };
    const c = o.spec.template.spec.containers;
    c.splice(1, 1);
    c[0].image = 'nginx:1.26';
    c[0].env = [{ name: 'A', value: '1' }];
  }],
  ['ConfigMap: finalizer replaced', (o) => { o.metadata.finalizers = ['example.com/a', 'example.com/c', 'example.com/other']; }],
];

for (const [prefix, edit] of kubectlCases) {
  test(`kubectl client-side apply patch: ${prefix}`, () => {
    const f = fixture(prefix);
    assert.equal(f.request.method, 'PATCH');
    assert.equal(f.request.contentType, 'application/strategic-merge-patch+json');
    const out = applyStrategicMergePatch(f.live, clone(f.request.body), nav.root(f.definition));
    assert.deepEqual(out, expected(f, edit));
  });
}

test('kubectl patches use the directives this implementation handles', () => {
  const dep = fixture('Deployment').request.body;
  assert.deepEqual(dep.spec.strategy.$retainKeys, ['type']);
  assert.deepEqual(dep.spec.template.spec['$setElementOrder/containers'], [{ name: 'nginx' }]);
  assert.deepEqual(dep.spec.template.spec.containers[1], { $patch: 'delete', name: 'sidecar' });
  const fin = fixture('ConfigMap: finalizer').request.body;
  assert.deepEqual(fin.metadata['$deleteFromPrimitiveList/finalizers'], ['example.com/b']);
  assert.equal(fixture('ConfigMap: data').request.body.data.b, null);
});

test('ConfigMap data is a plain map', () => {
  const out = applyStrategicMergePatch({ data: { a: '1' } }, { data: { b: '2' } }, CM);
  assert.deepEqual(out, { data: { a: '1', b: '2' } });
});
