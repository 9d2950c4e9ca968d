import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, applyMergePatch } from '../../src/machinery/patch/index.ts';
import { ApiError } from '../../src/machinery/errors.ts';

const cm = () => ({
  apiVersion: 'v1', kind: 'ConfigMap',
  metadata: { name: 'c', labels: { app: 'web' }, finalizers: ['a', 'b'] },
  data: { a: '1', b: '2' },
});

function expectStatus(fn: () => unknown, code: number, reason: string, message?: string | RegExp): ApiError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  assert.ok(err instanceof ApiError, `expected ApiError, got ${err}`);
  assert.equal(err.code, code);
  assert.equal(err.reason, reason);
  if (typeof message === 'string') assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
  return err;
}

const jsonPatchCases: { name: string; ops: unknown[]; want: (o: ReturnType<typeof cm>) => void }[] = [
  { name: 'replace a value', ops: [{ op: 'replace', path: '/data/a', value: '9' }], want: (o) => { o.data.a = '9'; } },
  { name: 'add a key', ops: [{ op: 'add', path: '/metadata/labels/tier', value: 'fe' }], want: (o) => { (o.metadata.labels as Record<string, string>).tier = 'fe'; } },
  { name: 'remove a key', ops: [{ op: 'remove', path: '/data/b' }], want: (o) => { delete (o.data as Partial<typeof o.data>).b; } },
  { name: 'append to a list', ops: [{ op: 'add', path: '/metadata/finalizers/-', value: 'c' }], want: (o) => { o.metadata.finalizers.push('c'); } },
  { name: 'escaped path segment', ops: [{ op: 'add', path: '/metadata/labels/example.com~1team', value: 'x' }], want: (o) => { (o.metadata.labels as Record<string, string>)['example.com/team'] = 'x'; } },
  { name: 'passing test then replace', ops: [{ op: 'test', path: '/data/a', value: '1' }, { op: 'replace', path: '/data/a', value: '2' }], want: (o) => { o.data.a = '2'; } },
  { name: 'move and copy', ops: [{ op: 'copy', from: '/data/a', path: '/data/c' }, { op: 'move', from: '/data/b', path: '/data/d' }], want: (o) => { Object.assign(o.data, { c: '1', d: '2' }); delete (o.data as Partial<typeof o.data>).b; } },
];

for (const c of jsonPatchCases) {
  test(`json patch: ${c.name}`, () => {
    const input = cm();
    const want = cm();
    c.want(want);
    assert.deepEqual(applyJsonPatch(input, c.ops), want);
    assert.deepEqual(input, cm(), 'input is not mutated');
  });
}

// The apiserver answers every patch that does not apply with a fixed 422 (NewGenericServerResponse).
for (const [name, ops] of Object.entries({
  'failing test op': [{ op: 'test', path: '/data/a', value: 'nope' }, { op: 'replace', path: '/data/a', value: '2' }],
  'remove of a missing path': [{ op: 'remove', path: '/data/zz' }],
  'replace of a missing key': [{ op: 'replace', path: '/spec/replicas', value: 1 }],
  'unknown op': [{ op: 'frobnicate', path: '/data/a' }],
  'index out of range': [{ op: 'add', path: '/metadata/finalizers/9', value: 'x' }],
})) {
  test(`json patch that does not apply: ${name}`, () => {
    const input = cm();
    const e = expectStatus(() => applyJsonPatch(input, ops), 422, 'Invalid', 'the server rejected our request due to an error in our request');
    assert.deepEqual(e.toStatus().details, {});
    assert.deepEqual(input, cm());
  });
}

test('malformed json patch bodies are 400 with the Go decoder message', () => {
  expectStatus(() => applyJsonPatch(cm(), { op: 'add' }), 400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  expectStatus(() => applyJsonPatch(cm(), 'x'), 400, 'BadRequest', 'json: cannot unmarshal string into Go value of type jsonpatch.Patch');
  expectStatus(() => applyJsonPatch(cm(), [1]), 400, 'BadRequest', 'json: cannot unmarshal number into Go value of type jsonpatch.Operation');
});

test('json patch with too many operations is 413', () => {
  const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'ConfigMap' }));
  expectStatus(() => applyJsonPatch(cm(), ops), 413, 'RequestEntityTooLarge', 'The allowed maximum operations in a JSON patch is 10000, got 10001');
});

const mergeCases: { name: string; doc: unknown; patch: unknown; want: unknown }[] = [
  { name: 'replace and add', doc: { a: 'b' }, patch: { a: 'c', d: 'e' }, want: { a: 'c', d: 'e' } },
  { name: 'null removes', doc: { a: 'b', c: 'd' }, patch: { a: null }, want: { c: 'd' } },
  { name: 'null for a missing key is a no-op', doc: { a: 'b' }, patch: { x: null }, want: { a: 'b' } },
  { name: 'nested objects merge', doc: { m: { a: 1, b: 2 } }, patch: { m: { b: 3, c: null } }, want: { m: { a: 1, b: 3 } } },
  { name: 'lists are replaced whole', doc: { l: [1, 2, 3] }, patch: { l: [4] }, want: { l: [4] } },
  { name: 'object replaces a scalar, nulls pruned', doc: { a: 'x' }, patch: { a: { b: 'c', d: null } }, want: { a: { b: 'c' } } },
  { name: 'new nested object loses its nulls', doc: {}, patch: { a: { b: { c: null, d: 1 } } }, want: { a: { b: { d: 1 } } } },
  { name: 'scalar replaces an object', doc: { a: { b: 1 } }, patch: { a: 'x' }, want: { a: 'x' } },
  { name: 'nulls inside lists are kept (evanphx v4)', doc: {}, patch: { l: [null, { a: null, b: 1 }] }, want: { l: [null, { b: 1 }] } },
  { name: 'empty patch', doc: { a: 1 }, patch: {}, want: { a: 1 } },
];

for (const c of mergeCases) {
  test(`merge patch: ${c.name}`, () => {
    const before = structuredClone(c.doc);
    assert.deepEqual(applyMergePatch(c.doc, c.patch), c.want);
    assert.deepEqual(c.doc, before, 'input is not mutated');
  });
}

test('merge patch of metadata labels on a ConfigMap', () => {
  const out = applyMergePatch(cm(), { metadata: { labels: { app: null, tier: 'be' } }, data: { b: null } });
  assert.deepEqual(out.metadata.labels, { tier: 'be' });
  assert.deepEqual(out.data, { a: '1' });
});

test('malformed merge patches', () => {
  expectStatus(() => applyMergePatch(cm(), null), 400, 'BadRequest', 'Invalid JSON Patch');
  expectStatus(() => applyMergePatch(cm(), 'x'), 400, 'BadRequest', 'Invalid JSON Patch');
  expectStatus(() => applyMergePatch(cm(), 3), 400, 'BadRequest', 'Invalid JSON Patch');
  const e = expectStatus(() => applyMergePatch(cm(), [{ a: 1 }]), 422, 'Invalid', /^ "" is invalid: patch: Invalid value: "\[\{\\"a\\":1\}\]": couldn't get version\/kind; json parse error: json: cannot unmarshal array/);
  assert.equal(e.details?.causes?.[0]?.field, 'patch');
});
