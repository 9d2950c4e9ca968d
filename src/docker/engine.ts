// The only place that talks to the Docker engine.
import Docker from 'dockerode';
import { EventEmitter } from 'node:events';
import { log } from '../log.ts';
import { serviceUnavailable } from '../machinery/errors.ts';

export interface EngineFacts {
  name: string; version: string; apiVersion: string; os: string; arch: string; kernel: string;
  osImage: string; cpus: number; memoryBytes: number; images: Array<{ names: string[]; sizeBytes: number }>;
  containersRunning: number; id: string;
}

export class Engine extends EventEmitter {
  readonly docker: Docker;
  available = false;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay = 500;
  private events?: NodeJS.ReadableStream;
  private stopped = false;

  constructor() {
    super();
    // dockerode reads DOCKER_HOST itself (unix://, tcp://).
    this.docker = new Docker();
  }

  async ping(): Promise<void> {
    await this.docker.ping();
  }

  /** Fails with a 503 Status when the engine is gone, so callers need no checks of their own. */
  requireAvailable(): void {
    if (!this.available) throw serviceUnavailable('the Docker engine is not reachable; retry when it is back');
  }

  async facts(): Promise<EngineFacts> {
    try {
      const [info, version, images] = await Promise.all([
        this.docker.info(), this.docker.version(), this.docker.listImages(),
      ]);
      return {
        name: info.Name, id: info.ID, version: version.Version, apiVersion: version.ApiVersion,
        os: version.Os, arch: version.Arch, kernel: info.KernelVersion, osImage: info.OperatingSystem,
        cpus: info.NCPU, memoryBytes: info.MemTotal, containersRunning: info.ContainersRunning,
        images: images.map((i) => ({ names: [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])].filter((n) => n !== '<none>:<none>'), sizeBytes: i.Size })),
      };
    } catch (err) {
      this.lost(err);
      throw serviceUnavailable(`the Docker engine is not reachable: ${(err as Error).message}`);
    }
  }

  /** Follows the engine's event stream; its end means the engine is gone, and we retry with back-off. */
  async watch(): Promise<void> {
    if (this.stopped) return;
    try {
      const stream = await this.docker.getEvents({});
      this.events = stream;
      this.retryDelay = 500;
      if (!this.available) {
        this.available = true;
        log('engine available');
        this.emit('available');
      }
      let buf = '';
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          try { this.emit('event', JSON.parse(line)); } catch { /* partial garbage: skip */ }
        }
      });
      const onEnd = () => { if (this.events === stream) { this.events = undefined; this.lost(new Error('event stream ended')); } };
      stream.on('end', onEnd);
      stream.on('close', onEnd);
      stream.on('error', onEnd);
    } catch (err) {
      this.lost(err);
    }
  }

  private lost(err: unknown): void {
    if (this.stopped) return;
    if (this.available) {
      this.available = false;
      log('engine lost', { level: 'warn', error: (err as Error)?.message });
      this.emit('lost');
    }
    if (!this.retryTimer) {
      // A retry is a thing due at a known time; back off so a long outage costs almost nothing.
      this.retryTimer = setTimeout(() => { this.retryTimer = undefined; void this.watch(); }, this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 15_000);
    }
  }

  close(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const s = this.events as unknown as { destroy?: () => void } | undefined;
    this.events = undefined;
    s?.destroy?.();
  }
}
