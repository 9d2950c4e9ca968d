// The SPDY/3.1 framer and server session, driven by a hand-written client over a local socket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import zlib from 'node:zlib';
import { spdyDictionary } from '../../src/server/streams/spdy-dictionary.ts';
import {
  FrameParser, HeaderCodec, SpdyProtocolError, type Frame, type SpdyHeaders,
  decodeHeaderBlock, encodeData, encodeGoaway, encodeHeaderBlock, encodeHeaders, encodePing, encodeRstStream,
  encodeSettings, encodeSynReply, encodeSynStream, encodeWindowUpdate,
  FLAG_FIN, RST_CANCEL, RST_PROTOCOL_ERROR, SETTINGS_INITIAL_WINDOW_SIZE,
} from '../../src/server/streams/spdy-frame.ts';
import { SpdySession, type SpdyStream } from '../../src/server/streams/spdy-session.ts';
import { SpdyClient as Client } from '../fixtures/streams/spdy-client.ts';

function adler32(b: Buffer): number {
  let a = 1;
  let s = 0;
  for (const x of b) { a = (a + x) % 65521; s = (s + a) % 65521; }
  return ((s << 16) | a) >>> 0;
}

describe('SPDY/3 header dictionary', () => {
  test('is the 1423 bytes of the spec (the Adler-32 peers check in the zlib header)', () => {
    const d = spdyDictionary();
    assert.equal(d.length, 1423);
    assert.equal(adler32(d), 0xe3c6a7c2);
    assert.equal(d.subarray(0, 11).toString('latin1'), '\0\0\0\x07options');
    assert.ok(d.toString('latin1').endsWith(',*,enq=0.'));
  });
});

describe('header codec', () => {
  const sets: SpdyHeaders[] = [
    { streamtype: 'error' },
    { streamtype: 'data', port: '7000', requestid: '0' },
    { streamtype: 'data', port: '7000', requestid: '1' },
    { 'x-multi': 'a\0b', streamtype: 'stdin' },
    {},
  ];

  test('header blocks round-trip, names lowercased, repeated names joined by NUL', () => {
    assert.deepEqual(decodeHeaderBlock(encodeHeaderBlock({ StreamType: 'error', Port: '80' })), { streamtype: 'error', port: '80' });
    const raw = Buffer.concat([encodeHeaderBlock({ a: '1' }).subarray(0, 4)]);
    raw.writeUInt32BE(2, 0);
    const two = Buffer.concat([raw, encodeHeaderBlock({ a: '1' }).subarray(4), encodeHeaderBlock({ a: '2' }).subarray(4)]);
    assert.deepEqual(decodeHeaderBlock(two), { a: '1\x002' });
    assert.throws(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 0x61])), SpdyProtocolError);
  });

  test('our blocks are one zlib stream with the SPDY dictionary that real zlib inflates', async () => {
    const ours = new HeaderCodec();
    const blocks = sets.map((h) => ours.encode(h));
    assert.equal(blocks[0][0], 0x78);
    assert.equal(blocks[0][1] & 0x20, 0x20, 'FDICT set');
    assert.equal((blocks[0][0] * 256 + blocks[0][1]) % 31, 0);
    assert.equal(blocks[0].readUInt32BE(2), 0xe3c6a7c2);
    const inflater = zlib.createInflate({ dictionary: spdyDictionary() });
    const got: Buffer[] = [];
    inflater.on('data', (d: Buffer) => got.push(d));
    for (const [i, b] of blocks.entries()) {
      inflater.write(b);
      await new Promise<void>((r) => inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
      assert.deepEqual(decodeHeaderBlock(Buffer.concat(got.splice(0))), Object.fromEntries(
        Object.entries(sets[i]).map(([k, v]) => [k.toLowerCase(), v])));
    }
    inflater.close();
  });

  test('a real zlib stream (back-references into earlier blocks) decodes block by block', async () => {
    const deflater = zlib.createDeflate({ dictionary: spdyDictionary(), level: 9 });
    const out: Buffer[] = [];
    deflater.on('data', (d: Buffer) => out.push(d));
    const theirs = new HeaderCodec();
    let total = 0;
    for (let round = 0; round < 3; round++) {
      for (const h of sets) {
        deflater.write(encodeHeaderBlock(h));
        await new Promise<void>((r) => deflater.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
        const block = Buffer.concat(out.splice(0));
        total += block.length;
        assert.deepEqual(theirs.decode(block), h);
      }
    }
    // Repeated headers compress to a few bytes only through references to earlier blocks.
    assert.ok(total < 300, `compressed ${total} bytes`);
    deflater.close();
  });

  test('a block larger than one stored deflate block still round-trips', () => {
    const big = { 'x-big': 'v'.repeat(100_000) };
    assert.deepEqual(new HeaderCodec().decode(new HeaderCodec().encode(big)), big);
  });

  test('a first block with the wrong dictionary is a protocol error', () => {
    const block = new HeaderCodec().encode({ a: 'b' });
    block.writeUInt32BE(0x12345678, 2);
    assert.throws(() => new HeaderCodec().decode(block), SpdyProtocolError);
    assert.throws(() => new HeaderCodec().decode(Buffer.from('not zlib')), SpdyProtocolError);
  });
});

