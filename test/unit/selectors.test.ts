import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/machinery/errors.ts';
import {
  formatLabels, formatLabelSelector, goQuote, labelSelectorMatcher, labelSelectorQueryString, labelSelectorString,
  parseFieldSelector, parseLabelSelector,
} from '../../src/machinery/selectors.ts';
import type { KObject } from '../../src/machinery/types.ts';

function err(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

const keyRegexMsg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const valueRegexMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

test('label selector syntax parses to the canonical form the apiserver prints', () => {
  const cases: Array<[string, string]> = [
    ['a=b', 'a=b'],
    ['a==b', 'a==b'],
    ['a!=b', 'a!=b'],
    ['a in (x,y)', 'a in (x,y)'],
    ['a in (y, x, y)', 'a in (x,y)'],
    ['a notin (x)', 'a notin (x)'],
    ['a', 'a'],
    ['!a', '!a'],
    ['a>1', 'a>1'],
    ['a<10', 'a<10'],
    ['  z = 1 ,  a in ( p ) ', 'a in (p),z=1'],
    ['a=', 'a='],
    ['a in ()', 'a in ()'],
    ['a in (b,)', 'a in (,b)'],
    ['a in (,b)', 'a in (,b)'],
    ['in=1', 'in=1'],
    ['a in (in,notin)', 'a in (in,notin)'],
    ['!example.com/debug,example.com/app=web', 'example.com/app=web,!example.com/debug'],
    ['', ''],
  ];
  for (const [input, canonical] of cases) assert.equal(labelSelectorQueryString(input), canonical, input);
});

test('label selector matching follows labels.Requirement.Matches', () => {
  const l = { app: 'web', tier: 'front', n: '5', empty: '' };
  const yes = ['app=web', 'app==web', 'app!=db', 'missing!=x', 'app in (web,db)', 'app notin (db)', 'missing notin (x)',
    'app', '!missing', 'n>4', 'n<6', 'empty=', 'empty in ()', 'app=web,tier=front', ''];
  const no = ['app=db', 'app!=web', 'missing=x', 'missing in (x)', 'app notin (web)', 'missing', '!app', 'n>5', 'n<5',
    'app>1', 'missing>1', 'app=web,tier=back'];
  for (const s of yes) assert.equal(parseLabelSelector(s)(l), true, s);
  for (const s of no) assert.equal(parseLabelSelector(s)(l), false, s);
  assert.equal(parseLabelSelector('!app')(undefined), true);
  assert.equal(parseLabelSelector('app')(undefined), false);
  assert.equal(parseLabelSelector('app notin (x)')(undefined), true);
  assert.equal(parseLabelSelector(undefined)(undefined), true);
});

test("Helm's release-storage selector is exact over many secrets", () => {
  const m = parseLabelSelector('owner=helm,name=my-release');
  const secrets = Array.from({ length: 1000 }, (_, i) => ({ owner: 'helm', name: `rel-${i % 50}`, status: 'superseded', version: String(i) }));
  secrets.push({ owner: 'helm', name: 'my-release', status: 'deployed', version: '7' });
  let hits = 0;
  for (let round = 0; round < 100; round++) for (const s of secrets) if (m(s)) hits++;
  assert.equal(hits, 100);
  assert.equal(m({ owner: 'helm', name: 'my-release-2' }), false);
});

test('invalid label selectors are 400s with the apiserver message', () => {
  const cases: Array<[string, string]> = [
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a=(b)', "unable to parse requirement: found '(', expected: identifier"],
    ['a=b!', "found '!', expected: ',' or 'end of string'"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['a,', "found '', expected: identifier after ','"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['a!b', "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=>b', "unable to parse requirement: found '>', expected: identifier"],
    ['-a=b', `unable to parse requirement: <nil>: Invalid value: "-a": ${keyRegexMsg}`],
    ['a>x', `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer`],
    ['a=b_', `unable to parse requirement: values[0][a]: Invalid value: "b_": ${valueRegexMsg}`],
    ['a=' + 'x'.repeat(64), `unable to parse requirement: values[0][a]: Invalid value: "${'x'.repeat(64)}": must be no more than 63 bytes`],
    ['x/y/z=1', "unable to parse requirement: <nil>: Invalid value: \"x/y/z\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"],
    ['/a=1', 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'],
    ['Ex_ample.com/a=1', "unable to parse requirement: <nil>: Invalid value: \"Ex_ample.com/a\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"],
  ];
  for (const [input, message] of cases) {
    const e = err(() => parseLabelSelector(input));
    assert.equal(e.code, 400, input);
    assert.equal(e.reason, 'BadRequest', input);
    assert.equal(e.message, message, input);
  }
});

test('LabelSelector objects: nil matches nothing, empty matches everything', () => {
  assert.equal(labelSelectorMatcher(undefined)({ a: 'b' }), false);
  assert.equal(labelSelectorMatcher(null)(undefined), false);
  assert.equal(labelSelectorMatcher({})({ a: 'b' }), true);
  assert.equal(labelSelectorMatcher({ matchLabels: {}, matchExpressions: [] })(undefined), true);
  const m = labelSelectorMatcher({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['front', 'edge'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'zone', operator: 'NotIn', values: ['b'] },
      { key: 'team', operator: 'Exists' },
    ],
  });
  assert.equal(m({ app: 'web', tier: 'edge', team: 'x' }), true);
  assert.equal(m({ app: 'web', tier: 'edge', team: 'x', zone: 'a' }), true);
  assert.equal(m({ app: 'web', tier: 'edge', team: 'x', zone: 'b' }), false);
  assert.equal(m({ app: 'web', tier: 'edge', team: 'x', canary: '' }), false);
  assert.equal(m({ app: 'web', tier: 'back', team: 'x' }), false);
  assert.equal(m({ app: 'web', tier: 'front' }), false);
  assert.equal(m({ app: 'db', tier: 'front', team: 'x' }), false);
});

test('LabelSelector objects print as the apiserver prints them', () => {
  const sel = { matchLabels: { b: '1', a: '2' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['z', 'y'] }, { key: 'a', operator: 'Exists' }, { key: 'd', operator: 'DoesNotExist' }] };
  assert.equal(labelSelectorString(sel), 'a=2,a,b=1,c in (y,z),!d');
  assert.equal(labelSelectorString(undefined), '');
  assert.equal(labelSelectorString({}), '');
  assert.equal(formatLabelSelector(undefined), '<none>');
  assert.equal(formatLabelSelector({ matchLabels: {} }), '<none>');
  assert.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }), '<error>');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), '<error>');
  assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
  assert.equal(formatLabels({}), '<none>');
  assert.equal(formatLabels(undefined), '<none>');
});

