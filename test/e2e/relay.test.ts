// PodIO.dial through the sandbox's own relay (`/pause c PORT`) on the real engine: a sandbox from
// the built image holds the network namespace, busybox httpd joins it, and bytes reach httpd on
// 127.0.0.1 through an exec in the sandbox alone. Everything carries this file's instance label
// and k2d.test=1 and is removed in after().
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { after, before, test } from 'node:test';
import type { Config } from '../../src/config.ts';
import * as C from '../../src/docker/containers.ts';
import { Engine } from '../../src/docker/engine.ts';
import { ensureSandboxImage } from '../../src/docker/sandbox.ts';
import type { KObject } from '../../src/machinery/types.ts';
import { createPodIO } from '../../src/runtime/adapter.ts';
import { docker, removeDockerObjects, uniqueName } from './harness.ts';

const instance = uniqueName('rly');
const uid = `uid-${instance}`;
const L = { 'k2d.io/instance': instance, 'k2d.test': '1', 'io.kubernetes.pod.uid': uid };
const pauseTag = `k2d-test/pause:${instance}`;
const engine = new Engine();
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid }, spec: { containers: [{ name: 'web', image: 'busybox' }] } } as unknown as KObject;
const io = createPodIO(engine, undefined, { instance } as Config);
let sandbox: string;

before(async () => {
  assert.equal((await docker(['image', 'inspect', 'busybox:latest'])).code, 0, 'busybox:latest missing: run scripts/test-env.sh');
  const image = await ensureSandboxImage(engine, { tag: pauseTag, labels: { 'k2d.test': '1' } });
  sandbox = await C.create(engine, `${instance}-sandbox`, { Image: image, Labels: { ...L, 'k2d.io/kind': 'sandbox' }, HostConfig: { NetworkMode: 'none' } });
  await C.start(engine, sandbox);
  // busybox has nc, but the relay must not need it: the exec goes to the sandbox only.
  const web = await C.create(engine, `${instance}-web`, {
    Image: 'busybox:latest', Labels: { ...L, 'k2d.io/kind': 'container' },
    Cmd: ['sh', '-c', 'mkdir -p /www && echo relayed-ok > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www'],
    HostConfig: { NetworkMode: `container:${sandbox}` },
  });
  await C.start(engine, web);
});

after(async () => {
  engine.close();
  await removeDockerObjects(instance);
  await docker(['image', 'rm', '-f', pauseTag]);
});

function collect(s: Duplex): Promise<{ data: string; error?: Error; connected: boolean }> {
  return new Promise((resolve) => {
    let data = '';
    let connected = false;
    s.on('connect', () => { connected = true; });
    s.on('data', (b: Buffer) => { data += b.toString(); });
    s.on('end', () => resolve({ data, connected }));
    s.on('error', (error: Error) => resolve({ data, error, connected }));
  });
}

test('dial reaches httpd on 127.0.0.1 inside the pod through the sandbox; half-close ends the exchange', async () => {
  let res;
  for (let i = 0; i < 50; i++) { // httpd may not be listening yet
    const s = await io.dial(pod, 8080);
    const done = collect(s);
    s.end('GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n');
    res = await done;
    if (!res.error) break;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.ok(res && !res.error, String(res?.error));
  assert.equal(res.connected, true);
  assert.match(res.data, /^HTTP\/1\.[01] 200/);
  assert.match(res.data, /relayed-ok/);
});

test('a closed port is an error on the stream, with kubelet\'s words and the sandbox id', async () => {
  const s = await io.dial(pod, 8081);
  const res = await collect(s);
  assert.equal(res.connected, false);
  assert.ok(res.error);
  assert.match(res.error.message, new RegExp(`^failed to connect to localhost:8081 inside namespace "${sandbox}"`));
});

test('no running sandbox: a 400 before any exec', async () => {
  const other = { ...pod, metadata: { ...pod.metadata, uid: `${uid}-none` } } as KObject;
  await assert.rejects(io.dial(other, 8080), (e: { code?: number }) => e.code === 400);
});
