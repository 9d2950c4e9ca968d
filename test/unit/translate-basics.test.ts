import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expand } from '../../src/translate/expand.ts';
import { containerName, parseContainerName, sandboxName } from '../../src/translate/names.ts';
import {
  addQuantity, compareQuantity, divideForEnv, parseQuantity, quantityMilli, quantityValue, tryParseQuantity,
} from '../../src/translate/quantity.ts';
import { qosClass } from '../../src/translate/qos.ts';
import type { KObject } from '../../src/machinery/types.ts';

test('quantities parse exactly, and Value/MilliValue round up as Go does', () => {
  const cases: Array<[string | number, number, number]> = [
    // input, Value(), MilliValue()
    ['500m', 1, 500],
    ['1.5', 2, 1500],
    [1.5, 2, 1500],
    [2, 2, 2000],
    ['0.1', 1, 100],
    ['100m', 1, 100],
    ['1m', 1, 1],
    ['0', 0, 0],
    ['128Mi', 134217728, 134217728000],
    ['1Gi', 1073741824, 1073741824000],
    ['1.5Gi', 1610612736, 1610612736000],
    ['1Ki', 1024, 1024000],
    ['1G', 1e9, 1e12],
    ['1M', 1e6, 1e9],
    ['1k', 1000, 1e6],
    ['1e3', 1000, 1e6],
    ['1E3', 1000, 1e6],
    ['1e-3', 1, 1],
    ['1.5e3', 1500, 1500000],
    ['+1', 1, 1000],
    ['.5', 1, 500],
    ['5.', 5, 5000],
    ['1n', 1, 1],
    ['1u', 1, 1],
    ['250u', 1, 1],
    ['2500u', 1, 3],
    ['1E', 1e18, 1e21],
    ['8Mi', 8388608, 8388608000],
  ];
  for (const [input, value, milli] of cases) {
    const q = parseQuantity(input);
    assert.equal(quantityValue(q), value, `Value(${input})`);
    assert.equal(quantityMilli(q), milli, `MilliValue(${input})`);
  }
  // Ei does not fit a double; the parse itself stays exact.
  assert.equal(parseQuantity('1Ei').num, 1n << 60n);
  assert.equal(parseQuantity('-1').num, -1n);
});

test('malformed quantities are refused', () => {
  for (const bad of ['', 'abc', '1.5.5', 'Mi', '1 ', ' 1', '1MiB', '1e', '1KI', '1Mi2', '--1', '1e1.5', '.']) {
    assert.equal(tryParseQuantity(bad), undefined, `'${bad}' should not parse`);
    assert.throws(() => parseQuantity(bad), /quantities must match the regular expression/);
  }
  assert.equal(tryParseQuantity(undefined), undefined);
});

test('quantity comparison and addition work across suffixes', () => {
  assert.equal(compareQuantity(parseQuantity('1'), parseQuantity('1000m')), 0);
  assert.equal(compareQuantity(parseQuantity('1Gi'), parseQuantity('1G')), 1);
  assert.equal(compareQuantity(parseQuantity('100m'), parseQuantity('0.2')), -1);
  assert.equal(compareQuantity(parseQuantity('1k'), parseQuantity('1e3')), 0);
  assert.equal(quantityMilli(addQuantity(parseQuantity('250m'), parseQuantity('1.5'))), 1750);
  assert.equal(quantityValue(addQuantity(parseQuantity('64Mi'), parseQuantity('64Mi'))), 134217728);
});

test('resourceFieldRef conversion divides and rounds up like kubelet', () => {
  const q = parseQuantity;
  const cases: Array<[string, string, string | undefined, string]> = [
    ['cpu', '500m', undefined, '1'],
    ['cpu', '500m', '1m', '500'],
    ['cpu', '1.5', '1', '2'],
    ['cpu', '250m', '100m', '3'],
    ['cpu', '2', '0', '2'],
    ['memory', '128Mi', undefined, '134217728'],
    ['memory', '128Mi', '1Mi', '128'],
    ['memory', '128Mi', '1G', '1'],
    ['memory', '1Gi', '1Ki', '1048576'],
    ['memory', '0', '1Mi', '0'],
  ];
  for (const [res, value, divisor, want] of cases) {
    assert.equal(divideForEnv(res, q(value), divisor === undefined ? undefined : q(divisor)), want, `${res} ${value}/${divisor}`);
  }
});

