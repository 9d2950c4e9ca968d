// The four probe handlers against real servers on 127.0.0.1, reached through a dial that hands
// back a plain Duplex (as the in-pod relay does), never a net.Socket, unless a test says so.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import type { Config } from '../../src/config.ts';
import type { KObject } from '../../src/machinery/types.ts';
import {
  execOutput, grpcHealthRequest, grpcHealthStatus, httpProbeRequest, ProbeError, resolvePort, runProbe,
  type ProbeTarget, type ProbeTransport,
} from '../../src/runtime/probes.ts';
import { loadOrCreateTls } from '../../src/server/tls.ts';

type Obj = Record<string, any>;

/** A relay-like stream over a socket: no 'connect' event, it just ends when the socket does. */
function relay(sock: net.Socket): Duplex {
  const d = new Duplex({
    write(chunk, _enc, cb) { sock.write(chunk, () => cb()); },
    final(cb) { sock.end(); cb(); },
    read() { sock.resume(); },
    destroy(err, cb) { sock.destroy(); cb(err); },
  });
  sock.on('data', (b) => { if (!d.push(b)) sock.pause(); });
  sock.on('end', () => d.push(null));
  sock.on('error', () => d.push(null));
  return d;
}

/** Pod ports mapped to the test's servers; a port not in the map is closed. */
function transport(ports: Map<number, number>, opts: { raw?: boolean } = {}): ProbeTransport & { dialled: number[] } {
  const dialled: number[] = [];
  return {
    dialled,
    exec: () => Promise.reject(new Error('not used')),
    async dial(_pod, port) {
      dialled.push(port);
      const sock = net.connect(ports.get(port) ?? 1, '127.0.0.1');
      return opts.raw ? sock : relay(sock);
    },
  };
}

const pod: KObject = { metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec: {} };
const target = (container: Obj = {}): ProbeTarget => ({ pod, container: { name: 'app', ...container }, containerId: 'c1', podIP: '10.88.0.5' });

let web: http.Server;
let webPort: number;
let silentPort: number;
let silent: net.Server;
let seen: http.IncomingMessage[] = [];
before(async () => {
  web = http.createServer((req, res) => {
    seen.push(req);
    const code = Number(new URL(req.url!, 'http://x').searchParams.get('code') ?? 200);
    res.writeHead(code, { 'content-type': 'text/plain' });
    res.end('body\n');
  });
  await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
  webPort = (web.address() as net.AddressInfo).port;
  // Accepts and never answers: for timeouts.
  silent = net.createServer(() => {});
  await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
  silentPort = (silent.address() as net.AddressInfo).port;
});
after(() => { web.close(); web.closeAllConnections(); silent.close(); });

test('resolvePort: numbers, named container ports, numbers in strings; anything else is a probe error', () => {
  const c = { ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] };
  assert.equal(resolvePort(80, c), 80);
  assert.equal(resolvePort('metrics', c), 9090);
  assert.equal(resolvePort('8081', c), 8081);
  assert.throws(() => resolvePort('grpc', c), (e: Error) => e instanceof ProbeError && e.message === 'strconv.Atoi: parsing "grpc": invalid syntax');
  assert.throws(() => resolvePort(0, c), /invalid port number: 0/);
  assert.throws(() => resolvePort(70000, c), /invalid port number: 70000/);
});

test('httpProbeRequest: kubelet headers, canonical names, Host override, an empty Accept dropped', () => {
  const plain = httpProbeRequest({ path: '/healthz?full=1', port: 80 }, 8080, '10.88.0.5');
  assert.equal(plain.url, 'http://10.88.0.5:8080/healthz?full=1');
  assert.equal(plain.text, 'GET /healthz?full=1 HTTP/1.1\r\nHost: 10.88.0.5:8080\r\nAccept: */*\r\nUser-Agent: kube-probe/1.36\r\nConnection: close\r\n\r\n');
  const custom = httpProbeRequest({
    path: 'ready', host: 'svc.local',
    httpHeaders: [{ name: 'host', value: 'example.com' }, { name: 'x-custom-thing', value: 'a' }, { name: 'X-Custom-Thing', value: 'b' }, { name: 'accept', value: '' }, { name: 'user-agent', value: 'me' }],
  }, 80, '10.88.0.5');
  assert.equal(custom.url, 'http://svc.local:80/ready');
  assert.equal(custom.text, 'GET /ready HTTP/1.1\r\nHost: example.com\r\nUser-Agent: me\r\nX-Custom-Thing: a\r\nX-Custom-Thing: b\r\nConnection: close\r\n\r\n');
});

