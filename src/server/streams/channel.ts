// The channel.k8s.io WebSocket framing: every binary message starts with its channel byte.

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
/** The status channel ("error" stream): a metav1.Status in JSON once the command ends. */
export const ERROR = 3;
export const RESIZE = 4;
/** v5 only: `[255, channel]` from the client closes that channel (stdin EOF). */
export const CLOSE = 255;

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';

export function encodeChannel(channel: number, data: Buffer): Buffer {
  const b = Buffer.allocUnsafe(data.length + 1);
  b[0] = channel;
  data.copy(b, 1);
  return b;
}

export function decodeChannel(msg: Buffer): { channel: number; data: Buffer } | undefined {
  if (msg.length === 0) return undefined;
  return { channel: msg[0], data: msg.subarray(1) };
}

export interface TerminalSize { width: number; height: number }

/** client-go writes remotecommand.TerminalSize with a json.Encoder: `{"Width":80,"Height":24}\n`,
 * one per message on a WebSocket but back to back on a SPDY stream, so objects are split here. */
export class ResizeParser {
  private text = '';

  push(chunk: Buffer | string): TerminalSize[] {
    this.text += chunk.toString();
    const out: TerminalSize[] = [];
    for (let end = this.text.indexOf('}'); end >= 0; end = this.text.indexOf('}')) {
      const one = this.text.slice(0, end + 1);
      this.text = this.text.slice(end + 1);
      try {
        const v = JSON.parse(one.slice(one.indexOf('{'))) as Record<string, unknown>;
        const width = Number(v.Width ?? v.width);
        const height = Number(v.Height ?? v.height);
        if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0) out.push({ width, height });
      } catch {
        // A malformed size is dropped; the terminal keeps its last size.
      }
    }
    if (this.text.length > 4096) this.text = '';
    return out;
  }
}