test('invalid LabelSelector objects throw the apimachinery text', () => {
  assert.equal(err(() => labelSelectorMatcher({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] })).message,
    '"Bogus" is not a valid label selector operator');
  assert.equal(err(() => labelSelectorMatcher({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })).message,
    "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
  assert.equal(err(() => labelSelectorMatcher({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] })).message,
    'values: Invalid value: ["x"]: values set must be empty for exists and does not exist');
  assert.equal(err(() => labelSelectorMatcher({ matchLabels: { 'bad key': 'v' } })).message,
    `key: Invalid value: "bad key": ${keyRegexMsg}`);
  assert.equal(err(() => labelSelectorMatcher({ matchLabels: { '-k': 'v_' } })).message,
    `[key: Invalid value: "-k": ${keyRegexMsg}, values[0][-k]: Invalid value: "v_": ${valueRegexMsg}]`);
});

const pod = (extra: Record<string, unknown> = {}): KObject => ({
  metadata: { name: 'web-1', namespace: 'prod' },
  spec: { nodeName: 'node-a', restartPolicy: 'Always' },
  status: { phase: 'Running' },
  ...extra,
});

test('field selectors match metadata and the kind\'s selectable fields', () => {
  const fields = ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'spec.hostNetwork'];
  const yes = ['metadata.name=web-1', 'metadata.name==web-1', 'metadata.namespace!=dev', 'metadata.name=web-1,metadata.namespace=prod',
    'spec.nodeName=node-a', 'status.phase!=Pending', 'spec.hostNetwork=false', 'spec.host=node-a', '', ','];
  const no = ['metadata.name=web-2', 'metadata.namespace=dev', 'metadata.name=web-1,status.phase=Pending', 'spec.nodeName=', 'spec.hostNetwork=true'];
  for (const s of yes) assert.equal(parseFieldSelector(s, [...fields, 'spec.host'])(pod()), true, s);
  for (const s of no) assert.equal(parseFieldSelector(s, fields)(pod()), false, s);
  assert.equal(parseFieldSelector('spec.nodeName=', fields)(pod({ spec: {} })), true);
  assert.equal(parseFieldSelector('metadata.name=a\\,b', fields)({ metadata: { name: 'a,b' } }), true);
  assert.equal(parseFieldSelector('metadata.name=a\\=b\\\\', fields)({ metadata: { name: 'a=b\\' } }), true);
  assert.equal(parseFieldSelector('spec.unschedulable=false', ['spec.unschedulable'])({ metadata: { name: 'n' }, spec: {} }), true);
  assert.equal(parseFieldSelector('spec.unschedulable=true', ['spec.unschedulable'])({ metadata: { name: 'n' }, spec: { unschedulable: true } }), true);
});

