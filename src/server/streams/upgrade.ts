// Handshakes on a raw upgrade socket: WebSocket (through `ws`), SPDY/3.1 (a bare 101), and
// refusals written as plain HTTP responses, since no ServerResponse exists on an upgrade.
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiError } from '../../machinery/errors.ts';

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return /^websocket$/i.test(String(req.headers.upgrade ?? '').trim());
}

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return /^spdy\/3\.1$/i.test(String(req.headers.upgrade ?? '').trim());
}

function splitList(v: string | string[] | undefined): string[] {
  const all = Array.isArray(v) ? v.join(',') : (v ?? '');
  return all.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Subprotocols a WebSocket client offers, in its order of preference. */
export function offeredWebSocketProtocols(req: IncomingMessage): string[] {
  return splitList(req.headers['sec-websocket-protocol']);
}

/** `X-Stream-Protocol-Version` values of a SPDY upgrade (client-go sends one header per
 * version; Node joins repeated headers with ", "). */
export function offeredSpdyProtocols(req: IncomingMessage): string[] {
  return splitList(req.headers['x-stream-protocol-version']);
}

/** The first protocol of the client's list that the server serves (the apiserver's rule). */
export function pickProtocol(offered: string[], served: readonly string[]): string | undefined {
  return offered.find((p) => served.includes(p));
}

// Sockets we ended are dropped if the peer does not close its side soon.
function endSoon(socket: Duplex, data?: string): void {
  socket.end(data);
  setTimeout(() => socket.destroy(), 5000).unref();
}

/** Answers an upgrade request with an error and closes the socket. A Status body for an
 * ApiError (kubectl prints its message), plain text otherwise (as httpstream.Handshake does). */
export function rejectUpgrade(socket: Duplex, err: ApiError | { code: number; message: string },
  headers: Record<string, string> = {}): void {
  if (!socket.writable) { socket.destroy(); return; }
  const isApi = 'toStatus' in err;
  const body = isApi ? JSON.stringify(err.toStatus()) : `${err.message}\n`;
  const lines = [
    `HTTP/1.1 ${err.code} ${STATUS_CODES[err.code] ?? 'Error'}`,
    `Content-Type: ${isApi ? 'application/json' : 'text/plain; charset=utf-8'}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  endSoon(socket, `${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** Switches the socket to SPDY/3.1; the SPDY session starts right after these bytes. */
export function acceptSpdy(socket: Duplex, protocol: string): void {
  socket.write([
    'HTTP/1.1 101 Switching Protocols',
    'Connection: Upgrade',
    'Upgrade: SPDY/3.1',
    `X-Stream-Protocol-Version: ${protocol}`,
    '', '',
  ].join('\r\n'));
}

const chosen = new WeakMap<IncomingMessage, string>();
let wss: WebSocketServer | undefined;

function webSocketServer(): WebSocketServer {
  wss ??= new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: 16 << 20,
    handleProtocols: (_offered, req) => chosen.get(req) ?? false,
  });
  return wss;
}

/** Completes the WebSocket handshake answering `protocol`, which the caller picked from
 * offeredWebSocketProtocols(). `onOpen` is not called when `ws` refuses the handshake
 * (it then answers 400 itself). */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string,
  onOpen: (ws: WebSocket) => void): void {
  chosen.set(req, protocol);
  // ws parses the offered list itself and rejects names with '/' such as
  // SPDY/3.1+portforward.k8s.io; the choice is already made, so it is shown a bare token.
  req.headers['sec-websocket-protocol'] = 'k2d';
  webSocketServer().handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => ws.terminate());
    onOpen(ws);
  });
}
