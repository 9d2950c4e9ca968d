// src/docker/ against the real engine: the sandbox image, containers, the network, images, logs,
// exec/attach and live volume files. Everything made here carries this file's instance label and
// k2d.test=1, and is removed in after(), failures included.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { attach, exec } from '../../src/docker/exec.ts';
import { Engine } from '../../src/docker/engine.ts';
import * as C from '../../src/docker/containers.ts';
import { ensureVolumeDirs, writePodVolumes, writeVolumeFiles } from '../../src/docker/files.ts';
import { dial, EngineError, NameConflictError } from '../../src/docker/http.ts';
import { imagePresent, pull, resolveImageId } from '../../src/docker/images.ts';
import { logs } from '../../src/docker/logs.ts';
import { connect, ensureNetwork, reconnectWithAliases } from '../../src/docker/network.ts';
import { ensureVolume, listVolumesByLabels, removeVolume } from '../../src/docker/volumes.ts';
import { ensureSandboxImage, PAUSE_PATH } from '../../src/docker/sandbox.ts';
import type { DockerInspect } from '../../src/translate/status.ts';
import { docker, removeDockerObjects, uniqueName } from './harness.ts';

const instance = uniqueName('dkr');
const L = { 'k2d.io/instance': instance, 'k2d.test': '1' };
const pauseTag = `k2d-test/pause:${instance}`;
const engine = new Engine();
let pauseImage: string;

before(async () => {
  const bb = await docker(['image', 'inspect', 'busybox:latest']);
  assert.equal(bb.code, 0, 'busybox:latest missing: run scripts/test-env.sh');
  // Two callers at once: one build.
  const [a, b] = await Promise.all([
    ensureSandboxImage(engine, { tag: pauseTag, labels: { 'k2d.test': '1' } }),
    ensureSandboxImage(engine, { tag: pauseTag, labels: { 'k2d.test': '1' } }),
  ]);
  assert.equal(a, pauseTag);
  assert.equal(b, pauseTag);
  pauseImage = a;
});

after(async () => {
  engine.close();
  await removeDockerObjects(instance);
  await docker(['image', 'rm', '-f', pauseTag]);
});

const n = (what: string) => `${instance}-${what}`;

async function text(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += c.toString();
  return s;
}

async function busybox(name: string, cmd: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const id = await C.create(engine, n(name), { Image: 'busybox:latest', Cmd: cmd, Labels: L, HostConfig: { RestartPolicy: { Name: 'no' } }, ...extra });
  await C.start(engine, id);
  return id;
}

async function sh(id: string, script: string): Promise<{ out: string; err: string; code: number }> {
  const s = await exec(engine, id, { cmd: ['sh', '-c', script] });
  const [out, err, code] = await Promise.all([text(s.stdout), text(s.stderr), s.exitCode]);
  return { out, err, code };
}

describe('sandbox image', () => {
  test('is FROM scratch with /pause, SIGKILL as stop signal, a non-root user and the pause label', async () => {
    const img = await dial(engine, { method: 'GET', path: `/images/${encodeURIComponent(pauseImage)}/json` });
    assert.equal(img.Config.StopSignal, 'SIGKILL');
    assert.deepEqual(img.Config.Entrypoint, [PAUSE_PATH]);
    assert.equal(img.Config.User, '65535:65535');
    assert.equal(img.Config.Labels['k2d.io/component'], 'pause');
    assert.equal(img.Config.Labels['k2d.test'], '1');
    assert.ok(img.Size < 4096, `image is ${img.Size} bytes`);
    // Built once: the second call finds it.
    assert.equal(await ensureSandboxImage(engine, { tag: pauseTag }), pauseTag);
  });

  test('a container runs, stays up on next to no memory, and stops at once', async () => {
    const id = await C.create(engine, n('pause'), { Image: pauseImage, Labels: L, HostConfig: {} });
    await C.start(engine, id);
    await new Promise((ok) => setTimeout(ok, 1000));
    const c = await C.inspect(engine, id);
    assert.equal(c?.State.Running, true);
    const top = await dial(engine, { method: 'GET', path: `/containers/${id}/top`, query: { ps_args: '-o pid,rss,args' } });
    const row: string[] = top.Processes[0];
    assert.equal(top.Processes.length, 1);
    assert.equal(row[2], PAUSE_PATH);
    assert.ok(Number(row[1]) <= 64, `pause RSS ${row[1]} KiB`);
    const t = Date.now();
    await C.stop(engine, id, 30);
    assert.ok(Date.now() - t < 3000, `stop took ${Date.now() - t} ms`);
    const stopped = await C.inspect(engine, id);
    assert.equal(stopped?.State.Running, false);
    assert.equal(stopped?.State.ExitCode, 137);
  });
});