describe('frames', () => {
  test('every frame type round-trips through the parser', () => {
    const enc = new HeaderCodec();
    const bytes = Buffer.concat([
      encodeSynStream(enc, 1, { streamtype: 'error' }, { fin: true, priority: 3 }),
      encodeSynStream(enc, 3, { streamtype: 'stdout' }, { unidirectional: true, associatedId: 1 }),
      encodeSynReply(enc, 1, { status: '200' }, true),
      encodeHeaders(enc, 3, { extra: 'x' }),
      encodeData(1, Buffer.from('hello'), true),
      encodeData(3, Buffer.alloc(0)),
      encodeRstStream(5, RST_CANCEL),
      encodeSettings([{ id: SETTINGS_INITIAL_WINDOW_SIZE, value: 1 << 20, flags: 1 }]),
      encodePing(7),
      encodeGoaway(9, 1),
      encodeWindowUpdate(0, 12345),
    ]);
    const frames = new FrameParser(new HeaderCodec()).push(bytes);
    assert.deepEqual(frames, [
      { type: 'syn_stream', streamId: 1, associatedId: 0, priority: 3, flags: 1, headers: { streamtype: 'error' } },
      { type: 'syn_stream', streamId: 3, associatedId: 1, priority: 0, flags: 2, headers: { streamtype: 'stdout' } },
      { type: 'syn_reply', streamId: 1, flags: 1, headers: { status: '200' } },
      { type: 'headers', streamId: 3, flags: 0, headers: { extra: 'x' } },
      { type: 'data', streamId: 1, flags: 1, data: Buffer.from('hello') },
      { type: 'data', streamId: 3, flags: 0, data: Buffer.alloc(0) },
      { type: 'rst_stream', streamId: 5, status: RST_CANCEL },
      { type: 'settings', flags: 0, entries: [{ flags: 1, id: SETTINGS_INITIAL_WINDOW_SIZE, value: 1 << 20 }] },
      { type: 'ping', id: 7 },
      { type: 'goaway', lastStreamId: 9, status: 1 },
      { type: 'window_update', streamId: 0, delta: 12345 },
    ]);
  });

  test('wire layout: control bit, version 3, type, flags, 24-bit length', () => {
    assert.equal(encodePing(1).toString('hex'), '80030006000000040000000' + '1');
    assert.equal(encodeData(3, Buffer.from('hi'), true).toString('hex'), '00000003' + '01000002' + '6869');
    assert.equal(encodeWindowUpdate(1, 65536).toString('hex'), '80030009000000080000000100010000');
  });

  test('bytes fed one at a time give the same frames, each once', () => {
    const enc = new HeaderCodec();
    const bytes = Buffer.concat([
      encodeSynStream(enc, 1, { streamtype: 'data', port: '80' }),
      encodeData(1, Buffer.alloc(70_000, 7)),
      encodeSynStream(enc, 3, { streamtype: 'error', port: '80' }),
    ]);
    const parser = new FrameParser(new HeaderCodec());
    const frames: Frame[] = [];
    for (let i = 0; i < bytes.length; i += 977) frames.push(...parser.push(bytes.subarray(i, i + 977)));
    assert.deepEqual(frames.map((f) => f.type), ['syn_stream', 'data', 'syn_stream']);
    assert.equal((frames[1] as { data: Buffer }).data.length, 70_000);
    assert.deepEqual((frames[2] as { headers: SpdyHeaders }).headers, { streamtype: 'error', port: '80' });
  });

  test('another SPDY version or an oversized frame is a protocol error', () => {
    const v2 = encodePing(1);
    v2.writeUInt16BE(0x8002, 0);
    assert.throws(() => new FrameParser(new HeaderCodec()).push(v2), /version 2/);
    assert.throws(() => new FrameParser(new HeaderCodec(), 1024).push(encodeData(1, Buffer.alloc(2048))), /too large/);
  });
});

