// RFC 6902 JSON patch and RFC 7386 merge patch, with the apiserver's answers for patches that
// are malformed (400) or do not apply (422, with the apiserver's fixed generic message).

import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { ApiError, badRequest, tooLarge } from '../errors.ts';

type Obj = Record<string, unknown>;
const isMap = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const MAX_JSON_PATCH_OPERATIONS = 10000;

/** Go's json words for a value that would not decode into the wanted type. */
export function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  return typeof v; // string, number, object
}

/** NewGenericServerResponse(422): the apiserver does not pass the patch library's reason on. */
export const patchDoesNotApply = () =>
  new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});

export function applyJsonPatch<T>(obj: T, ops: unknown): T {
  if (!Array.isArray(ops)) {
    throw badRequest(`json: cannot unmarshal ${jsonKind(ops)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of ops) {
    if (op !== null && !isMap(op)) {
      throw badRequest(`json: cannot unmarshal ${jsonKind(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  try {
    return fastJsonPatch.applyPatch(obj, ops as Operation[], true, false).newDocument;
  } catch {
    throw patchDoesNotApply();
  }
}

/** RFC 7386 as evanphx/json-patch v4 implements it (nulls inside arrays are kept). */
export function applyMergePatch<T>(obj: T, patch: unknown): T {
  if (patch === null || (!isMap(patch) && !Array.isArray(patch))) throw badRequest('Invalid JSON Patch');
  if (Array.isArray(patch)) {
    // the result is a list, which the apiserver then fails to decode as an object
    const value = JSON.stringify(JSON.stringify(pruneNulls(structuredClone(patch))));
    const why = 'couldn\'t get version/kind; json parse error: json: cannot unmarshal array into Go value of type '
      + 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';
    const message = `Invalid value: ${value}: ${why}`;
    throw new ApiError(422, 'Invalid', ` "" is invalid: patch: ${message}`,
      { causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }] });
  }
  const doc = structuredClone(obj) as unknown;
  if (!isMap(doc)) return pruneNulls(structuredClone(patch)) as T;
  mergeDocs(doc, structuredClone(patch));
  return doc as T;
}

function mergeDocs(doc: Obj, patch: Obj): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) { delete doc[k]; continue; }
    const cur = doc[k];
    doc[k] = cur === undefined || cur === null ? pruneNulls(v) : merge(cur, v);
  }
}

function merge(cur: unknown, patch: unknown): unknown {
  if (!isMap(cur)) return pruneNulls(patch);
  if (!isMap(patch)) return patch;
  mergeDocs(cur, patch);
  return cur;
}

function pruneNulls(v: unknown): unknown {
  if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (x === null) delete v[k]; else pruneNulls(x);
    }
  } else if (Array.isArray(v)) {
    for (const x of v) if (x !== null) pruneNulls(x);
  }
  return v;
}