describe('containers', () => {
  test('create, name conflict, start, inspect, list, wait, rename, kill, remove', async () => {
    const body = { Image: 'busybox:latest', Cmd: ['sh', '-c', 'exit 7'], Labels: { ...L, 'k2d.io/case': 'lifecycle' }, HostConfig: {} };
    const id = await C.create(engine, n('life'), body);
    const dup = await C.create(engine, n('life'), body).then(() => undefined, (e) => e);
    assert.ok(dup instanceof NameConflictError, String(dup));
    assert.equal(dup.code, 409);
    assert.equal(dup.existingId, id);
    assert.equal(dup.toStatus().reason, 'AlreadyExists');

    await C.start(engine, id);
    assert.deepEqual(await C.wait(engine, id), { exitCode: 7 });
    await C.start(engine, id).catch(() => undefined); // restarting an exited container is allowed
    await C.wait(engine, id);
    await C.kill(engine, id); // not running: no error
    await C.stop(engine, id, 1); // already stopped: no error

    // What inspect gives is what the status translator reads.
    const c: DockerInspect | undefined = await C.inspect(engine, id);
    assert.ok(c);
    assert.equal(c.Config?.Labels?.['k2d.io/case'], 'lifecycle');
    const full = (await C.inspect(engine, id))!;
    assert.equal(full.Name, n('life'));
    assert.equal(c.State.Running, false);
    assert.equal(c.State.ExitCode, 7);
    assert.match(full.Image, /^sha256:/);

    const listed = await C.listByLabels(engine, { 'k2d.io/instance': instance, 'k2d.io/case': 'lifecycle' });
    assert.deepEqual(listed.map((x) => x.Id), [id]);
    assert.equal(listed[0].State, 'exited');
    assert.equal((await C.listByLabels(engine, { 'k2d.io/instance': instance, 'k2d.io/case': true })).length, 1);

    await C.rename(engine, id, n('life2'));
    assert.equal((await C.inspect(engine, n('life2')))?.Id, id);
    assert.equal(await C.remove(engine, id, { force: true, volumes: true }), true);
    assert.equal(await C.remove(engine, id), false);
    assert.equal(await C.inspect(engine, id), undefined);
  });

  test('engine errors become Status errors: 404, 409, refused labels, and 503 when unreachable', async () => {
    const missing = await C.create(engine, n('noimg'), { Image: 'k2d-test/absent:1', Labels: L, HostConfig: {} }).then(() => undefined, (e) => e);
    assert.ok(missing instanceof EngineError);
    assert.equal(missing.code, 404);
    assert.match(missing.message, /No such image/i);
    await assert.rejects(C.create(engine, n('nolabel'), { Image: 'busybox:latest', Labels: {} }), /k2d.io\/instance/);
    const stopped = await C.create(engine, n('stopped'), { Image: 'busybox:latest', Cmd: ['true'], Labels: L, HostConfig: {} });
    const e409 = await exec(engine, stopped, { cmd: ['true'] }).then(() => undefined, (e) => e);
    assert.ok(e409 instanceof EngineError);
    assert.equal(e409.code, 409);

    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/k2d-test.sock';
    const gone = new Engine();
    if (saved === undefined) delete process.env.DOCKER_HOST; else process.env.DOCKER_HOST = saved;
    const e503 = await C.inspect(gone, 'x').then(() => undefined, (e) => e);
    assert.ok(e503 instanceof EngineError);
    assert.equal(e503.code, 503);
    assert.equal(e503.toStatus().reason, 'ServiceUnavailable');
    assert.equal(e503.engineStatus, 0);
    const p = await pull(gone, 'busybox:latest');
    assert.equal(p.ok, false);
    assert.equal(!p.ok && p.reason, 'Unreachable');
  });
});

