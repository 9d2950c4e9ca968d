// port-forward: one SPDY/3.1 session per `kubectl port-forward`, carried either inside a
// WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl 1.31+) or on the upgraded socket itself
// (`portforward.k8s.io`, older kubectl); per forwarded connection the client opens a `data` and
// an `error` stream with the same requestID. The WebSocket channel protocol of the JavaScript
// client (`v4.channel.k8s.io`, ports from the query) is served as well.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, type WebSocket } from 'ws';
import { badRequest } from '../../machinery/errors.ts';
import { encodeChannel } from './channel.ts';
import { SpdySession, type SpdyStream } from './spdy-session.ts';
import {
  acceptSpdy, acceptWebSocket, isSpdyUpgrade, isWebSocketUpgrade, offeredSpdyProtocols,
  offeredWebSocketProtocols, pickProtocol, rejectUpgrade,
} from './upgrade.ts';

/** Opens a connection to a port of the pod. A rejection's message reaches the client (kubectl
 * prints `an error occurred forwarding L -> R: <message>`). */
export type PortDialer = (port: number) => Promise<Duplex>;

export const SPDY_OVER_WEBSOCKET = 'SPDY/3.1+portforward.k8s.io';
const SPDY_PORTFORWARD = 'portforward.k8s.io';
const WS_SERVED = [SPDY_OVER_WEBSOCKET, 'v4.channel.k8s.io', 'channel.k8s.io'] as const;
// kubelet's streamCreationTimeout: the two streams of a pair arrive back to back.
const PAIR_TIMEOUT_MS = 30_000;

/**
 * Serves a port-forward upgrade request (auth and pod checks done by the caller). Each
 * connection the client forwards calls `dial` with the pod port; any number at once.
 */
export function handlePortForwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, dial: PortDialer): void {
  if (isWebSocketUpgrade(req)) {
    const offered = offeredWebSocketProtocols(req);
    const protocol = pickProtocol(offered, WS_SERVED);
    if (!protocol) {
      rejectUpgrade(socket, badRequest(`unable to upgrade: requested protocol(s) are not supported: `
        + `[${offered.join(' ')}]; supports [${WS_SERVED.join(' ')}]`));
      return;
    }
    if (protocol === SPDY_OVER_WEBSOCKET) {
      acceptWebSocket(req, socket, head, protocol, (ws) => {
        serveSpdyPortForward(createWebSocketStream(ws), Buffer.alloc(0), dial);
      });
      return;
    }
    let ports: number[];
    try {
      ports = queryPorts(req.url ?? '');
    } catch (err) {
      rejectUpgrade(socket, err as ReturnType<typeof badRequest>);
      return;
    }
    acceptWebSocket(req, socket, head, protocol, (ws) => serveChannelPortForward(ws, ports, dial));
    return;
  }
  if (isSpdyUpgrade(req)) {
    const offered = offeredSpdyProtocols(req);
    if (!offered.includes(SPDY_PORTFORWARD)) {
      rejectUpgrade(socket, {
        code: 403,
        message: `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${SPDY_PORTFORWARD}]`,
      }, { 'X-Accepted-Stream-Protocol-Versions': SPDY_PORTFORWARD });
      return;
    }
    acceptSpdy(socket, SPDY_PORTFORWARD);
    serveSpdyPortForward(socket, head, dial);
    return;
  }
  rejectUpgrade(socket, badRequest('Upgrade request required'));
}

/** `ports` of the query (repeated or comma-separated), as kubelet reads them. */
export function queryPorts(url: string): number[] {
  const q = new URL(url, 'http://x').searchParams;
  const raw = [...q.getAll('ports'), ...q.getAll('port')];
  if (raw.length === 0) throw badRequest('query parameter "port" is required');
  const ports: number[] = [];
  for (const s of raw.flatMap((r) => r.split(','))) {
    const p = Number(s);
    if (!/^\d+$/.test(s) || p < 1 || p > 65535) throw badRequest(`unable to parse "${s}" as a port: must be 1-65535`);
    ports.push(p);
  }
  return ports;
}

interface Pair { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }

/** The SPDY port-forward server on any carrier; exported for tests. */
export function serveSpdyPortForward(carrier: Duplex, head: Buffer, dial: PortDialer): SpdySession {
  const session = new SpdySession(carrier);
  const pairs = new Map<string, Pair>();
  session.on('stream', (s) => {
    s.on('error', () => {});
    const type = s.headers.streamtype;
    if (type !== 'data' && type !== 'error') { s.reset(); return; }
    // Clients before the requestID header: kubelet pairs consecutive stream ids instead.
    const id = s.headers.requestid || String(type === 'error' ? s.id : s.id - 2);
    let pair = pairs.get(id);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(id);
        pair?.data?.reset();
        pair?.error?.reset();
      }, PAIR_TIMEOUT_MS).unref();
      pair = { timer };
      pairs.set(id, pair);
    }
    if (pair[type]) { s.reset(); return; }
    pair[type] = s;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(id);
      void forward(pair.data, pair.error, dial);
    }
  });
  session.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
  session.start(head);
  return session;
}

async function forward(data: SpdyStream, error: SpdyStream, dial: PortDialer): Promise<void> {
  // The client half-closes the error stream at once; reading lets that FIN through.
  error.resume();
  const fail = (message: string) => {
    if (!error.writableEnded) error.end(message);
    if (!data.writableEnded) data.end();
  };
  const portText = data.headers.port ?? '';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    fail(`invalid port header "${portText}"`);
    return;
  }
  let target: Duplex;
  try {
    target = await dial(port);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
    return;
  }
  if (data.destroyed) { target.destroy(); return; }
  target.on('error', (err: Error) => fail(`error forwarding port ${port}: ${err.message}`));
  target.on('close', () => fail(''));
  data.on('close', () => target.destroy());
  data.pipe(target);
  target.pipe(data);
}

/** The channel protocol of WebSocket port-forward: channel 2i carries the data of the i-th
 * port, 2i+1 its errors; each channel starts with the port as two little-endian bytes. */
function serveChannelPortForward(ws: WebSocket, ports: number[], dial: PortDialer): void {
  const targets: (Duplex | undefined)[] = [];
  let open = ports.length;
  const send = (channel: number, data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(encodeChannel(channel, data));
  };
  const done = () => {
    if (--open === 0 && ws.readyState === ws.OPEN) ws.close(1000);
  };
  ports.forEach((port, i) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(2 * i, portBytes);
    send(2 * i + 1, portBytes);
    dial(port).then((target) => {
      if (ws.readyState !== ws.OPEN) { target.destroy(); return; }
      targets[i] = target;
      target.on('data', (d: Buffer) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > 1 << 20) {
          target.pause();
          ws.send(encodeChannel(2 * i, d), () => target.resume());
        } else ws.send(encodeChannel(2 * i, d));
      });
      target.on('error', (err: Error) => send(2 * i + 1, Buffer.from(`error forwarding port ${port}: ${err.message}`)));
      target.on('close', done);
    }, (err: unknown) => {
      send(2 * i + 1, Buffer.from(err instanceof Error ? err.message : String(err)));
      done();
    });
  });
  ws.on('message', (msg: Buffer, isBinary: boolean) => {
    if (!isBinary || msg.length === 0 || msg[0] % 2 !== 0) return;
    const target = targets[msg[0] / 2];
    if (target && !target.destroyed && target.writable) target.write(msg.subarray(1));
  });
  ws.on('close', () => { for (const t of targets) t?.destroy(); });
}