// ---- the session, against a scripted client ---------------------------------------------

describe('SPDY session', () => {
  let server: Server;
  let sessions: SpdySession[] = [];
  let onStream: (s: SpdyStream, session: SpdySession) => void = () => {};

  before(async () => {
    server = createServer((socket) => {
      const session = new SpdySession(socket);
      sessions.push(session);
      session.on('stream', (s) => onStream(s, session));
      session.start();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  after(() => {
    for (const s of sessions) s.destroy();
    server.close();
  });

  async function client(): Promise<Client> {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    return new Client(socket);
  }

  test('each stream is answered with SYN_REPLY and carries data both ways, with FIN', async () => {
    onStream = (s) => {
      const parts: Buffer[] = [];
      s.on('data', (d: Buffer) => parts.push(d));
      s.on('end', () => s.end(`echo:${Buffer.concat(parts)}`));
    };
    const c = await client();
    c.open(1, { streamtype: 'stdin' });
    const reply = await c.next((f) => f.type === 'syn_reply');
    assert.deepEqual(reply, { type: 'syn_reply', streamId: 1, flags: 0, headers: {} });
    c.send(encodeData(1, Buffer.from('abc')));
    c.send(encodeData(1, Buffer.from('def'), true));
    assert.equal((await c.readAll(1)).toString(), 'echo:abcdef');
    c.socket.destroy();
  });

  test('client pings (odd ids) are echoed; even ids are not', async () => {
    const c = await client();
    c.send(encodePing(2));
    c.send(encodePing(5));
    const pong = await c.next((f) => f.type === 'ping');
    assert.deepEqual(pong, { type: 'ping', id: 5 });
    c.socket.destroy();
  });

  test('a client RST_STREAM destroys the stream; a stream we destroy is reset with CANCEL', async () => {
    let closed!: () => void;
    const wasClosed = new Promise<void>((r) => { closed = r; });
    onStream = (s) => {
      if (s.headers.streamtype === 'kill-me') s.once('close', closed);
      else s.reset();
    };
    const c = await client();
    c.open(1, { streamtype: 'kill-me' });
    await c.next((f) => f.type === 'syn_reply');
    c.send(encodeRstStream(1, RST_CANCEL));
    await wasClosed;
    c.open(3, { streamtype: 'other' });
    assert.deepEqual(await c.next((f) => f.type === 'rst_stream'), { type: 'rst_stream', streamId: 3, status: RST_CANCEL });
    c.socket.destroy();
  });

  test('a stream id that is even or goes backwards is refused', async () => {
    onStream = () => {};
    const c = await client();
    c.open(2, { streamtype: 'x' });
    assert.deepEqual(await c.next((f) => f.type === 'rst_stream'), { type: 'rst_stream', streamId: 2, status: RST_PROTOCOL_ERROR });
    c.open(5, { streamtype: 'x' });
    await c.next((f) => f.type === 'syn_reply');
    c.open(3, { streamtype: 'x' });
    assert.deepEqual(await c.next((f) => f.type === 'rst_stream'), { type: 'rst_stream', streamId: 3, status: RST_PROTOCOL_ERROR });
    c.socket.destroy();
  });

  test('a peer that never sends WINDOW_UPDATE (spdystream) still gets megabytes', async () => {
    const big = Buffer.alloc(3 << 20, 1);
    onStream = (s) => { s.resume(); s.end(big); };
    const c = await client();
    c.open(1, { streamtype: 'stdout' }, true);
    assert.equal((await c.readAll(1)).length, big.length);
    c.socket.destroy();
  });

  test('a peer that does flow control is held to its windows', async () => {
    onStream = (s) => { s.resume(); s.end(Buffer.alloc(100_000, 2)); };
    const c = await client();
    // INITIAL_WINDOW_SIZE 1000 per stream, and the session window as sent by the peer.
    c.send(encodeSettings([{ id: SETTINGS_INITIAL_WINDOW_SIZE, value: 1000 }]));
    c.open(1, { streamtype: 'stdout' }, true);
    const first = await c.next((f) => f.type === 'data') as Extract<Frame, { type: 'data' }>;
    assert.equal(first.data.length, 1000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.pending().filter((f) => f.type === 'data').length, 0, 'nothing beyond the window');
    c.send(encodeWindowUpdate(1, 2000));
    const second = await c.next((f) => f.type === 'data') as Extract<Frame, { type: 'data' }>;
    assert.equal(second.data.length, 2000);
    // The session window (64 KB, less 3000 sent) now caps the stream's large update.
    c.send(encodeWindowUpdate(1, 1 << 20));
    let got = 0;
    while (got < 65536 - 3000) {
      const f = await c.next((x) => x.type === 'data') as Extract<Frame, { type: 'data' }>;
      got += f.data.length;
    }
    assert.equal(got, 65536 - 3000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(c.pending().filter((f) => f.type === 'data').length, 0, 'session window exhausted');
    c.send(encodeWindowUpdate(0, 1 << 20));
    let rest = 0;
    for (;;) {
      const f = await c.next((x) => x.type === 'data') as Extract<Frame, { type: 'data' }>;
      rest += f.data.length;
      if (f.flags & FLAG_FIN) break;
    }
    assert.equal(3000 + got + rest, 100_000);
    c.socket.destroy();
  });

  test('received data is acknowledged with WINDOW_UPDATE for the stream and the session', async () => {
    onStream = (s) => s.resume();
    const c = await client();
    c.open(1, { streamtype: 'stdin' });
    await c.next((f) => f.type === 'syn_reply');
    for (let i = 0; i < 5; i++) c.send(encodeData(1, Buffer.alloc(10_000)));
    const updates = [
      await c.next((f) => f.type === 'window_update'),
      await c.next((f) => f.type === 'window_update'),
    ];
    assert.deepEqual(updates.map((u) => (u as { streamId: number }).streamId).sort(), [0, 1]);
    assert.ok(updates.every((u) => (u as { delta: number }).delta >= 32 * 1024));
    c.socket.destroy();
  });

  test('a stream whose reader stops pauses the connection until it reads again', async () => {
    let stream!: SpdyStream;
    let ready!: () => void;
    const opened = new Promise<void>((r) => { ready = r; });
    onStream = (s) => { stream = s; ready(); };
    const c = await client();
    c.open(1, { streamtype: 'stdin' });
    await opened;
    const chunk = Buffer.alloc(64 * 1024, 3);
    for (let i = 0; i < 40; i++) c.send(encodeData(1, chunk));
    c.send(encodeData(1, Buffer.alloc(0), true));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(stream.readableLength <= 512 * 1024, `buffered ${stream.readableLength}`);
    let total = 0;
    stream.on('data', (d: Buffer) => { total += d.length; });
    await once(stream, 'end');
    assert.equal(total, 40 * chunk.length);
    c.socket.destroy();
  });

  test('goaway() sends GOAWAY with the last stream id and ends the connection', async () => {
    onStream = (s, session) => { s.resume(); session.goaway(); };
    const c = await client();
    c.open(7, { streamtype: 'x' });
    assert.deepEqual(await c.next((f) => f.type === 'goaway'), { type: 'goaway', lastStreamId: 7, status: 0 });
    await once(c.socket, 'end');
    c.socket.destroy();
  });

  test('garbage on the wire ends the session with a protocol-error GOAWAY', async () => {
    const c = await client();
    c.send(Buffer.from([0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]));
    const g = await c.next((f) => f.type === 'goaway') as Extract<Frame, { type: 'goaway' }>;
    assert.equal(g.status, 1);
    c.socket.destroy();
  });
});
