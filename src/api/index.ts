// The handler table. Each operation of the trimmed spec maps to a handler through its action and
// subresource; the type below makes an operation that no handler serves a compile error.
import { operations, type OperationId } from '../../generated/operations.ts';
import * as generic from './generic.ts';
import { podLogs, upgradeRequired, type PodIO } from './podstreams.ts';
import type { ApiContext, ApiRequest } from './generic.ts';
import { getScale, patchScale, putScale } from './workloads.ts';

type Ops = typeof operations;
type Sub<O> = O extends { subresource: infer S extends string } ? `/${S}` : '';
/** `get`, `list`, `put/status`, `post` ...; discovery operations (no resource) are `discovery`. */
export type RouteKey = {
  [K in OperationId]: Ops[K] extends { resource: '' } ? 'discovery' : `${Ops[K]['action']}${Sub<Ops[K]>}`
}[OperationId];

export type Handler = (ctx: ApiContext, r: ApiRequest) => Promise<void>;
export type Handlers = Record<Exclude<RouteKey, 'discovery'>, Handler>;

/** The handler table; pod streams need the engine side, given at start. */
export const makeHandlers = (io: () => PodIO): Handlers => ({
  get: generic.get,
  list: generic.list,
  watch: generic.watch,
  watchlist: generic.watch,
  post: generic.create,
  put: generic.update,
  patch: generic.patch,
  delete: generic.remove,
  deletecollection: generic.removeCollection,
  'get/status': generic.get,
  'put/status': generic.update,
  'patch/status': generic.patch,
  'put/finalize': generic.update,
  'get/ephemeralcontainers': generic.get,
  'put/ephemeralcontainers': generic.update,
  'patch/ephemeralcontainers': generic.patch,
  'get/scale': getScale,
  'put/scale': putScale,
  'patch/scale': patchScale,
  'get/log': podLogs(io),
  'connect/exec': upgradeRequired,
  'connect/attach': upgradeRequired,
  'connect/portforward': upgradeRequired,
});

function routeKey(id: OperationId): string {
  const op = operations[id] as { action: string; subresource?: string };
  return op.subresource ? `${op.action}/${op.subresource}` : op.action;
}

export async function dispatch(table: Handlers, id: OperationId, ctx: ApiContext, r: ApiRequest): Promise<void> {
  const h = (table as Record<string, Handler>)[routeKey(id)];
  if (!h) throw new Error(`no handler for ${id}`);
  await h(ctx, r);
}
