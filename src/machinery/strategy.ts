// What makes one kind differ from the generic behaviour; everything else is written once in registry.ts.
import type { StatusCause } from './errors.ts';
import type { KindInfo, KObject } from './types.ts';
import type { Registry } from './registry.ts';

export interface StrategyContext {
  registry: Registry;
  kind: KindInfo;
  dryRun: boolean;
  now: Date;
}

export interface Strategy {
  /** Defaulting and normalisation before validation of a new object. */
  prepareForCreate?(obj: KObject, ctx: StrategyContext): void;
  /** Same for an update; `old` is the stored object. */
  prepareForUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): void;
  /** Kind-specific validation (422 causes). */
  validate?(obj: KObject, old: KObject | undefined, ctx: StrategyContext): StatusCause[];
  /** Runs after a create was stored (not on dry run). */
  afterCreate?(obj: KObject, ctx: StrategyContext): void | Promise<void>;
  /** Runs after the object left the store. */
  afterDelete?(obj: KObject, ctx: StrategyContext): void | Promise<void>;
  /** Replaces storage entirely: POST answers with a computed object (SelfSubjectAccessReview). */
  createOnly?(obj: KObject, ctx: StrategyContext): KObject;
  /**
   * Objects computed on each read and never stored (metrics.k8s.io): the kind's get and list
   * read these; `name` narrows to one object.
   */
  computed?(namespace: string | undefined, name?: string): Promise<KObject[]>;
  /** Refreshes computed objects before a read (Node from the engine). */
  beforeRead?(ctx: StrategyContext): Promise<void>;
  /** Deletion that must pass through a phase first (Namespace -> Terminating). */
  beginDelete?(obj: KObject, ctx: StrategyContext, opts: { gracePeriodSeconds?: number }): KObject | undefined;
  /**
   * Subresources other than status that write part of the object (pods/ephemeralcontainers):
   * `update` copies that part from the input onto `next`, a copy of the stored object, and
   * `validate` replaces the kind's validation for such a write.
   */
  subresources?: Record<string, { update(next: KObject, input: KObject): void; validate(next: KObject, old: KObject): StatusCause[] }>;
  /** A second view of another resource's storage (events.k8s.io Event over core Event). */
  view?: { storage: string; toView(obj: KObject): KObject; fromView(obj: KObject): KObject };
}
