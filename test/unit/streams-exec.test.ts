// exec / attach / port-forward negotiation and framing, driven by scripted clients over plain
// HTTP (the `ws` client for WebSocket, a hand-written one for SPDY): the cases kubectl does not
// show, or shows only as a hang.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import {
  ResizeParser, decodeChannel, encodeChannel, type TerminalSize,
} from '../../src/server/streams/channel.ts';
import { execStatus, handleExecUpgrade, parseStreamQuery, type ExecSession } from '../../src/server/streams/exec.ts';
import { handlePortForwardUpgrade, queryPorts } from '../../src/server/streams/portforward.ts';
import { encodeData, encodeSynStream, FrameParser, HeaderCodec, FLAG_FIN } from '../../src/server/streams/spdy-frame.ts';
import { ApiError } from '../../src/machinery/errors.ts';
import { RawWebSocket, upgrade } from '../fixtures/streams/spdy-client.ts';

describe('channel framing', () => {
  test('the first byte of a message is its channel', () => {
    assert.deepEqual(encodeChannel(1, Buffer.from('hi')), Buffer.from([1, 0x68, 0x69]));
    assert.deepEqual(encodeChannel(3, Buffer.alloc(0)), Buffer.from([3]));
    assert.deepEqual(decodeChannel(Buffer.from([255, 0])), { channel: 255, data: Buffer.from([0]) });
    assert.equal(decodeChannel(Buffer.alloc(0)), undefined);
  });

  test('terminal sizes are read one JSON object at a time, however they are split', () => {
    const p = new ResizeParser();
    assert.deepEqual(p.push('{"Width":80,"Height":24}\n{"Width":1'), [{ width: 80, height: 24 }]);
    assert.deepEqual(p.push('00,"Height":30}\n'), [{ width: 100, height: 30 }]);
    assert.deepEqual(p.push('{"width":5,"height":6}'), [{ width: 5, height: 6 }]);
    assert.deepEqual(p.push('{"Width":"x"}{nope}{"Width":7,"Height":8}'), [{ width: 7, height: 8 }]);
  });
});