test('event field selectors read both core/v1 and events.k8s.io/v1 shapes', () => {
  const core: KObject = { metadata: { name: 'e1' }, involvedObject: { kind: 'Pod', name: 'p' }, source: { component: 'kubelet' }, reason: 'Pulled', type: 'Normal' };
  const v1: KObject = { metadata: { name: 'e2' }, regarding: { kind: 'Pod', name: 'p' }, deprecatedSource: { component: 'kubelet' }, reportingController: 'k2d', reason: 'Pulled', type: 'Normal' };
  assert.equal(parseFieldSelector('involvedObject.kind=Pod,involvedObject.name=p,source=kubelet,type=Normal', ['involvedObject.kind', 'involvedObject.name', 'source', 'type'])(core), true);
  assert.equal(parseFieldSelector('regarding.name=p,source=kubelet,reportingController=k2d', ['regarding.name', 'source', 'reportingController'])(v1), true);
  assert.equal(parseFieldSelector('reason=Killing', ['reason'])(core), false);
});

test('invalid field selectors are 400s with the apiserver message', () => {
  const cases: Array<[string, string[], string]> = [
    ['foo', [], "invalid selector: 'foo'; can't understand 'foo'"],
    ['metadata.name=a,b', [], "invalid selector: 'metadata.name=a,b'; can't understand 'b'"],
    ['metadata.name=a=b', [], 'invalid field selector: unescaped character in value: 61'],
    ['metadata.name=a\\x', [], 'invalid field selector: invalid escape sequence: \\x'],
    ['metadata.name=a\\', [], 'invalid field selector: invalid escape sequence: \\'],
    ['spec.x=1', ['metadata.name', 'metadata.namespace'], '"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"'],
    ['metadata.labels=1', [], '"metadata.labels" is not a known field selector: only "metadata.name", "metadata.namespace"'],
    ['spec.foo=1', ['metadata.name', 'spec.nodeName'], 'field label not supported: spec.foo'],
    ['zeta=1,alpha=2', ['type'], 'field label not supported: alpha'],
    ['=x', [], '"" is not a known field selector: only "metadata.name", "metadata.namespace"'],
  ];
  for (const [input, allowed, message] of cases) {
    const e = err(() => parseFieldSelector(input, allowed));
    assert.equal(e.code, 400, input);
    assert.equal(e.message, message, input);
  }
});

test('goQuote renders strings as Go %q does', () => {
  assert.equal(goQuote('plain'), '"plain"');
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('tab\tnl\n\x01'), '"tab\\tnl\\n\\x01"');
  assert.equal(goQuote('héllo ✓'), '"héllo ✓"');
});

test('Job field selector status.successful reads status.succeeded, an absent count as 0', () => {
  const job = (succeeded?: number) => ({ metadata: { name: 'j' }, status: succeeded === undefined ? {} : { succeeded } }) as unknown as Parameters<ReturnType<typeof parseFieldSelector>>[0];
  const sel = (s: string) => parseFieldSelector(s, ['status.successful']);
  assert.equal(sel('status.successful=1')(job(1)), true);
  assert.equal(sel('status.successful=1')(job(2)), false);
  assert.equal(sel('status.successful=0')(job()), true);
  assert.equal(sel('status.successful!=0')(job(3)), true);
});
