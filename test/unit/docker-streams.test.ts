// The engine's multiplexed stream format, and engine failures -> the Status a client sees.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineError, engineMessage, isNotFound, isUnreachable, toEngineError } from '../../src/docker/http.ts';
import { FrameParser } from '../../src/docker/mux.ts';

function frame(stream: number, s: string): Buffer {
  const payload = Buffer.from(s);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

test('frames come out whole and in order however the bytes are cut', () => {
  const wire = Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, ''), frame(0, 'echo'), frame(1, 'x'.repeat(70_000))]);
  const expected: Array<[number, string]> = [[1, 'out1\n'], [2, 'err1\n'], [1, ''], [1, 'echo'], [1, 'x'.repeat(70_000)]];
  for (const cut of [1, 3, 7, 8, 9, 4096, wire.length]) {
    const got: Array<[number, string]> = [];
    const p = new FrameParser((s, payload) => got.push([s, payload.toString()]));
    for (let i = 0; i < wire.length; i += cut) p.push(wire.subarray(i, i + cut));
    assert.deepEqual(got, expected, `cut every ${cut} bytes`);
    assert.equal(p.leftover, 0);
  }
  const partial = new FrameParser(() => assert.fail('no complete frame'));
  partial.push(frame(1, 'abc').subarray(0, 10));
  assert.equal(partial.leftover, 10);
});

const modemError = (statusCode: number | undefined, message: string, extra: object = {}) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode, json: statusCode ? { message } : undefined }, extra);

test('engine failures map to Status codes and reasons with the engine text', () => {
  const nf = toEngineError(modemError(404, 'No such container: abc')) as EngineError;
  assert.ok(nf instanceof EngineError);
  assert.deepEqual([nf.code, nf.reason, nf.message, nf.engineStatus], [404, 'NotFound', 'No such container: abc', 404]);
  assert.ok(isNotFound(nf));

  const c = toEngineError(modemError(409, 'Container abc is not running')) as EngineError;
  assert.deepEqual([c.code, c.reason, c.toStatus().message], [409, 'Conflict', 'Container abc is not running']);
  const bad = toEngineError(modemError(400, 'invalid mount config')) as EngineError;
  assert.deepEqual([bad.code, bad.reason], [400, 'BadRequest']);
  const boom = toEngineError(modemError(500, 'boom')) as EngineError;
  assert.deepEqual([boom.code, boom.reason, boom.message], [500, 'InternalError', 'Internal error occurred: boom']);

  const refused = Object.assign(new Error('connect ECONNREFUSED /var/run/docker.sock'), { code: 'ECONNREFUSED' });
  assert.ok(isUnreachable(refused));
  const u = toEngineError(refused) as EngineError;
  assert.deepEqual([u.code, u.reason, u.engineStatus], [503, 'ServiceUnavailable', 0]);
  assert.match(u.message, /not reachable: connect ECONNREFUSED/);
  assert.equal(u.toStatus().details?.retryAfterSeconds, 1);
  assert.ok(isUnreachable(u));

  const abort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
  assert.equal(toEngineError(abort), abort);
  // Without a JSON body the modem's decoration is dropped.
  assert.equal(engineMessage(new Error('(HTTP code 404) no such container - No such container: abc ')), 'No such container: abc');
  assert.equal(engineMessage({ statusCode: 404, json: Buffer.from('page not found\n'), message: 'x' }), 'page not found');
});