describe('query and status', () => {
  test('exec query: repeated command, Go booleans, tty drops stderr', () => {
    assert.deepEqual(parseStreamQuery('/exec?command=sh&command=-c&command=echo+a%3Bb&stdout=true&stderr=1&container=c'), {
      command: ['sh', '-c', 'echo a;b'], container: 'c', stdin: false, stdout: true, stderr: true, tty: false,
    });
    assert.deepEqual(parseStreamQuery('/attach?stdin=t&stdout=True&stderr=true&tty=true'), {
      command: [], container: undefined, stdin: true, stdout: true, stderr: false, tty: true,
    });
  });

  test('exec query errors are 400s with the apiserver wording', () => {
    const bad = (url: string, message: RegExp, opts = {}) => assert.throws(() => parseStreamQuery(url, opts),
      (e: unknown) => e instanceof ApiError && e.code === 400 && message.test(e.message));
    bad('/exec?command=ls', /you must specify at least 1 of stdin, stdout, stderr/);
    bad('/exec?stdout=yes', /strconv.ParseBool: parsing "yes": invalid syntax/);
    bad('/exec?stdout=true', /at least one command/, { requireCommand: true });
  });

  test('port query: repeated or comma-separated, each 1-65535', () => {
    assert.deepEqual(queryPorts('/portforward?ports=80&ports=8080,9090'), [80, 8080, 9090]);
    assert.throws(() => queryPorts('/portforward'), /"port" is required/);
    assert.throws(() => queryPorts('/portforward?ports=0'), /must be 1-65535/);
    assert.throws(() => queryPorts('/portforward?ports=http'), /must be 1-65535/);
  });

  test('the Status on the error channel is what client-go decodes', () => {
    assert.deepEqual(execStatus({ exitCode: 0 }), { metadata: {}, status: 'Success' });
    assert.deepEqual(execStatus({ exitCode: 3 }), {
      metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: 3', reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    // client-go parses the code as uint8.
    assert.equal((execStatus({ exitCode: 259 }).details as { causes: { message: string }[] }).causes[0].message, '3');
    assert.equal((execStatus({ exitCode: 256 }).details as { causes: { message: string }[] }).causes[0].message, '1');
    assert.deepEqual(execStatus({ error: 'no such container' }), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 500, reason: 'InternalError',
      message: 'Internal error occurred: no such container', details: { causes: [{ message: 'no such container' }] },
    });
  });
});

// ---- a server with a scriptable backend ---------------------------------------------------

let server: Server;
let port: number;
let onSession: (s: ExecSession, req: IncomingMessage) => void = () => {};
let echo: TcpServer;
const dialed: number[] = [];

function dial(p: number): Promise<Duplex> {
  dialed.push(p);
  if (p !== 7000) return Promise.reject(new Error(`nothing listens on ${p}`));
  return new Promise((resolve) => {
    const c = connect((echo.address() as AddressInfo).port, '127.0.0.1', () => resolve(c));
  });
}

before(async () => {
  echo = createTcpServer((c) => { c.on('error', () => {}); c.pipe(c); });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  server = createServer((_req, res) => { res.writeHead(404); res.end(); });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    if (req.url?.startsWith('/portforward')) { handlePortForwardUpgrade(req, socket, head, dial); return; }
    let q;
    try { q = parseStreamQuery(req.url ?? ''); } catch { q = { stdin: true, stdout: true, stderr: true, tty: false }; }
    handleExecUpgrade(req, socket, head, q, (s) => onSession(s, req));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.closeAllConnections();
  server.close();
  echo.close();
});

interface WsRun { protocol: string; messages: Buffer[]; closeCode: number; ws: WebSocket }

/** Opens a WebSocket, runs `script` once open, collects every message until the close. */
function wsRun(path: string, protocols: string[], script: (ws: WebSocket) => void = () => {}): Promise<WsRun> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols);
    const messages: Buffer[] = [];
    ws.on('open', () => script(ws));
    ws.on('message', (d: Buffer) => messages.push(d));
    ws.on('close', (code) => resolve({ protocol: ws.protocol, messages, closeCode: code, ws }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.on('error', reject);
  });
}

const text = (m: Buffer) => `${m[0]}:${m.subarray(1).toString()}`;

