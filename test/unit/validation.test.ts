import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ApiError, invalid } from '../../src/machinery/errors.ts';
import type { KindInfo, KObject } from '../../src/machinery/types.ts';
import { loadYaml } from '../../src/yaml.ts';

// The server loads yaml with the first YAML body; these tests hand YAML text straight in.
await loadYaml();
import {
  fieldError, goBase64ErrorOffset, goParseQuantityError, goParseTimeError, nameRule, prepareSchemas,
  validateLabelSelector, validateObjectMeta, Validator,
} from '../../src/machinery/validation.ts';

// The full upstream definitions with the same adjustments codegen applies for generated/schemas.json.
const swagger = JSON.parse(readFileSync('/work/shared/kubernetes-openapi/swagger-v1.36.json', 'utf8')) as { definitions: Record<string, Record<string, unknown>> };
const validator = new Validator(prepareSchemas(swagger.definitions));

function kind(group: string, version: string, k: string, plural: string, definition: string, namespaced = true): KindInfo {
  return {
    group, version, kind: k, plural, singular: k.toLowerCase(), namespaced, verbs: [], shortNames: [], categories: [],
    subresources: [], definition, listKind: `${k}List`, columns: [], selectableFields: [],
  };
}
const DEPLOY = kind('apps', 'v1', 'Deployment', 'deployments', 'io.k8s.api.apps.v1.Deployment');
const SECRET = kind('', 'v1', 'Secret', 'secrets', 'io.k8s.api.core.v1.Secret');
const CM = kind('', 'v1', 'ConfigMap', 'configmaps', 'io.k8s.api.core.v1.ConfigMap');
const EVENT_V1 = kind('events.k8s.io', 'v1', 'Event', 'events', 'io.k8s.api.events.v1.Event');
const NS = kind('', 'v1', 'Namespace', 'namespaces', 'io.k8s.api.core.v1.Namespace', false);

const deployment = (): any => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' }, creationTimestamp: null },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    template: {
      metadata: { labels: { app: 'web' }, creationTimestamp: null },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: 0.1 } }, env: [{ name: 'A', value: '1' }] }] },
    },
  },
});