describe('network', () => {
  test('ensureNetwork makes one labelled bridge even when raced; aliases change on a running container', async (t) => {
    const name = n('net');
    const [a, b] = await Promise.all([ensureNetwork(engine, name, L), ensureNetwork(engine, name, L)]);
    assert.equal(a.Id, b.Id);
    assert.equal(a.Driver, 'bridge');
    assert.equal(a.Labels['k2d.io/instance'], instance);
    const ls = await docker(['network', 'ls', '-q', '--filter', `name=^${name}$`]);
    assert.equal(ls.stdout.trim().split('\n').length, 1);
    // A twin left by another process's race (engines before API 1.44 allow one without
    // CheckDuplicate): the oldest wins, the twin goes.
    const twin = await dial(engine, { method: 'POST', path: '/networks/create', body: { Name: name, Driver: 'bridge', Labels: L } }).catch(() => undefined);
    if (twin) {
      assert.equal((await ensureNetwork(engine, name, L)).Id, a.Id);
      const again = await docker(['network', 'ls', '-q', '--no-trunc', '--filter', `name=^${name}$`]);
      assert.equal(again.stdout.trim(), a.Id);
    }

    const srv = await C.create(engine, n('srv'), { Image: pauseImage, Labels: L, HostConfig: { NetworkMode: name } });
    await C.start(engine, srv);
    assert.equal(await connect(engine, name, srv, ['x']), false, 'already connected');
    const cli = await busybox('cli', ['sleep', '600'], { HostConfig: { NetworkMode: name } });
    const before = await C.inspect(engine, srv);

    const t0 = Date.now();
    const ip = await reconnectWithAliases(engine, name, srv, ['db.ns1.svc.cluster.local', 'db-alias']);
    const took = Date.now() - t0;
    t.diagnostic(`reconnect ${took} ms, address ${before?.NetworkSettings.Networks[name].IPAddress} -> ${ip}; twin case ${twin ? 'ran' : 'refused by the engine'}`);
    assert.ok(took < 3000, `reconnect took ${took} ms`);
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    const after = await C.inspect(engine, srv);
    assert.equal(after?.State.Pid, before?.State.Pid, 'the process kept running');
    assert.equal(after?.State.StartedAt, before?.State.StartedAt);
    assert.ok(after?.NetworkSettings.Networks[name].Aliases?.includes('db-alias'));
    const r = await sh(cli, 'nslookup db.ns1.svc.cluster.local 127.0.0.11 && nslookup db-alias 127.0.0.11');
    assert.equal(r.code, 0, r.out + r.err);
    assert.ok(r.out.includes(ip), r.out);

    // Dropping the alias: the name stops resolving.
    await reconnectWithAliases(engine, name, srv, ['other']);
    const gone = await sh(cli, 'nslookup db-alias 127.0.0.11');
    assert.notEqual(gone.code, 0, gone.out);
    await C.remove(engine, cli, { force: true });
    await C.remove(engine, srv, { force: true });
  });
});