describe('exec over WebSocket', () => {
  test('v5: output on 1 and 2, stdin until [255, 0], Status on 3, then a normal close', async () => {
    onSession = (s) => {
      assert.equal(s.protocol, 'v5.channel.k8s.io');
      s.stdout!.write('out');
      s.stderr!.write('err');
      const got: Buffer[] = [];
      s.stdin!.on('data', (d: Buffer) => got.push(d));
      s.stdin!.on('end', () => { s.stdout!.write(`stdin=${Buffer.concat(got)}`); s.finish({ exitCode: 3 }); });
    };
    const r = await wsRun('/exec?command=x&stdin=true&stdout=true&stderr=true', ['v5.channel.k8s.io'], (ws) => {
      ws.send(Buffer.from([0, ...Buffer.from('ab')]));
      ws.send(Buffer.from([0, ...Buffer.from('c')]));
      ws.send(Buffer.from([255, 0]));
    });
    assert.equal(r.protocol, 'v5.channel.k8s.io');
    assert.deepEqual(r.messages.map(text), [
      '1:', // the "streams are open" message kubelet sends
      '1:out', '2:err', '1:stdin=abc',
      `3:${JSON.stringify(execStatus({ exitCode: 3 }))}`,
    ]);
    assert.equal(r.closeCode, 1000);
    assert.ok(r.messages.every((m) => m[0] !== 255), 'no close frames to the client');
  });

  test('the first protocol of the client that is served wins; v4 has no stdin close signal', async () => {
    let session!: ExecSession;
    let ended = false;
    onSession = (s) => {
      session = s;
      s.stdin!.on('data', () => {});
      s.stdin!.on('end', () => { ended = true; });
    };
    const gone = new Promise<void>((resolve) => {
      void wsRun('/exec?command=x&stdin=true&stdout=true', ['foo', 'v4.channel.k8s.io', 'v5.channel.k8s.io'], (ws) => {
        ws.send(Buffer.from([255, 0]));
        setTimeout(() => {
          assert.equal(session.protocol, 'v4.channel.k8s.io');
          assert.equal(ended, false, '[255, 0] means nothing in v4');
          ws.close();
          resolve();
        }, 100);
      });
    });
    await gone;
    await session.closed;
    await new Promise((r) => setImmediate(r));
    assert.equal(ended, true, 'stdin ends when the client leaves');
  });

  test('tty: no stderr stream, and resize messages become resize events', async () => {
    const sizes: TerminalSize[] = [];
    onSession = (s) => {
      assert.equal(s.stderr, undefined);
      s.resize!.on('resize', (size) => {
        sizes.push(size);
        if (sizes.length === 2) s.finish({ exitCode: 0 });
      });
    };
    const r = await wsRun('/exec?command=sh&stdin=true&stdout=true&stderr=true&tty=true', ['v5.channel.k8s.io'], (ws) => {
      ws.send(Buffer.from([4, ...Buffer.from('{"Width":80,"Height":24}\n')]));
      ws.send(Buffer.from([4, ...Buffer.from('{"Width":120,"Height":40}\n')]));
    });
    assert.deepEqual(sizes, [{ width: 80, height: 24 }, { width: 120, height: 40 }]);
    assert.equal(text(r.messages.at(-1)!), '3:{"metadata":{},"status":"Success"}');
  });

  test('finish() waits for pending output and ignores writes that come after it', async () => {
    onSession = (s) => {
      for (let i = 0; i < 100; i++) s.stdout!.write(Buffer.alloc(10_000, 65));
      s.finish({ error: 'container went away' });
      s.finish({ exitCode: 0 });
      s.stdout!.write('late');
    };
    const r = await wsRun('/exec?command=x&stdout=true', ['v5.channel.k8s.io']);
    const out = r.messages.filter((m) => m[0] === 1).reduce((n, m) => n + m.length - 1, 0);
    assert.equal(out, 1_000_000);
    const statuses = r.messages.filter((m) => m[0] === 3);
    assert.equal(statuses.length, 1);
    assert.match(statuses[0].toString(), /Internal error occurred: container went away/);
  });

  test('an unsupported subprotocol is refused with a Status', async () => {
    await assert.rejects(wsRun('/exec?command=x&stdout=true', ['base64.channel.k8s.io']), (e: { status: number; body: string }) => {
      assert.equal(e.status, 400);
      const status = JSON.parse(e.body);
      assert.equal(status.kind, 'Status');
      assert.match(status.message, /requested protocol\(s\) are not supported: \[base64.channel.k8s.io\]; supports \[v5.channel.k8s.io v4.channel.k8s.io\]/);
      return true;
    });
  });
});

