// The work loop every controller shares: keys (an object's `<ns>/<name>`, or a tagged variant)
// synced one at a time, each sync reading the registry afresh, so a key queued many times while
// busy runs once more and no two syncs of one object race. Timers only for a known due time.
import { logError } from '../log.ts';
import { ApiError } from '../machinery/errors.ts';

/** setTimeout/clearTimeout, replaceable so unit tests can drive time. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** `<ns>/<name>` back into its parts. */
export const splitKey = (key: string) => key.split('/') as [string, string];

// setTimeout holds at most ~24.8 days; a later due time is re-armed by the sync it wakes.
const MAX_DELAY = 2 ** 31 - 1;

export class KeyedLoop {
  private pending = new Set<string>();
  private running = false;
  private stopped = false;
  private timers = new Map<string, { at: number; handle: unknown }>();

  constructor(
    private name: string,
    private sync: (key: string) => Promise<void>,
    private opts: { now?: () => number; timers?: Timers } = {},
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    if (!this.running) void this.drain();
  }

  /** Syncs the key again at `when`; the earliest time asked for wins. */
  at(key: string, when: Date | undefined): void {
    if (!when || this.stopped) return;
    const cur = this.timers.get(key);
    if (cur && cur.at <= when.getTime() && cur.at > this.now()) return;
    // A few ms late rather than early: the sync it wakes compares the due time with the clock.
    this.arm(key, when, 5);
  }

  /** The key's one timer, replaced (undefined disarms it): a CronJob's next run. */
  arm(key: string, when: Date | undefined, slackMs = 0): void {
    const timers = this.opts.timers ?? realTimers;
    const cur = this.timers.get(key);
    if (cur) timers.clear(cur.handle);
    this.timers.delete(key);
    if (!when || this.stopped) return;
    const at = when.getTime();
    const delay = Math.min(Math.max(0, at - this.now()) + slackMs, MAX_DELAY);
    const handle = timers.set(() => { this.timers.delete(key); this.add(key); }, delay);
    this.timers.set(key, { at, handle });
  }

  /** How many timers are armed (tests). */
  get armed(): number {
    return this.timers.size;
  }

  stop(): void {
    this.stopped = true;
    const timers = this.opts.timers ?? realTimers;
    for (const { handle } of this.timers.values()) timers.clear(handle);
    this.timers.clear();
  }

  /** Resolves once nothing is queued (tests). */
  async idle(): Promise<void> {
    while (this.running || this.pending.size) await new Promise((r) => setTimeout(r, 5));
  }

  private async drain(): Promise<void> {
    this.running = true;
    let retries = 0;
    try {
      while (this.pending.size && !this.stopped) {
        const key = this.pending.values().next().value as string;
        this.pending.delete(key);
        try {
          await this.sync(key);
        } catch (err) {
          // A concurrent write won (409) or an object went away meanwhile (404): the next sync
          // sees the new state. Bounded, so a persistent conflict cannot spin.
          if (err instanceof ApiError && (err.code === 409 || err.code === 404) && retries++ < 20) { this.pending.add(key); continue; }
          logError(`${this.name} sync failed`, err, { key });
        }
      }
    } finally {
      this.running = false;
    }
  }
}
