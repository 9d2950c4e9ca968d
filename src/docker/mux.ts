// The engine's multiplexed stream (containers without a TTY): frames of an 8-byte header
// [stream, 0, 0, 0, size as uint32 big-endian] and `size` bytes; stream 1 is stdout, 2 stderr
// (0, stdin, is written by some engines for echoes and is shown as stdout, as the docker CLI does).

export type Sink = (stream: 1 | 2, payload: Buffer) => void;

/** Feeds chunks in, calls `sink` once per complete frame, in order; payloads are never split. */
export class FrameParser {
  private pending: Buffer[] = [];
  private size = 0;

  constructor(private readonly sink: Sink) {}

  push(chunk: Buffer): void {
    this.pending.push(chunk);
    this.size += chunk.length;
    while (this.size >= 8) {
      const head = this.peek(8);
      const len = head.readUInt32BE(4);
      if (this.size < 8 + len) return;
      const frame = this.take(8 + len);
      this.sink(head[0] === 2 ? 2 : 1, frame.subarray(8));
    }
  }

  /** Bytes of an incomplete frame left at the end of the stream. */
  get leftover(): number {
    return this.size;
  }

  private peek(n: number): Buffer {
    if (this.pending[0].length < n) this.pending = [Buffer.concat(this.pending)];
    return this.pending[0].subarray(0, n);
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length ? [rest] : [];
    this.size = rest.length;
    return out;
  }
}