describe('exec over SPDY', () => {
  const spdyHeaders = { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io, v3.channel.k8s.io' };

  test('101 names the protocol; the session starts once every stream is open', async () => {
    let started = 0;
    onSession = (s) => {
      started++;
      assert.equal(s.protocol, 'SPDY/3.1 v4.channel.k8s.io');
      s.stdin!.pipe(s.stdout!);
      s.stderr!.end('bye');
      s.stdin!.on('end', () => s.finish({ exitCode: 0 }));
    };
    const r = await upgrade(port, '/exec?command=cat&stdin=true&stdout=true&stderr=true', spdyHeaders);
    assert.equal(r.status, 101);
    assert.equal(r.headers.upgrade, 'SPDY/3.1');
    assert.equal(r.headers['x-stream-protocol-version'], 'v4.channel.k8s.io');
    const c = r.client;
    c.open(1, { streamtype: 'error' });
    c.open(3, { streamtype: 'stdin' });
    c.open(5, { streamtype: 'stdout' });
    await c.next((f) => f.type === 'syn_reply' && f.streamId === 5);
    assert.equal(started, 0, 'stderr is still missing');
    c.open(7, { streamtype: 'stderr' });
    await c.next((f) => f.type === 'syn_reply' && f.streamId === 7);
    c.send(encodeData(3, Buffer.from('piped'), true));
    assert.equal((await c.readAll(5)).toString(), 'piped');
    assert.equal((await c.readAll(7)).toString(), 'bye');
    assert.equal((await c.readAll(1)).toString(), '{"metadata":{},"status":"Success"}');
    assert.deepEqual(await c.next((f) => f.type === 'goaway'), { type: 'goaway', lastStreamId: 7, status: 0 });
    assert.equal(started, 1);
    c.socket.destroy();
  });

  test('tty: resize sizes arrive back to back on one stream; exit code on the error stream', async () => {
    const sizes: TerminalSize[] = [];
    onSession = (s) => {
      s.resize!.on('resize', (size) => {
        sizes.push(size);
        if (sizes.length === 2) s.finish({ exitCode: 42 });
      });
    };
    const r = await upgrade(port, '/exec?command=sh&stdin=true&stdout=true&tty=true', spdyHeaders);
    const c = r.client;
    c.open(1, { streamtype: 'error' });
    c.open(3, { streamtype: 'stdin' });
    c.open(5, { streamtype: 'stdout' });
    c.open(7, { streamtype: 'resize' });
    await c.next((f) => f.type === 'syn_reply' && f.streamId === 7);
    c.send(encodeData(7, Buffer.from('{"Width":80,"Height":24}\n{"Width":90,"Height":25}\n')));
    const status = JSON.parse((await c.readAll(1)).toString());
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.deepEqual(status.details.causes, [{ reason: 'ExitCode', message: '42' }]);
    assert.deepEqual(sizes, [{ width: 80, height: 24 }, { width: 90, height: 25 }]);
    c.socket.destroy();
  });

  test('a client that leaves mid-command resolves closed and ends stdin', async () => {
    let session!: ExecSession;
    let stdinEnded = false;
    const started = new Promise<void>((resolve) => {
      onSession = (s) => {
        session = s;
        s.stdin!.resume();
        s.stdin!.on('end', () => { stdinEnded = true; });
        resolve();
      };
    });
    const r = await upgrade(port, '/exec?command=sleep&stdin=true&stdout=true', spdyHeaders);
    r.client.open(1, { streamtype: 'error' });
    r.client.open(3, { streamtype: 'stdin' });
    r.client.open(5, { streamtype: 'stdout' });
    await started;
    r.client.socket.destroy();
    await session.closed;
    await new Promise((res) => setImmediate(res));
    assert.equal(stdinEnded, true);
    session.stdout!.write('nobody listens');
    session.finish({ exitCode: 0 });
  });

  test('no common protocol: 403 naming what the server accepts', async () => {
    const r = await upgrade(port, '/exec?command=x&stdout=true', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'channel.k8s.io' });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-accepted-stream-protocol-versions'], 'v4.channel.k8s.io');
    assert.match(r.body, /unable to negotiate protocol: client supports \[channel.k8s.io\], server accepts \[v4.channel.k8s.io\]/);
  });

  test('an upgrade to something else is a 400 Status', async () => {
    const r = await upgrade(port, '/exec?command=x&stdout=true', { Upgrade: 'h2c' }, 'GET');
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(r.body).message, 'Upgrade request required');
  });
});