describe('images', () => {
  test('presence and id', async () => {
    assert.equal(await imagePresent(engine, 'busybox:latest'), true);
    assert.equal(await imagePresent(engine, 'busybox'), true);
    assert.equal(await imagePresent(engine, 'k2d-test/absent:1'), false);
    const id = await resolveImageId(engine, 'busybox:latest');
    assert.match(id ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(await resolveImageId(engine, 'k2d-test/absent:1'), undefined);
  });

  test('a pull that cannot succeed fails fast with the engine text; a bad name is InvalidImageName', async () => {
    const t = Date.now();
    const r = await pull(engine, 'k2d-test.invalid/absent/image:1', {
      auth: [{ username: 'u', password: 'p', serveraddress: 'k2d-test.invalid' }], signal: AbortSignal.timeout(20_000),
    });
    assert.ok(Date.now() - t < 15_000, `pull took ${Date.now() - t} ms`);
    assert.equal(r.ok, false);
    assert.ok(!r.ok && ['Failed', 'NotFound', 'Unauthorized'].includes(r.reason), JSON.stringify(r));
    assert.match(!r.ok ? r.message : '', /k2d-test\.invalid/);
    const bad = await pull(engine, 'Not A Valid Name');
    assert.deepEqual(bad.ok ? undefined : bad.reason, 'InvalidImageName');
    assert.equal(await imagePresent(engine, 'k2d-test.invalid/absent/image:1'), false);
  });
});

describe('logs', () => {
  test('stdout and stderr in order, demultiplexed; tail, timestamps, limitBytes, since', async () => {
    const id = await busybox('logs', ['sh', '-c', 'echo out1; sleep 0.1; echo err1 >&2; sleep 0.1; echo out2']);
    await C.wait(engine, id);
    assert.equal(await text(await logs(engine, id)), 'out1\nerr1\nout2\n');
    assert.equal(await text(await logs(engine, id, { tail: 1 })), 'out2\n');
    assert.equal(await text(await logs(engine, id, { tail: 0 })), '');
    assert.equal(await text(await logs(engine, id, { limitBytes: 7 })), 'out1\ner');
    const stamped = (await text(await logs(engine, id, { timestamps: true }))).trim().split('\n');
    assert.equal(stamped.length, 3);
    assert.match(stamped[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z err1$/);
    assert.equal(await text(await logs(engine, id, { since: new Date(Date.now() + 60_000) })), '');
    const from = new Date(stamped[1].split(' ')[0]);
    assert.equal(await text(await logs(engine, id, { since: from })), 'err1\nout2\n');
  });

  test('a TTY container logs raw; follow streams until the container stops', async () => {
    const tty = await busybox('tty', ['sh', '-c', 'echo hi; echo there >&2'], { Tty: true });
    await C.wait(engine, tty);
    assert.equal(await text(await logs(engine, tty)), 'hi\r\nthere\r\n');

    const f = await busybox('follow', ['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.3; done']);
    const stream = await logs(engine, f, { follow: true, tty: false });
    const seen: Array<[string, number]> = [];
    const t = Date.now();
    for await (const c of stream) seen.push([c.toString(), Date.now() - t]);
    assert.equal(seen.map((x) => x[0]).join(''), 'line1\nline2\nline3\n');
    assert.ok(seen.length >= 2 && seen[seen.length - 1][1] - seen[0][1] >= 300, `chunks arrived over time: ${JSON.stringify(seen)}`);
  });

  test('destroying a followed stream ends the request', async () => {
    const id = await busybox('follow2', ['sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
    const stream = await logs(engine, id, { follow: true });
    const first = await new Promise<string>((ok) => stream.once('data', (c) => ok(c.toString())));
    assert.equal(first, 'tick\n');
    stream.destroy();
    assert.equal(stream.destroyed, true);
    await C.remove(engine, id, { force: true });
  });
});

describe('exec and attach', () => {
  let box: string;
  before(async () => { box = await busybox('exec', ['sleep', '600']); });

  test('stdin piped to cat, EOF by half-close, output and exit code back', async () => {
    const s = await exec(engine, box, { cmd: ['cat'], stdin: true });
    const out = text(s.stdout);
    s.stdin!.write('hello\n');
    s.stdin!.end('world\n');
    assert.equal(await out, 'hello\nworld\n');
    assert.equal(await s.exitCode, 0);
  });

  test('stderr apart from stdout, and the exit status; env', async () => {
    const s = await exec(engine, box, { cmd: ['sh', '-c', 'echo "o $X"; echo e >&2; exit 3'], env: ['X=42'] });
    const [out, err, code] = await Promise.all([text(s.stdout), text(s.stderr), s.exitCode]);
    assert.equal(out, 'o 42\n');
    assert.equal(err, 'e\n');
    assert.equal(code, 3);
  });

  test('a TTY session is raw, and resize reaches the terminal', async () => {
    const s = await exec(engine, box, { cmd: ['sh', '-c', 'read x; stty size; echo "got $x"'], stdin: true, tty: true });
    const out = text(s.stdout);
    await s.resize(123, 45);
    s.stdin!.write('abc\r');
    assert.match(await out, /45 123\r\ngot abc\r\n/);
    assert.equal(await text(s.stderr), '');
    assert.equal(await s.exitCode, 0);
  });

  test('attach: stdin reaches the main process unaltered; its exit code comes back', async () => {
    const id = await C.create(engine, n('attach'), {
      Image: 'busybox:latest', Cmd: ['sh', '-c', 'cat; exit 5'], OpenStdin: true, StdinOnce: true, AttachStdin: true,
      Labels: L, HostConfig: {},
    });
    await C.start(engine, id);
    const s = await attach(engine, id, { stdin: true });
    const out = text(s.stdout);
    s.stdin!.end('ping\n');
    assert.equal(await out, 'ping\n');
    assert.equal(await s.exitCode, 5);
  });

  test('attach without StdinOnce: the end of stdin does not cut the output that follows it', async () => {
    const id = await C.create(engine, n('keep'), {
      Image: 'busybox:latest', Cmd: ['sh', '-c', 'read x; sleep 0.3; echo "got $x"'], OpenStdin: true, AttachStdin: true,
      Labels: L, HostConfig: {},
    });
    await C.start(engine, id);
    const s = await attach(engine, id, { stdin: true });
    const out = text(s.stdout);
    s.stdin!.end('hello\n');
    assert.equal(await out, 'got hello\n');
    assert.equal(await s.exitCode, 0);
  });

  test('attach to a container that already exited is refused at once (the engine would hold the stream open forever)', async () => {
    const id = await C.create(engine, n('gone'), { Image: 'busybox:latest', Cmd: ['true'], Labels: L, HostConfig: {} });
    await C.start(engine, id);
    await C.wait(engine, id);
    const err = await attach(engine, id, { stdin: false }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof EngineError, `refused with an EngineError, got ${String(err)}`);
    assert.match(err.message, /not running/);
  });
});

describe('volume files', () => {
  test('configMap-style files change atomically under a running container; secrets on tmpfs', async (t) => {
    const root = '/k2d/volumes';
    const cm = n('cm');
    const sec = n('sec');
    const sandbox = await C.create(engine, n('sandbox'), {
      Image: pauseImage, Labels: L, HostConfig: {
        Mounts: [
          { Type: 'volume', Source: cm, Target: `${root}/cfg`, VolumeOptions: { Labels: L } },
          { Type: 'volume', Source: sec, Target: `${root}/tok`, VolumeOptions: { Labels: L, DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs' } } } },
        ],
      },
    });
    await C.start(engine, sandbox);
    const app = await busybox('app', ['sleep', '600'], {
      HostConfig: { Mounts: [{ Type: 'volume', Source: cm, Target: '/etc/cfg', ReadOnly: true }, { Type: 'volume', Source: sec, Target: '/etc/tok', ReadOnly: true }] },
    });
    const target = { container: sandbox, path: `${root}/cfg` };
    const f = (path: string, s: string, mode = 0o644, gid?: number) => ({ path, content: Buffer.from(s), mode, ...(gid !== undefined ? { gid } : {}) });

    assert.equal(await writeVolumeFiles(engine, target, [f('a', 'v1'), f('sub/b', 'bee', 0o600, 2000)]), true);
    let r = await sh(app, 'cat /etc/cfg/a; echo; cat /etc/cfg/sub/b; echo; readlink /etc/cfg/a; readlink /etc/cfg/..data; stat -c "%a %g" /etc/cfg/..data/sub/b');
    assert.equal(r.code, 0, r.err);
    const [a1, b1, linkA, data1, modeB] = r.out.trim().split('\n');
    assert.equal(a1, 'v1');
    assert.equal(b1, 'bee');
    assert.equal(linkA, '..data/a');
    assert.match(data1, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d{9}$/);
    assert.equal(modeB, '600 2000');

    // Unchanged content: nothing written.
    assert.equal(await writeVolumeFiles(engine, target, [f('a', 'v1'), f('sub/b', 'bee', 0o600, 2000)]), false);

    // A reader loops over the file until the last version shows up, while several versions go
    // by: it must never miss the file nor see anything but a whole version.
    const t0 = Date.now();
    const reader = sh(app, [
      'i=0; while :; do v=$(cat /etc/cfg/a 2>&1); case "$v" in v[1-6]) ;; *) echo "BAD:$v";; esac',
      '[ "$v" = v6 ] && break; i=$((i+1)); [ $i -gt 20000 ] && { echo TIMEOUT; break; }; done; echo "reads $i"',
    ].join('; '));
    for (let i = 2; i <= 6; i++) assert.equal(await writeVolumeFiles(engine, target, [f('a', `v${i}`), f('c', `see${i}`)]), true);
    const seen = await reader;
    t.diagnostic(`5 updates in ${Date.now() - t0} ms; reader: ${seen.out.trim()}`);
    assert.match(seen.out, /^reads \d+\n$/, seen.out);
    assert.ok(Number(seen.out.split(' ')[1]) > 20, `the reader overlapped the updates: ${seen.out}`);

    r = await sh(app, 'cat /etc/cfg/a /etc/cfg/c; echo; ls -A /etc/cfg | sort | tr "\\n" " "');
    const lines = r.out.split('\n');
    assert.equal(lines[0], 'v6see6');
    const names = lines[1].trim().split(' ');
    // Old versions and the dropped `sub` are gone: only ..data, one version, and the keys.
    assert.equal(names.length, 4, lines[1]);
    assert.deepEqual(names.filter((x) => !x.startsWith('..2')), ['..data', 'a', 'c']);

    // Secret volume: the file lives on the sandbox-held tmpfs.
    assert.equal(await writeVolumeFiles(engine, { container: sandbox, path: `${root}/tok` }, [f('token', 's3cret', 0o400)]), true);
    r = await sh(app, 'cat /etc/tok/token; echo; grep " /etc/tok " /proc/mounts | cut -d" " -f3');
    assert.equal(r.out, 's3cret\ntmpfs\n');

    // Directory entries of emptyDir-like volumes: root mode, subPath dirs created once.
    await ensureVolumeDirs(engine, { container: sandbox, path: `${root}/tok` }, [
      { path: '', dir: true, mode: 0o777, content: Buffer.alloc(0) },
      { path: 'x/y', dir: true, mode: 0o2777, gid: 3000, ifMissing: true, content: Buffer.alloc(0) },
    ]);
    await ensureVolumeDirs(engine, { container: sandbox, path: `${root}/tok` }, [{ path: 'x/y', dir: true, mode: 0o700, ifMissing: true, content: Buffer.alloc(0) }]);
    r = await sh(app, 'stat -c "%a %g" /etc/tok /etc/tok/x/y');
    assert.equal(r.out, '777 0\n2777 3000\n');

    // Only through a running sandbox.
    const idle = await C.create(engine, n('idle'), { Image: pauseImage, Labels: L, HostConfig: { Mounts: [{ Type: 'volume', Source: cm, Target: `${root}/cfg` }] } });
    const refused = await writeVolumeFiles(engine, { container: idle, path: `${root}/cfg` }, [f('a', 'x')]).then(() => undefined, (e) => e);
    assert.ok(refused instanceof EngineError && refused.code === 409, String(refused));

    // Volumes by label; one in use cannot go, an unused claim volume can.
    const vols = (await listVolumesByLabels(engine, { 'k2d.io/instance': instance })).map((v) => v.Name);
    assert.ok(vols.includes(cm) && vols.includes(sec), vols.join());
    const claim = await ensureVolume(engine, n('claim'), { ...L, 'k2d.io/claim': 'data' });
    assert.equal((await ensureVolume(engine, n('claim'), L)).Name, claim.Name);
    assert.deepEqual((await listVolumesByLabels(engine, { 'k2d.io/claim': 'data', 'k2d.io/instance': instance })).map((v) => v.Name), [claim.Name]);
    const busy = await removeVolume(engine, cm).then(() => undefined, (e) => e);
    assert.ok(busy instanceof EngineError && busy.code === 409, String(busy));
    assert.equal(await removeVolume(engine, claim.Name), true);
    assert.equal(await removeVolume(engine, claim.Name), false);

    // The pod-level entry point: an emptied configMap volume loses its keys.
    assert.deepEqual(await writePodVolumes(engine, sandbox, root, [], ['cfg']), ['cfg']);
    r = await sh(app, 'ls /etc/cfg | wc -l; ls /etc/cfg/..data/ | wc -l');
    assert.equal(r.out.replace(/\s+/g, ' ').trim(), '0 0');
  });
});