test('$(VAR) expansion matches kubelet, case for case', () => {
  const vars: Record<string, string> = { VAR_A: 'A', VAR_B: 'B', VAR_C: 'C', VAR_REF: '$(VAR_A)', VAR_EMPTY: '' };
  const lookup = (n: string) => vars[n];
  const cases: Array<[string, string]> = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(VAR_A)$(VAR_B)$(VAR_C)', 'ABC'],
    ['$(VAR_REF)', '$(VAR_A)'],
    ['foo$(VAR_EMPTY)bar', 'foobar'],
    ['foo$(VAR_Awhoops!', 'foo$(VAR_Awhoops!'],
    ['f00__(VAR_A)__', 'f00__(VAR_A)__'],
    ['$?_boo_$!', '$?_boo_$!'],
    ['$VAR_A', '$VAR_A'],
    ['$(VAR_DNE)', '$(VAR_DNE)'],
    ['$$$$$$(BIG_MONEY)', '$$$(BIG_MONEY)'],
    ['$$$$$$(VAR_A)', '$$$(VAR_A)'],
    ['$$$$$$$(GOOD_ODDS)', '$$$$(GOOD_ODDS)'],
    ['$$$$$$$(VAR_A)', '$$$A'],
    ['$VAR_A)', '$VAR_A)'],
    ['${VAR_A}', '${VAR_A}'],
    ['$(VAR_B)_______$(A', 'B_______$(A'],
    ['$(VAR_C)_______$(', 'C_______$('],
    ['$(VAR_A)foobarzab$', 'Afoobarzab$'],
    ['foo-\\$(VAR_A', 'foo-\\$(VAR_A'],
    ['--$($($($($--', '--$($($($($--'],
    ['$($($($($--foo$(', '$($($($($--foo$('],
    ['foo0--$($($($(', 'foo0--$($($($('],
    ['$(foo$$var)', '$(foo$$var)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['\n', '\n'],
    ['', ''],
    ['$()', '$()'],
  ];
  for (const [input, want] of cases) assert.equal(expand(input, lookup), want, JSON.stringify(input));
});

test('container names follow dockershim and parse back', () => {
  const pod = { name: 'web-7d4b9', namespace: 'shop', uid: '3f2c1e4a-0000-4000-8000-000000000001' };
  assert.equal(sandboxName(pod), 'k8s_POD_web-7d4b9_shop_3f2c1e4a-0000-4000-8000-000000000001_0');
  assert.equal(containerName('nginx', pod, 3), 'k8s_nginx_web-7d4b9_shop_3f2c1e4a-0000-4000-8000-000000000001_3');
  assert.deepEqual(parseContainerName('/k8s_nginx_web-7d4b9_shop_3f2c1e4a-0000-4000-8000-000000000001_3'),
    { container: 'nginx', name: 'web-7d4b9', namespace: 'shop', uid: '3f2c1e4a-0000-4000-8000-000000000001', attempt: 3 });
  assert.deepEqual(parseContainerName('k8s_POD_a_b_c_0_deadbeef')?.container, 'POD');
  for (const other of ['nginx', 'k8s_a_b_c_d', 'k8s_a_b_c_d_x', 'foo_a_b_c_d_0', 'k8s_a_b_c_d_0_e_f']) {
    assert.equal(parseContainerName(other), undefined, other);
  }
});

function podWith(containers: unknown[], initContainers: unknown[] = []): KObject {
  return { metadata: { name: 'p', namespace: 'default' }, spec: { containers, initContainers } };
}

test('QoS class is computed exactly as Kubernetes does', () => {
  const c = (resources?: unknown) => ({ name: 'c' + Math.random(), image: 'busybox', resources });
  const cases: Array<[string, KObject, string]> = [
    ['no resources', podWith([c(), c({})]), 'BestEffort'],
    ['only a zero request', podWith([c({ requests: { cpu: '0' } })]), 'BestEffort'],
    ['limits equal requests for cpu and memory', podWith([c({ limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '0.5', memory: '64Mi' } })]), 'Guaranteed'],
    ['only limits (requests default to them)', podWith([c({ limits: { cpu: '1', memory: '1Gi' } })]), 'Guaranteed'],
    ['limits only memory', podWith([c({ limits: { memory: '64Mi' } })]), 'Burstable'],
    ['requests below limits', podWith([c({ limits: { cpu: '1', memory: '64Mi' }, requests: { cpu: '500m', memory: '64Mi' } })]), 'Burstable'],
    ['only requests', podWith([c({ requests: { cpu: '100m' } })]), 'Burstable'],
    ['one guaranteed, one best effort', podWith([c({ limits: { cpu: '1', memory: '1Gi' } }), c()]), 'Burstable'],
    ['two guaranteed containers', podWith([c({ limits: { cpu: '1', memory: '1Gi' } }), c({ limits: { cpu: '200m', memory: '8Mi' } })]), 'Guaranteed'],
    ['guaranteed app, best-effort init', podWith([c({ limits: { cpu: '1', memory: '1Gi' } })], [c()]), 'Burstable'],
    ['best-effort app, init with requests', podWith([c()], [c({ requests: { memory: '10Mi' } })]), 'Burstable'],
    ['extended resources do not count', podWith([c({ limits: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' }, requests: { 'nvidia.com/gpu': '1' } })]), 'Guaranteed'],
    ['ephemeral-storage alone', podWith([c({ requests: { 'ephemeral-storage': '1Gi' } })]), 'BestEffort'],
    ['equal values written differently', podWith([c({ limits: { cpu: '1000m', memory: '1Gi' }, requests: { cpu: 1, memory: '1024Mi' } })]), 'Guaranteed'],
  ];
  for (const [name, pod, want] of cases) assert.equal(qosClass(pod), want, name);
});