describe('port-forward', () => {
  const pfHeaders = { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' };

  test('streams pair by requestID; data flows both ways; FIN from the client closes the pair', async () => {
    const r = await upgrade(port, '/portforward', pfHeaders);
    assert.equal(r.status, 101);
    assert.equal(r.headers['x-stream-protocol-version'], 'portforward.k8s.io');
    const c = r.client;
    // Two connections at once, their streams interleaved.
    c.open(1, { streamtype: 'error', port: '7000', requestid: '0' }, true);
    c.open(3, { streamtype: 'error', port: '7000', requestid: '1' }, true);
    c.open(5, { streamtype: 'data', port: '7000', requestid: '1' });
    c.open(7, { streamtype: 'data', port: '7000', requestid: '0' });
    c.send(encodeData(7, Buffer.from('zero'), true));
    c.send(encodeData(5, Buffer.from('one'), true));
    const [zero, one] = await Promise.all([c.readAll(7), c.readAll(5)]);
    assert.equal(zero.toString(), 'zero');
    assert.equal(one.toString(), 'one');
    // The error stream ends empty: no error.
    assert.equal((await c.readAll(1)).length, 0);
    c.socket.destroy();
  });

  test('clients without requestID pair consecutive stream ids, as kubelet does', async () => {
    const { client: c } = await upgrade(port, '/portforward', pfHeaders);
    c.open(1, { streamtype: 'error', port: '7000' }, true);
    c.open(3, { streamtype: 'data', port: '7000' });
    c.send(encodeData(3, Buffer.from('legacy'), true));
    assert.equal((await c.readAll(3)).toString(), 'legacy');
    c.socket.destroy();
  });

  test('a dial failure and a bad port header are written to the error stream', async () => {
    const { client: c } = await upgrade(port, '/portforward', pfHeaders);
    c.open(1, { streamtype: 'error', port: '9', requestid: '0' }, true);
    c.open(3, { streamtype: 'data', port: '9', requestid: '0' });
    assert.equal((await c.readAll(1)).toString(), 'nothing listens on 9');
    assert.equal((await c.readAll(3)).length, 0);
    c.open(5, { streamtype: 'error', port: 'http', requestid: '1' }, true);
    c.open(7, { streamtype: 'data', port: 'http', requestid: '1' });
    assert.equal((await c.readAll(5)).toString(), 'invalid port header "http"');
    c.socket.destroy();
  });

  test('SPDY over WebSocket: the subprotocol `ws` cannot parse is negotiated and carries a session', async () => {
    const r = await upgrade(port, '/portforward', {
      Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Protocol': 'SPDY/3.1+portforward.k8s.io',
    }, 'GET');
    assert.equal(r.status, 101);
    assert.equal(r.headers['sec-websocket-protocol'], 'SPDY/3.1+portforward.k8s.io');
    assert.equal(r.headers['sec-websocket-accept'], 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    const ws = new RawWebSocket(r.client.socket, Buffer.alloc(0));
    const codec = new HeaderCodec();
    const parser = new FrameParser(codec);
    const data: Buffer[] = [];
    const done = new Promise<void>((resolve) => {
      ws.onMessage((m) => {
        for (const f of parser.push(m)) {
          if (f.type !== 'data' || f.streamId !== 3) continue;
          data.push(f.data);
          if (f.flags & FLAG_FIN) resolve();
        }
      });
    });
    // Message boundaries mean nothing to the session: one frame split over two messages.
    const syn = encodeSynStream(codec, 1, { streamtype: 'error', port: '7000', requestid: '0' }, { fin: true });
    ws.send(syn.subarray(0, 5));
    ws.send(Buffer.concat([syn.subarray(5), encodeSynStream(codec, 3, { streamtype: 'data', port: '7000', requestid: '0' })]));
    ws.send(encodeData(3, Buffer.from('tunnelled'), true));
    await done;
    assert.equal(Buffer.concat(data).toString(), 'tunnelled');
    r.client.socket.destroy();
  });

  test('the WebSocket channel protocol (JavaScript client): port prefix, data, errors', async () => {
    const r = await wsRun('/portforward?ports=7000&ports=9', ['v5.channel.k8s.io', 'v4.channel.k8s.io'], (ws) => {
      ws.send(Buffer.from([0, ...Buffer.from('via channels')]));
      setTimeout(() => ws.close(), 200);
    });
    assert.equal(r.protocol, 'v4.channel.k8s.io');
    const byChannel = (ch: number) => r.messages.filter((m) => m[0] === ch).map((m) => m.subarray(1));
    const le = (p: number) => Buffer.from([p & 0xff, p >> 8]);
    assert.deepEqual(byChannel(0)[0], le(7000));
    assert.deepEqual(byChannel(1)[0], le(7000));
    assert.deepEqual(byChannel(2)[0], le(9));
    assert.equal(Buffer.concat(byChannel(0).slice(1)).toString(), 'via channels');
    assert.equal(Buffer.concat(byChannel(3).slice(1)).toString(), 'nothing listens on 9');
  });
});

