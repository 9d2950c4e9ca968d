// Patches and server-side apply as pure functions: the caller reads the live object, calls one
// of these, then defaults, validates and stores the result. Nothing here does I/O.

import { ApiError, badRequest } from '../errors.ts';
import type { KObject } from '../types.ts';
import type { Node } from '../schema.ts';
import { jsonKind } from './json.ts';
import { SmpError, strategicMerge } from './strategic.ts';

export { applyJsonPatch, applyMergePatch } from './json.ts';
export { applyServerSide, updateManagedFields, formatTime } from './managed.ts';
export type { ApplyServerSideOptions, ApplyServerSideResult, UpdateManagedFieldsOptions, FieldConflict } from './managed.ts';

/**
 * Kubernetes strategic merge patch as the apiserver applies it (`application/strategic-merge-patch+json`).
 * `node` is the schema root of the kind (SchemaNav.root(definition)). Returns a new object.
 */
export function applyStrategicMergePatch<T extends object = KObject>(obj: T, patch: unknown, node: Node): T {
  if (patch === null) return structuredClone(obj); // `null` decodes to an empty patch
  if (typeof patch !== 'object' || Array.isArray(patch)) {
    throw badRequest(`json: cannot unmarshal ${jsonKind(patch)} into Go value of type map[string]interface {}`);
  }
  try {
    return strategicMerge(obj as Record<string, unknown>, patch as Record<string, unknown>, node) as T;
  } catch (e) {
    if (!(e instanceof SmpError)) throw e;
    // apiserver interpretStrategicMergePatchError; anything else reaches the client as a bare 500
    if (e.code === 400) throw badRequest(e.message);
    if (e.code === 422) throw new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
    throw new ApiError(500, '', e.message);
  }
}