test('httpGet: 2xx and 3xx succeed through the dialled stream, with the path, headers and Host sent', async () => {
  seen = [];
  const t = transport(new Map([[8080, webPort]]));
  const probe = { httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, timeoutSeconds: 1 };
  const r = await runProbe(probe, target({ ports: [{ name: 'http', containerPort: 8080 }] }), t);
  assert.deepEqual(r, { result: 'success', output: '' });
  assert.deepEqual(t.dialled, [8080]);
  assert.equal(seen[0].url, '/healthz');
  assert.equal(seen[0].headers.host, '10.88.0.5:8080');
  assert.equal(seen[0].headers['x-probe'], 'yes');
  assert.equal(seen[0].headers['user-agent'], 'kube-probe/1.36');
  assert.equal((await runProbe({ httpGet: { path: '/?code=302', port: 8080 } }, target(), t)).result, 'success');
});

test('httpGet: 4xx/5xx, a closed port and a silent server fail with kubelet-like messages', async () => {
  const t = transport(new Map([[8080, webPort], [8081, silentPort]]));
  assert.deepEqual(await runProbe({ httpGet: { path: '/?code=503', port: 8080 } }, target(), t),
    { result: 'failure', output: 'HTTP probe failed with statuscode: 503' });
  assert.deepEqual(await runProbe({ httpGet: { path: '/', port: 9 } }, target(), t),
    { result: 'failure', output: 'Get "http://10.88.0.5:9/": dial tcp 10.88.0.5:9: connect: connection refused' });
  const started = Date.now();
  assert.deepEqual(await runProbe({ httpGet: { path: '/', port: 8081 }, timeoutSeconds: 1 }, target(), t),
    { result: 'failure', output: 'Get "http://10.88.0.5:8081/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)' });
  assert.ok(Date.now() - started >= 950);
});

test('httpGet with scheme HTTPS: TLS over the dialled stream, the certificate not verified (as kubelet)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k2d-probe-tls-'));
  try {
    const tls = await loadOrCreateTls({ dataDir: dir, hostname: 'probe-test', advertiseAddr: '127.0.0.1', address: '127.0.0.1', token: 't' } as Config);
    const server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => { res.writeHead(req.url === '/ok' ? 200 : 500); res.end(); });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as net.AddressInfo).port;
    const t = transport(new Map([[8443, port]]));
    assert.deepEqual(await runProbe({ httpGet: { path: '/ok', port: 8443, scheme: 'HTTPS' } }, target(), t), { result: 'success', output: '' });
    assert.deepEqual(await runProbe({ httpGet: { path: '/bad', port: 8443, scheme: 'HTTPS' } }, target(), t), { result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    server.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tcpSocket: an open port succeeds, a closed one fails, through a relay and through a real socket', async () => {
  for (const raw of [false, true]) {
    const t = transport(new Map([[8080, webPort]]), { raw });
    assert.deepEqual(await runProbe({ tcpSocket: { port: 8080 } }, target(), t), { result: 'success', output: '' }, `raw=${raw}`);
    assert.deepEqual(await runProbe({ tcpSocket: { port: 'db' } }, target({ ports: [{ name: 'db', containerPort: 5432 }] }), t),
      { result: 'failure', output: 'dial tcp 10.88.0.5:5432: connect: connection refused' }, `raw=${raw}`);
  }
});

test('tcpSocket: a relay that never reports anything is a timeout', async () => {
  const t: ProbeTransport = { exec: () => Promise.reject(new Error('x')), dial: async () => Object.assign(new PassThrough(), { connecting: true }) };
  assert.deepEqual(await runProbe({ tcpSocket: { port: 80 }, timeoutSeconds: 1 }, target(), t), { result: 'failure', output: 'dial tcp 10.88.0.5:80: i/o timeout' });
});

/** A grpc.health.v1 server on h2c: service name -> status, or a gRPC error code. */
async function healthServer(statuses: Record<string, number>): Promise<{ port: number; close(): void }> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      if (headers[':path'] !== '/grpc.health.v1.Health/Check') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12', 'grpc-message': 'unknown service' }, { endStream: true });
        return;
      }
      const body = Buffer.concat(chunks);
      const service = body.length > 5 ? body.subarray(7).toString() : '';
      const status = statuses[service];
      if (status === undefined) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'unknown%20service' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      const msg = status ? Buffer.from([0x08, status]) : Buffer.alloc(0);
      const head = Buffer.alloc(5);
      head.writeUInt32BE(msg.length, 1);
      stream.end(Buffer.concat([head, msg]));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

