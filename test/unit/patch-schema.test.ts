import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { SchemaNav, UNKNOWN } from '../../src/machinery/schema.ts';
import { loadUpstream, upstreamPath } from '../../codegen/upstream.ts';

const nav = new SchemaNav(loadUpstream(upstreamPath(fileURLToPath(new URL('../..', import.meta.url)))).definitions);

test('list semantics of PodSpec.containers come from the property', () => {
  const containers = nav.root('io.k8s.api.core.v1.PodSpec').field('containers');
  assert.equal(containers.kind, 'array');
  assert.deepEqual(containers.patchStrategies, ['merge']);
  assert.equal(containers.patchMergeKey, 'name');
  assert.equal(containers.listType, 'map');
  assert.deepEqual(containers.listMapKeys, ['name']);
  assert.deepEqual(containers.listSemantics, { associative: true, keys: ['name'] });
  const item = containers.items();
  assert.equal(item.name, 'io.k8s.api.core.v1.Container');
  assert.equal(item.field('image').kind, 'scalar');
});

test('$ref siblings keep their extensions (Deployment strategy retainKeys)', () => {
  const strategy = nav.root('io.k8s.api.apps.v1.Deployment').field('spec').field('strategy');
  assert.deepEqual(strategy.patchStrategies, ['retainKeys']);
  assert.equal(strategy.name, 'io.k8s.api.apps.v1.DeploymentStrategy');
  assert.ok(strategy.hasField('rollingUpdate'));
});

test('merge,retainKeys splits into both strategies', () => {
  const volumes = nav.root('io.k8s.api.core.v1.PodSpec').field('volumes');
  assert.deepEqual(volumes.patchStrategies, ['merge', 'retainKeys']);
  assert.deepEqual(volumes.listSemantics, { associative: true, keys: ['name'] });
});

test('maps: values of labels, atomic map types on definitions and on properties', () => {
  const meta = nav.root('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  const labels = meta.field('labels');
  assert.equal(labels.kind, 'object');
  assert.equal(labels.openMap, true);
  assert.equal(labels.values().kind, 'scalar');
  assert.equal(labels.field('app').kind, 'scalar');
  assert.equal(labels.atomicMap, false);
  assert.equal(nav.root('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector').atomicMap, true);
  assert.equal(nav.root('io.k8s.api.core.v1.PodSpec').field('nodeSelector').mapType, 'atomic');
  // a property can override the definition's map type
  assert.equal(nav.root('io.k8s.api.core.v1.PersistentVolumeSpec').field('claimRef').mapType, 'granular');
  assert.equal(nav.root('io.k8s.api.core.v1.ObjectReference').mapType, 'atomic');
});

test('sets and atomic lists', () => {
  const meta = nav.root('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  assert.deepEqual(meta.field('finalizers').listSemantics, { associative: true, keys: [] });
  assert.deepEqual(meta.field('finalizers').patchStrategies, ['merge']);
  assert.deepEqual(meta.field('managedFields').listSemantics, { associative: false, keys: [] });
  const args = nav.root('io.k8s.api.core.v1.Container').field('args');
  assert.equal(args.listType, 'atomic');
  assert.deepEqual(args.patchStrategies, []);
});

test('list-map keys default the way the apiserver type converter does', () => {
  const port = nav.root('io.k8s.api.core.v1.Container').field('ports');
  assert.deepEqual(port.listMapKeys, ['containerPort', 'protocol']);
  assert.equal(port.items().keyDefault('protocol'), 'TCP');
  assert.equal(port.items().keyDefault('containerPort'), undefined);
});

test('unknown places never throw and behave as untyped', () => {
  const n = nav.root('io.k8s.api.core.v1.NoSuchThing');
  assert.equal(n, UNKNOWN);
  assert.equal(n.field('a').items().values().field('b'), UNKNOWN);
  assert.equal(n.kind, 'untyped');
  assert.deepEqual(n.listSemantics, { associative: false, keys: [] });
  const cm = nav.root('io.k8s.api.core.v1.ConfigMap');
  assert.equal(cm.hasField('datas'), false);
  assert.equal(cm.openMap, false);
  assert.equal(cm.field('datas'), UNKNOWN);
  assert.equal(nav.root('io.k8s.apimachinery.pkg.runtime.RawExtension').atomicMap, true);
});

test('nodes are cached', () => {
  const a = nav.root('io.k8s.api.apps.v1.Deployment').field('spec').field('template');
  const b = nav.root('io.k8s.api.apps.v1.Deployment').field('spec').field('template');
  assert.equal(a, b);
  // a $ref without extensions of its own reuses the named root node
  assert.equal(nav.root('io.k8s.api.apps.v1.DeploymentSpec').field('template'), nav.root('io.k8s.api.core.v1.PodTemplateSpec'));
});

test('empty-object shape of Go structs', () => {
  assert.deepEqual(nav.root('io.k8s.api.apps.v1.DeploymentSpec').alwaysPresent().sort(), ['strategy', 'template']);
  assert.deepEqual(nav.root('io.k8s.api.core.v1.PodSpec').alwaysNull(), ['containers']);
  assert.deepEqual(nav.root('io.k8s.api.core.v1.ConfigMap').alwaysPresent(), []);
});
