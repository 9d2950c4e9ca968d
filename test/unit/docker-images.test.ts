// Image references, imagePullSecrets -> X-Registry-Auth matching (kubelet's keyring rules plus
// the Docker Hub spellings), and what a pull error means.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalRef, classifyPullError, credentialsFor, parseImageRef, parsePullSecret } from '../../src/docker/images.ts';
import type { KObject } from '../../src/machinery/types.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

test('image references parse with Docker defaults', () => {
  assert.deepEqual(parseImageRef('busybox'), { registry: 'docker.io', path: 'library/busybox', tag: undefined, digest: undefined });
  assert.deepEqual(parseImageRef('busybox:1.36'), { registry: 'docker.io', path: 'library/busybox', tag: '1.36', digest: undefined });
  assert.deepEqual(parseImageRef('user/app'), { registry: 'docker.io', path: 'user/app', tag: undefined, digest: undefined });
  assert.deepEqual(parseImageRef('index.docker.io/library/nginx'), { registry: 'docker.io', path: 'library/nginx', tag: undefined, digest: undefined });
  assert.deepEqual(parseImageRef('localhost/app:1'), { registry: 'localhost', path: 'app', tag: '1', digest: undefined });
  assert.deepEqual(parseImageRef(`localhost:5000/a/b@${DIGEST}`), { registry: 'localhost:5000', path: 'a/b', tag: undefined, digest: DIGEST });
  assert.deepEqual(parseImageRef(`reg.io/a/b:v2@${DIGEST}`), { registry: 'reg.io', path: 'a/b', tag: 'v2', digest: DIGEST });
  for (const bad of ['Not A Valid Name', 'UPPER', 'a:b:c', 'app@sha256:short', '', 'reg.io/', 'x:-bad']) {
    assert.equal(parseImageRef(bad), undefined, bad);
  }
  assert.equal(canonicalRef(parseImageRef('busybox')!), 'docker.io/library/busybox:latest');
  assert.equal(canonicalRef(parseImageRef(`reg.io/a:1@${DIGEST}`)!), `reg.io/a@${DIGEST}`);
});

const b64 = (s: string) => Buffer.from(s).toString('base64');
function configJson(auths: Record<string, object>, name = 'regcred'): KObject {
  return {
    apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) },
  };
}
function dockercfg(entries: Record<string, object>): KObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'old' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify(entries)) } };
}

test('pull secrets: auth decodes to username and password; legacy .dockercfg; unreadable ones are skipped', () => {
  assert.deepEqual(parsePullSecret(configJson({ 'reg.io': { auth: b64('alice:pa:ss'), email: 'a@x' } })),
    [{ key: 'reg.io', auth: { username: 'alice', password: 'pa:ss', email: 'a@x' } }]);
  assert.deepEqual(parsePullSecret(dockercfg({ 'https://reg.io': { username: 'bob', password: 'pw' } })),
    [{ key: 'https://reg.io', auth: { username: 'bob', password: 'pw' } }]);
  assert.deepEqual(parsePullSecret(configJson({ 'reg.io': { identitytoken: 'tok' } })), [{ key: 'reg.io', auth: { identitytoken: 'tok' } }]);
  const broken: KObject = { metadata: { name: 'b' }, data: { '.dockerconfigjson': b64('{not json') } };
  assert.deepEqual(parsePullSecret(broken), []);
  assert.deepEqual(parsePullSecret({ metadata: { name: 'opaque' }, data: { token: b64('x') } }), []);
});

test('credentials match the image registry, Docker Hub under all its names', () => {
  const hubForms = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'https://registry-1.docker.io/v2/'];
  for (const key of hubForms) {
    const secrets = [configJson({ [key]: { username: 'hub', password: 'pw' } })];
    for (const image of ['nginx', 'nginx:1.25', 'library/nginx', 'docker.io/library/nginx', 'me/private:2']) {
      assert.deepEqual(credentialsFor(image, secrets), [{ username: 'hub', password: 'pw', serveraddress: 'https://index.docker.io/v1/' }], `${key} for ${image}`);
    }
    assert.deepEqual(credentialsFor('quay.io/me/app', secrets), [], `${key} is not for quay.io`);
  }
});

test('credentials: host and port must match, a path narrows, wildcards match one label, most specific first', () => {
  const secrets = [
    configJson({ 'reg.io:5000': { username: 'any', password: '1' }, 'reg.io:5000/team': { username: 'team', password: '2' } }, 'a'),
    dockercfg({ '*.corp.example': { username: 'wild', password: '3' } }),
  ];
  const users = (image: string) => credentialsFor(image, secrets).map((a) => a.username);
  assert.deepEqual(users('reg.io:5000/team/app:1'), ['team', 'any']);
  assert.deepEqual(users('reg.io:5000/other/app'), ['any']);
  assert.deepEqual(users('reg.io/team/app'), [], 'no port, no match');
  assert.deepEqual(users('reg.io:5001/team/app'), []);
  assert.deepEqual(users('r1.corp.example/app'), ['wild']);
  assert.deepEqual(users('corp.example/app'), []);
  assert.deepEqual(users('a.b.corp.example/app'), []);
  assert.deepEqual(credentialsFor('reg.io:5000/team/app', secrets)[0].serveraddress, 'reg.io:5000');
  // The same credentials from two secrets are tried once.
  const twice = [configJson({ 'reg.io': { username: 'u', password: 'p' } }, 's1'), configJson({ 'https://reg.io/v1/': { username: 'u', password: 'p' } }, 's2')];
  assert.equal(credentialsFor('reg.io/x', twice).length, 1);
  assert.deepEqual(credentialsFor('Not A Valid Name', secrets), []);
});

test('pull errors: not found, unauthorised, bad name, anything else', () => {
  assert.equal(classifyPullError("pull access denied for foo, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), 'NotFound');
  assert.equal(classifyPullError('manifest for busybox:nope not found: manifest unknown: manifest unknown'), 'NotFound');
  assert.equal(classifyPullError('Head "https://reg.io/v2/x/manifests/1": unauthorized: authentication required'), 'Unauthorized');
  assert.equal(classifyPullError('Get "https://reg.io/v2/": no basic auth credentials'), 'Unauthorized');
  assert.equal(classifyPullError('invalid reference format: repository name must be lowercase'), 'InvalidImageName');
  assert.equal(classifyPullError('Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.0.0.1:53: no such host'), 'Failed');
  assert.equal(classifyPullError('write /var/lib/docker/tmp/x: no space left on device'), 'Failed');
});