function fails(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

const decodeMsg = (err: string) => `Deployment in version "v1" cannot be handled as a Deployment: ${err}`;

test('a valid object passes in every mode, nulls included', () => {
  for (const mode of ['Strict', 'Warn', 'Ignore'] as const) assert.deepEqual(validator.validate(DEPLOY, deployment(), mode), { warnings: [] });
  const d = deployment();
  d.metadata.labels = null;
  d.spec.template.spec.containers[0].env[0].valueFrom = null;
  d.status = null;
  assert.deepEqual(validator.validate(DEPLOY, d, 'Strict'), { warnings: [] });
});

test('wrong types are 400 decoding errors in encoding/json words', () => {
  const cases: Array<[(d: any) => void, string]> = [
    [(d) => { d.spec.replicas = 'string'; }, 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'],
    [(d) => { d.spec.replicas = 1.5; }, 'json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32'],
    [(d) => { d.spec.replicas = 3000000000; }, 'json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32'],
    [(d) => { d.spec.template.spec.containers[0].image = 5; }, 'json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string'],
    [(d) => { d.spec.template.spec.containers = 'web'; }, 'json: cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container'],
    [(d) => { d.spec.template.spec.containers = ['web']; }, 'json: cannot unmarshal string into Go struct field PodSpec.spec.template.spec.containers of type v1.Container'],
    [(d) => { d.metadata = 'web'; }, 'json: cannot unmarshal string into Go struct field Deployment.metadata of type v1.ObjectMeta'],
    [(d) => { d.metadata.labels = { app: 1 }; }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string'],
    [(d) => { d.metadata.labels = ['a']; }, 'json: cannot unmarshal array into Go struct field ObjectMeta.metadata.labels of type map[string]string'],
    [(d) => { d.spec.paused = 'yes'; }, 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool'],
    [(d) => { d.spec.template.spec.containers[0].command = ['sh', 1]; }, 'json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.command of type string'],
    [(d) => { d.spec.strategy.rollingUpdate.maxSurge = true; }, 'json: cannot unmarshal bool into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32'],
    [(d) => { d.spec.strategy.rollingUpdate.maxSurge = 1.5; }, 'json: cannot unmarshal number 1.5 into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32'],
    [(d) => { d.spec.strategy.rollingUpdate.maxUnavailable = { a: 1 }; }, 'json: cannot unmarshal object into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxUnavailable of type int32'],
    [(d) => { d.spec.template.spec.containers[0].resources.limits.cpu = '1GB'; }, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    [(d) => { d.spec.template.spec.containers[0].resources.limits.memory = '1e'; }, "unable to parse quantity's suffix"],
    [(d) => { d.spec.template.spec.containers[0].resources.limits.memory = true; }, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    [(d) => { d.metadata.creationTimestamp = 'yesterday'; }, 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"'],
    [(d) => { d.metadata.creationTimestamp = 12; }, 'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.creationTimestamp of type string'],
  ];
  for (const [mutate, err] of cases) {
    const d = deployment();
    mutate(d);
    for (const mode of ['Strict', 'Ignore'] as const) {
      const e = fails(() => validator.validate(DEPLOY, d, mode));
      assert.equal(e.code, 400, err);
      assert.equal(e.reason, 'BadRequest');
      assert.equal(e.message, decodeMsg(err));
    }
  }
});

test('the first decoding error in document order wins; a custom unmarshaler error stops decoding', () => {
  const d = deployment();
  d.spec.replicas = 'x';
  d.spec.paused = 'y';
  assert.equal(fails(() => validator.validate(DEPLOY, d, 'Strict')).message,
    decodeMsg('json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'));
  d.spec.strategy.rollingUpdate.maxSurge = false;
  assert.equal(fails(() => validator.validate(DEPLOY, d, 'Strict')).message,
    decodeMsg('json: cannot unmarshal bool into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32'));
  const u = deployment();
  u.spec.replicass = 1;
  u.spec.replicas = 'x';
  assert.equal(fails(() => validator.validate(DEPLOY, u, 'Strict')).message,
    decodeMsg('json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'));
});

test('the message names the kind and version the body declares', () => {
  const d = deployment();
  d.apiVersion = 'apps/v1beta2';
  d.spec.replicas = 'x';
  assert.equal(fails(() => validator.validate(DEPLOY, d, 'Strict')).message,
    'Deployment in version "v1beta2" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
  delete d.apiVersion;
  delete d.kind;
  assert.ok(fails(() => validator.validate(DEPLOY, d, 'Strict')).message.startsWith('Deployment in version "v1" cannot be handled as a Deployment:'));
});

test('unknown fields: Strict rejects, Warn warns, Ignore ignores', () => {
  const d = deployment();
  d.spec.replicass = 3;
  d.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
  d.metadata.labelz = {};
  d.Spec = {};
  const e = fails(() => validator.validate(DEPLOY, d, 'Strict'));
  assert.equal(e.code, 400);
  // Document order: replicass was added after template.
  assert.equal(e.message, decodeMsg('strict decoding error: unknown field "metadata.labelz", unknown field "spec.template.spec.containers[0].imagePullPolicyy", unknown field "spec.replicass", unknown field "Spec"'));
  assert.deepEqual(validator.validate(DEPLOY, d, 'Warn').warnings, [
    'unknown field "metadata.labelz"', 'unknown field "spec.template.spec.containers[0].imagePullPolicyy"', 'unknown field "spec.replicass"', 'unknown field "Spec"',
  ]);
  assert.deepEqual(validator.validate(DEPLOY, d, 'Ignore').warnings, []);
  // Open maps and free-form fields take any key.
  const cm: KObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', annotations: { anything: 'x' }, managedFields: [{ manager: 'm', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }] }, data: { 'any-key': 'v' } };
  assert.deepEqual(validator.validate(CM, cm, 'Strict'), { warnings: [] });
});

test('duplicate JSON fields are found in the raw body, in document order with unknown fields', () => {
  const text = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","name":"b","labels":{"x":"1","x":"2"}},"bogus":1,"data":{"a":"1","a":"2"},"bogus":2}';
  const obj = JSON.parse(text);
  const raw = { text, format: 'json' as const };
  assert.equal(fails(() => validator.validate(CM, obj, 'Strict', raw)).message,
    'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "metadata.name", duplicate field "metadata.labels.x", unknown field "bogus", duplicate field "data.a"');
  assert.deepEqual(validator.validate(CM, obj, 'Warn', raw).warnings,
    ['duplicate field "metadata.name"', 'duplicate field "metadata.labels.x"', 'unknown field "bogus"', 'duplicate field "data.a"']);
  assert.deepEqual(validator.validate(CM, obj, 'Ignore', raw).warnings, []);
  const nested = '{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"name":"w"},"spec":{"selector":{},"template":{"spec":{"containers":[{"name":"a","image":"x","image":"y"}]}}}}';
  assert.equal(fails(() => validator.validate(DEPLOY, JSON.parse(nested), 'Strict', { text: nested, format: 'json' })).message,
    decodeMsg('strict decoding error: duplicate field "spec.template.spec.containers[0].image"'));
});

test('duplicate YAML keys are reported as yaml.v2 does, with lines', () => {
  const text = [
    'apiVersion: v1', 'kind: Secret', 'metadata:', '  name: s', '  labels:', '    a: "1"', '    a: "2"', 'data:',
    '  k: YQ==', '  k: Yg==', 'metadata:', '  name: t', 'typo: 1',
  ].join('\n');
  const obj = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 't' }, data: { k: 'Yg==' }, typo: 1 };
  const raw = { text, format: 'yaml' as const };
  assert.equal(fails(() => validator.validate(SECRET, obj, 'Strict', raw)).message,
    'Secret in version "v1" cannot be handled as a Secret: strict decoding error: yaml: unmarshal errors:\n  line 7: key "a" already set in map\n  line 10: key "k" already set in map\n  line 12: key "metadata" already set in map, unknown field "typo"');
  assert.deepEqual(validator.validate(SECRET, obj, 'Warn', raw).warnings, [
    'line 7: key "a" already set in map', 'line 10: key "k" already set in map', 'line 12: key "metadata" already set in map', 'unknown field "typo"',
  ]);
  assert.deepEqual(validator.validate(SECRET, obj, 'Ignore', raw).warnings, []);
});

test('Secret data must be base64 as Go decodes it', () => {
  const s = (data: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data });
  assert.equal(fails(() => validator.validate(SECRET, s({ password: 'mypass' }), 'Strict')).message,
    'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 4');
  assert.equal(fails(() => validator.validate(SECRET, s({ p: 5 }), 'Strict')).message,
    'Secret in version "v1" cannot be handled as a Secret: json: cannot unmarshal number into Go struct field Secret.data of type []uint8');
  assert.deepEqual(validator.validate(SECRET, { ...s({ a: 'YWJj', b: '' }), stringData: { c: 'plain' } }, 'Strict'), { warnings: [] });
});

test('events.k8s.io eventTime is a MicroTime: six fraction digits', () => {
  const ev = (eventTime: string) => ({ apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e', namespace: 'd' }, eventTime, reportingController: 'c', reportingInstance: 'i', action: 'A', reason: 'R', type: 'Normal', regarding: { kind: 'Pod', name: 'p' } });
  assert.deepEqual(validator.validate(EVENT_V1, ev('2024-06-01T12:00:00.123456Z'), 'Strict'), { warnings: [] });
  assert.equal(fails(() => validator.validate(EVENT_V1, ev('2024-06-01T12:00:00Z'), 'Strict')).message,
    'Event in version "v1" cannot be handled as a Event: parsing time "2024-06-01T12:00:00Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "Z" as ".000000"');
  const missing = ev('x') as Record<string, unknown>;
  delete missing.eventTime;
  const e = fails(() => validator.validate(EVENT_V1, missing as KObject, 'Strict'));
  assert.equal(e.code, 422);
  assert.equal(e.message, 'Event.events.k8s.io "e" is invalid: eventTime: Required value');
});

test('required fields are 422 Invalid with causes; partial objects and status are not checked', () => {
  const d = deployment();
  delete d.spec.template.spec.containers[0].name;
  d.spec.template.spec.containers[0].ports[0] = { protocol: 'TCP' };
  const e = fails(() => validator.validate(DEPLOY, d, 'Strict'));
  assert.equal(e.code, 422);
  assert.equal(e.reason, 'Invalid');
  assert.equal(e.message, 'Deployment.apps "web" is invalid: [spec.template.spec.containers[0].ports[0].containerPort: Required value, spec.template.spec.containers[0].name: Required value]');
  assert.deepEqual(e.details?.causes, [
    { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers[0].ports[0].containerPort' },
    { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers[0].name' },
  ]);
  const noContainers = deployment();
  noContainers.spec.template.spec.containers = null;
  assert.equal(fails(() => validator.validate(DEPLOY, noContainers, 'Ignore')).message, 'Deployment.apps "web" is invalid: spec.template.spec.containers: Required value');
  assert.deepEqual(validator.validate(DEPLOY, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } }, 'Strict', undefined, { partial: true }), { warnings: [] });
  const withStatus = deployment();
  withStatus.status = { conditions: [{ reason: 'x' }] };
  assert.deepEqual(validator.validate(DEPLOY, withStatus, 'Strict'), { warnings: [] });
});

test('patched objects get the patch handler\'s 422 form', () => {
  const d = deployment();
  d.spec.replicass = 1;
  const e = fails(() => validator.validate(DEPLOY, d, 'Strict', undefined, { patch: true }));
  assert.equal(e.code, 422);
  assert.equal(e.message, ` "" is invalid: patch: Invalid value: ${JSON.stringify(JSON.stringify(d))}: strict decoding error: unknown field "spec.replicass"`);
  assert.deepEqual(validator.validate(DEPLOY, d, 'Warn', undefined, { patch: true }).warnings, ['unknown field "spec.replicass"']);
  d.spec.replicas = 'x';
  assert.match(fails(() => validator.validate(DEPLOY, d, 'Ignore', undefined, { patch: true })).message,
    /^ "" is invalid: patch: Invalid value: ".*": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32$/);
});

test('a kind without a definition is not checked', () => {
  assert.deepEqual(validator.validate(kind('x', 'v1', 'X', 'xs', 'io.example.Missing'), { metadata: { name: 'a' }, anything: 1 }, 'Strict'), { warnings: [] });
});

test('prepareSchemas normalises the self-decoding types and shares the rest', () => {
  const p = prepareSchemas(swagger.definitions);
  assert.deepEqual(p['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].type, ['integer', 'string']);
  assert.deepEqual(p['io.k8s.apimachinery.pkg.api.resource.Quantity'].type, ['number', 'string']);
  assert.equal(p['io.k8s.apimachinery.pkg.apis.meta.v1.Time'].format, 'date-time');
  assert.equal(p['io.k8s.api.apps.v1.Deployment'], swagger.definitions['io.k8s.api.apps.v1.Deployment']);
  assert.deepEqual(prepareSchemas(p), p);
});

test('validating many objects in a row keeps no state between calls', (t) => {
  const text = JSON.stringify(deployment());
  const n = 2000;
  const objs = Array.from({ length: n }, deployment);
  const t0 = process.hrtime.bigint();
  for (const o of objs) assert.deepEqual(validator.validate(DEPLOY, o, 'Strict', { text, format: 'json' }), { warnings: [] });
  t.diagnostic(`${(Number(process.hrtime.bigint() - t0) / 1000 / n).toFixed(1)} us per Deployment`);
  const bad = deployment() as any;
  bad.spec.replicas = 'three';
  assert.throws(() => validator.validate(DEPLOY, bad, 'Strict'));
  assert.deepEqual(validator.validate(DEPLOY, deployment(), 'Strict'), { warnings: [] });
});

test('Go time, base64 and quantity parsing errors', () => {
  assert.equal(goParseTimeError('2024-01-01T00:00:00Z', false), null);
  assert.equal(goParseTimeError('2024-01-01T00:00:00.5+02:00', false), null);
  assert.equal(goParseTimeError('2024-01-01T00:00:00.123456-07:00', true), null);
  assert.equal(goParseTimeError('2024-13-01T00:00:00Z', false), 'parsing time "2024-13-01T00:00:00Z": month out of range');
  assert.equal(goParseTimeError('2024-02-30T00:00:00Z', false), 'parsing time "2024-02-30T00:00:00Z": day out of range');
  assert.equal(goParseTimeError('2024-02-29T00:00:00Z', false), null);
  assert.equal(goParseTimeError('2024-01-01T25:00:00Z', false), 'parsing time "2024-01-01T25:00:00Z": hour out of range');
  assert.equal(goParseTimeError('2024-01-01', false), 'parsing time "2024-01-01" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T"');
  assert.equal(goParseTimeError('2024-01-01 00:00:00Z', false), 'parsing time "2024-01-01 00:00:00Z" as "2006-01-02T15:04:05Z07:00": cannot parse " 00:00:00Z" as "T"');
  assert.equal(goParseTimeError('2024-01-01T00:00:00', false), 'parsing time "2024-01-01T00:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"');
  assert.equal(goParseTimeError('2024-01-01T00:00:00Zjunk', false), 'parsing time "2024-01-01T00:00:00Zjunk": extra text: "junk"');
  assert.equal(goParseTimeError('2024-01-01T00:00:00+25:00', false), 'parsing time "2024-01-01T00:00:00+25:00": time zone offset hour out of range');
  assert.equal(goParseTimeError('24-01-01T00:00:00Z', false), 'parsing time "24-01-01T00:00:00Z" as "2006-01-02T15:04:05Z07:00": cannot parse "24-01-01T00:00:00Z" as "2006"');
  assert.equal(goParseTimeError('2024-1-01T00:00:00Z', false), 'parsing time "2024-1-01T00:00:00Z" as "2006-01-02T15:04:05Z07:00": cannot parse "1-01T00:00:00Z" as "01"');
  assert.equal(goParseTimeError('é', false), 'parsing time "\\xc3\\xa9" as "2006-01-02T15:04:05Z07:00": cannot parse "\\xc3\\xa9" as "2006"');

  const b64: Array<[string, number | null]> = [['mypass', 4], ['YQ==', null], ['YWJj', null], ['YQ', 0], ['YQ=', 3], ['Y', 0], ['a b', 1], ['YWJj\nZGVm', null], ['YQ==x', 4], ['=', 0], ['YQ=x', 2], ['', null]];
  for (const [s, at] of b64) assert.equal(goBase64ErrorOffset(s), at, s);

  const q: Array<[string, string | null]> = [
    ['1', null], ['0', null], ['500m', null], ['1Gi', null], ['1.5', null], ['-0.5Ki', null], ['+1', null], ['1e3', null], ['1E-2', null], ['.5', null], ['100', null], ['000', null],
    ['.', 'unable to parse numeric part of quantity'],
    ['1e', "unable to parse quantity's suffix"], ['1KB', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1mi', "unable to parse quantity's suffix"], ['abc', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1.2.3', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
  ];
  for (const [s, want] of q) assert.equal(goParseQuantityError(s), want, s);
});

// ---- ObjectMeta ----

const subdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const labelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const msgs = (causes: Array<{ field?: string; message?: string }>) => causes.map((c) => `${c.field}: ${c.message}`);
const meta = (m: Record<string, unknown>): KObject => ({ metadata: m });

test('metadata.name follows the kind\'s rule, with the apiserver message', () => {
  const causes = validateObjectMeta(meta({ name: 'Bad_Name', namespace: 'default' }), true);
  assert.deepEqual(causes, [{ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "Bad_Name": ${subdomainMsg}` }]);
  assert.equal(invalid('ConfigMap', '', 'Bad_Name', causes).message, `ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${subdomainMsg}`);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a'.repeat(254), namespace: 'd' }), true)), [`metadata.name: Invalid value: "${'a'.repeat(254)}": must be no more than 253 bytes`]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'my.app', namespace: 'd' }), true)), []);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'my.ns' }), false, 'label')), ['metadata.name: Invalid value: "my.ns": must not contain dots']);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'My-NS' }), false, 'label')), [`metadata.name: Invalid value: "My-NS": ${labelMsg}`]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'x'.repeat(64) }), false, 'label')), [`metadata.name: Invalid value: "${'x'.repeat(64)}": must be no more than 63 bytes`]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'system:controller:job-controller' }), false, 'pathSegment')), []);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a/b%c' }), false, 'pathSegment')), ["metadata.name: Invalid value: \"a/b%c\": may not contain '/'", "metadata.name: Invalid value: \"a/b%c\": may not contain '%'"]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: '..' }), false, 'pathSegment')), ["metadata.name: Invalid value: \"..\": may not be '..'"]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'c'.repeat(53), namespace: 'd' }), true, 'cronJob')), [`metadata.name: Invalid value: "${'c'.repeat(53)}": must be no more than 52 characters`]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ namespace: 'd' }), true)), ['metadata.name: Required value: name or generateName is required']);
});

test('generateName is checked as a prefix', () => {
  assert.deepEqual(msgs(validateObjectMeta(meta({ generateName: 'web-', name: 'web-abcde', namespace: 'd' }), true)), []);
  assert.deepEqual(msgs(validateObjectMeta(meta({ generateName: 'Web-', namespace: 'd' }), true)), [
    `metadata.generateName: Invalid value: "Web-": ${subdomainMsg}`,
    'metadata.name: Required value: name or generateName is required',
  ]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ generateName: 'x-', name: 'x-1' }), false, 'label')), []);
});

test('namespace, labels, annotations, generation', () => {
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a' }), true)), ['metadata.namespace: Required value']);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', namespace: 'Bad.NS' }), true)), [`metadata.namespace: Invalid value: "Bad.NS": ${labelMsg}`]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', namespace: 'x' }), false)), ['metadata.namespace: Forbidden: not allowed on this type']);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', generation: -1 }), false)), ['metadata.generation: Invalid value: -1: must be greater than or equal to 0']);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', labels: { 'app.kubernetes.io/name': 'web', ok: '' } }), false)), []);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', labels: { 'bad key': 'v', k: 'bad value' } }), false)), [
    "metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    "metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  ]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', labels: { k: 'v'.repeat(64) } }), false)), [`metadata.labels: Invalid value: "${'v'.repeat(64)}": must be no more than 63 bytes`]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', annotations: { 'Example.COM/Key': 'x', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } }), false)), []);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', annotations: { 'a b': 'x' } }), false)), [
    "metadata.annotations: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
  ]);
  const big = validateObjectMeta(meta({ name: 'a', annotations: { big: 'x'.repeat(256 * 1024) } }), false);
  assert.deepEqual(big, [{ reason: 'FieldValueTooLong', field: 'metadata.annotations', message: 'Too long: may not be more than 262144 bytes' }]);
  assert.deepEqual(validateObjectMeta(meta({ name: 'a', annotations: { b: 'x'.repeat(256 * 1024 - 1) } }), false), []);
});

test('owner references, finalizers and managed fields', () => {
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }] }), false)), []);
  // "apps" parses as a version of the core group, so only the empty fields are reported.
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', ownerReferences: [{ apiVersion: 'apps', kind: '', name: '', uid: '' }] }), false)), [
    'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
    'metadata.ownerReferences.name: Invalid value: "": must not be empty',
    'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
  ]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', ownerReferences: [{ apiVersion: 'a/b/c', kind: 'K', name: 'n', uid: 'u' }] }), false)), [
    'metadata.ownerReferences.apiVersion: Invalid value: "a/b/c": version must not be empty',
  ]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', ownerReferences: [{ apiVersion: '', kind: '', name: '', uid: '' }] }), false)), [
    'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
    'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
    'metadata.ownerReferences.name: Invalid value: "": must not be empty',
    'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
  ]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', ownerReferences: [{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: 'u' }] }), false)), [
    'metadata.ownerReferences: Invalid value: {"apiVersion":"v1","kind":"Event","name":"e","uid":"u"}: /v1, Kind=Event is disallowed from being an owner',
  ]);
  const two = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'a', uid: '1', controller: true }, { apiVersion: 'v1', kind: 'Node', name: 'n', uid: '2', controller: true }];
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', ownerReferences: two }), false)), [
    `metadata.ownerReferences: Invalid value: ${JSON.stringify(two)}: Only one reference can have Controller set to true. Found "true" in references for ReplicaSet/a and Node/n`,
  ]);
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', finalizers: ['kubernetes.io/pvc-protection', 'orphan', 'foregroundDeletion'] }), false)), [
    'metadata.finalizers: Invalid value: ["kubernetes.io/pvc-protection","orphan","foregroundDeletion"]: finalizer orphan and foregroundDeletion cannot be both set',
  ]);
  assert.equal(msgs(validateObjectMeta(meta({ name: 'a', finalizers: ['bad finalizer'] }), false))[0].slice(0, 53), 'metadata.finalizers: Invalid value: "bad finalizer": ');
  assert.deepEqual(msgs(validateObjectMeta(meta({ name: 'a', managedFields: [{ manager: 'k\u0007', operation: 'Patch', fieldsType: 'FieldsV2' }] }), false)), [
    'metadata.managedFields[0].operation: Invalid value: "Patch": must be `Apply` or `Update`',
    'metadata.managedFields[0].fieldsType: Invalid value: "FieldsV2": must be `FieldsV1`',
    'metadata.managedFields[0].manager: Invalid value: "k\\a": invalid character U+0007 (at position 1)',
  ]);
});

test('the (kind, obj) form takes scope and name rule from the kind', () => {
  assert.equal(nameRule(NS), 'label');
  assert.equal(nameRule(kind('', 'v1', 'Service', 'services', 'x')), 'label');
  assert.equal(nameRule(kind('apps', 'v1', 'StatefulSet', 'statefulsets', 'x')), 'label');
  assert.equal(nameRule(kind('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', 'x', false)), 'pathSegment');
  assert.equal(nameRule(kind('batch', 'v1', 'CronJob', 'cronjobs', 'x')), 'cronJob');
  assert.equal(nameRule(DEPLOY), 'subdomain');
  assert.deepEqual(msgs(validateObjectMeta(NS, meta({ name: 'a.b' }))), ['metadata.name: Invalid value: "a.b": must not contain dots']);
  assert.deepEqual(msgs(validateObjectMeta(DEPLOY, meta({ name: 'a.b' }))), ['metadata.namespace: Required value']);
  assert.deepEqual(msgs(validateObjectMeta(kind('', 'v1', 'Service', 'services', 'x'), meta({ name: '1abc', namespace: 'd' }))), []);
});

test('label selectors in specs', () => {
  assert.deepEqual(validateLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }, 'spec.selector'), []);
  assert.deepEqual(msgs(validateLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In' }, { key: 'b', operator: 'Exists', values: ['x'] }, { key: 'c', operator: 'Has' }] }, 'spec.selector')), [
    "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
    'spec.selector.matchExpressions[2].operator: Invalid value: "Has": not a valid selector operator',
  ]);
  assert.deepEqual(fieldError.notSupported('spec.type', 'Foo', ['A', 'B']), { reason: 'FieldValueNotSupported', message: 'Unsupported value: "Foo": supported values: "A", "B"', field: 'spec.type' });
});