test('grpc: grpc.health.v1 Health/Check over HTTP/2 through the dialled stream', async () => {
  const h = await healthServer({ '': 1, db: 2, cache: 0 });
  try {
    const t = transport(new Map([[9090, h.port]]));
    assert.deepEqual(await runProbe({ grpc: { port: 9090 } }, target(), t), { result: 'success', output: 'service healthy' });
    assert.deepEqual(await runProbe({ grpc: { port: 9090, service: 'db' } }, target(), t), { result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
    assert.deepEqual(await runProbe({ grpc: { port: 9090, service: 'cache' } }, target(), t), { result: 'failure', output: 'service unhealthy (responded with "UNKNOWN")' });
    assert.deepEqual(await runProbe({ grpc: { port: 9090, service: 'other' } }, target(), t),
      { result: 'failure', output: 'error: health rpc probe failed: rpc error: code = NotFound desc = unknown service' });
    const closed = await runProbe({ grpc: { port: 9091 } }, target(), t);
    assert.equal(closed.result, 'failure');
    assert.match(closed.output, /^error: failed to connect service at "10\.88\.0\.5:9091": /);
  } finally {
    h.close();
  }
});

test('grpc framing: the request message and the response status', () => {
  assert.deepEqual([...grpcHealthRequest('')], [0, 0, 0, 0, 0]);
  assert.deepEqual([...grpcHealthRequest('db')], [0, 0, 0, 0, 4, 0x0a, 2, 0x64, 0x62]);
  assert.equal(grpcHealthStatus(Buffer.from([0, 0, 0, 0, 2, 0x08, 1])), 1);
  assert.equal(grpcHealthStatus(Buffer.from([0, 0, 0, 0, 0])), 0);
  // An unknown length-delimited field before the status is skipped.
  assert.equal(grpcHealthStatus(Buffer.from([0, 0, 0, 0, 6, 0x12, 2, 0x61, 0x62, 0x08, 3])), 3);
  assert.equal(grpcHealthStatus(Buffer.from([0, 0])), undefined);
});

test('exec: exit code 0 succeeds, anything else fails with the output; a transport error is a probe error', async () => {
  const calls: string[][] = [];
  const t: ProbeTransport = {
    exec: async (_id, cmd) => { calls.push(cmd); if (cmd[0] === 'gone') throw new Error('container not running'); return { exitCode: Number(cmd[1]), output: `out ${cmd[1]}` }; },
    dial: () => Promise.reject(new Error('x')),
  };
  assert.deepEqual(await runProbe({ exec: { command: ['x', '0'] } }, target(), t), { result: 'success', output: 'out 0' });
  assert.deepEqual(await runProbe({ exec: { command: ['x', '3'] } }, target(), t), { result: 'failure', output: 'out 3' });
  await assert.rejects(runProbe({ exec: { command: ['gone'] } }, target(), t), (e: Error) => e instanceof ProbeError && /not running/.test(e.message));
});

test('execOutput: stdout and stderr together, capped at 10 KiB; an abort closes the session', async () => {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let closed = false;
  let exit!: (n: number) => void;
  const exitCode = new Promise<number>((ok) => { exit = ok; });
  const ac = new AbortController();
  const done = execOutput({ stdout, stderr, exitCode, close: () => { closed = true; exit(137); } }, ac.signal);
  stdout.write('a'.repeat(6000));
  stderr.write('b'.repeat(6000));
  await new Promise((r) => setImmediate(r));
  ac.abort();
  const r = await done;
  assert.equal(closed, true);
  assert.equal(r.exitCode, 137);
  assert.equal(r.output.length, 10 * 1024);
  assert.equal(r.output, 'a'.repeat(6000) + 'b'.repeat(10 * 1024 - 6000));
});

test('a dial that answers only after the timeout is closed at once, not leaked', async () => {
  const armed: { fire?: () => void } = {};
  const timer = (): (() => void) | undefined => armed.fire;
  const clock = {
    now: () => 0,
    setTimeout: (fn: () => void) => { armed.fire = fn; return 1; },
    clearTimeout: () => {},
  };
  for (const probe of [{ tcpSocket: { port: 80 } }, { httpGet: { port: 80, path: '/' } }, { grpc: { port: 80 } }]) {
    let answer!: (d: Duplex) => void;
    const t: ProbeTransport = { exec: () => Promise.reject(new Error('x')), dial: () => new Promise((ok) => { answer = ok; }) };
    armed.fire = undefined;
    const result = runProbe(probe, target(), t, clock);
    // The grpc handler loads node:http2 first: wait for its timer to be armed.
    while (!timer()) await new Promise((r) => setImmediate(r));
    timer()!();
    assert.equal((await result).result, 'failure', JSON.stringify(probe));
    const late = new PassThrough();
    answer(late);
    await new Promise((r) => setImmediate(r));
    assert.equal(late.destroyed, true, JSON.stringify(probe));
  }
});
