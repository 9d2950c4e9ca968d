// Watch fan-out and the short history that lets clients resume from a resourceVersion.
import type { KObject } from './types.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  resource: string;           // registry key: 'configmaps', 'roles.rbac.authorization.k8s.io'
  type: WatchEventType;
  object: KObject;             // the new object (for DELETED, its last state)
  old?: KObject;               // previous state, for MODIFIED/DELETED
}

export interface Watcher {
  resource: string;
  namespace?: string;
  onChange(c: Change): void;
}

const HISTORY = 4096;

export class WatchHub {
  private watchers = new Set<Watcher>();
  private history: Change[] = [];
  /** Oldest resourceVersion we can still replay from (exclusive). */
  private floor: number;

  constructor(startRv: number) {
    this.floor = startRv;
  }

  publish(c: Change): void {
    this.history.push(c);
    if (this.history.length > HISTORY) {
      const dropped = this.history.splice(0, this.history.length - HISTORY);
      this.floor = dropped[dropped.length - 1].rv;
    }
    for (const w of this.watchers) {
      if (w.resource !== c.resource) continue;
      if (w.namespace && c.object.metadata.namespace !== w.namespace) continue;
      w.onChange(c);
    }
  }

  /** Changes after `rv` for a resource, or undefined when that point is no longer kept (410 Gone). */
  since(rv: number, resource: string, namespace?: string): Change[] | undefined {
    if (rv < this.floor) return undefined;
    const out: Change[] = [];
    for (const c of this.history) {
      if (c.rv <= rv || c.resource !== resource) continue;
      if (namespace && c.object.metadata.namespace !== namespace) continue;
      out.push(c);
    }
    return out;
  }

  add(w: Watcher): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  get size(): number {
    return this.watchers.size;
  }
}
