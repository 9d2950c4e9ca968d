// The HTTP side: health, auth, logging, discovery, OpenAPI, and dispatch of API operations.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { ApiError, pathNotFound, toApiError, unauthorized, methodNotAllowed } from '../machinery/errors.ts';
import { log } from '../log.ts';
import type { Router } from './router.ts';
import { acceptsAggregatedDiscovery, negotiate } from './negotiate.ts';
import { send } from './respond.ts';
import { serveOpenApiV2, serveOpenApiV3, sendJsonFile } from './openapi.ts';
import { dispatch, type Handlers } from '../api/index.ts';
import type { ApiContext } from '../api/generic.ts';
import type { KindInfo } from '../machinery/types.ts';
import { operations, type OperationId } from '../../generated/operations.ts';

export interface AppDeps {
  ctx: ApiContext;
  token: string;
  version: () => Record<string, string>;
  ready: () => boolean;
  kinds: KindInfo[];
  handlers: Handlers;
  /** One router for the app and the upgrade path (exec, attach, port-forward). */
  router: Router;
}

const OPEN_PATHS = new Set(['/healthz', '/livez', '/readyz']);

export function tokenMatches(header: string | undefined, token: string): boolean {
  if (!header || !header.startsWith('Bearer ')) return false;
  const a = Buffer.from(header.slice(7).trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const e = toApiError(err);
  if (e.code >= 500) log('request failed', { level: 'error', error: err instanceof Error ? err.stack : String(err) });
  if (res.headersSent) { res.end(); return; }
  send(res, e.code, e.toStatus());
}

export function createApp(deps: AppDeps) {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'simple');
  const router = deps.router;
  const kindByResource = new Map<string, KindInfo>();
  for (const k of deps.kinds) kindByResource.set(`${k.group}/${k.version}/${k.plural}`, k);

  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      log('request', { method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 100) / 100 });
    });
    next();
  });

  app.use((req, res, next) => {
    const path = req.path;
    if (OPEN_PATHS.has(path) || OPEN_PATHS.has(path.replace(/\/.*$/, '')) || /^\/(healthz|livez|readyz)\//.test(path)) {
      const ok = path.startsWith('/readyz') ? deps.ready() : true;
      res.statusCode = ok ? 200 : 500;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(ok ? 'ok' : 'not ready');
      return;
    }
    if (!tokenMatches(req.headers.authorization, deps.token)) {
      send(res, 401, unauthorized().toStatus());
      return;
    }
    next();
  });

  app.use(async (req, res) => {
    try {
      await handle(req, res);
    } catch (err) {
      sendError(res, err);
    }
  });

  async function handle(req: express.Request, res: express.Response): Promise<void> {
    const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
    const method = req.method.toLowerCase();
    if (path === '/openapi/v2' || path.startsWith('/openapi/v3')) {
      if (method !== 'get' && method !== 'head') throw methodNotAllowed();
      const qs = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
      if (path === '/openapi/v2') serveOpenApiV2(req, res);
      else serveOpenApiV3(req, res, path, qs);
      return;
    }
    if (path === '/version') {
      send(res, 200, deps.version());
      return;
    }
    if ((path === '/api' || path === '/apis') && method === 'get') {
      const agg = acceptsAggregatedDiscovery(req.headers.accept);
      const which = path.slice(1);
      if (agg) {
        sendJsonFile(res, `discovery/aggregated-${which}-${agg}.json`, `application/json;g=apidiscovery.k8s.io;v=${agg};as=APIGroupDiscoveryList`);
      } else {
        sendJsonFile(res, `discovery/${which}.json`);
      }
      return;
    }
    const m = router.match(method === 'head' ? 'get' : method, path);
    if (!m) {
      // The path exists for another method: 405, else 404 (a bare 404 breaks kubectl apply).
      for (const other of ['get', 'post', 'put', 'patch', 'delete']) {
        if (other !== method && router.match(other, path)) throw methodNotAllowed();
      }
      throw pathNotFound();
    }
    const op = operations[m.operationId as OperationId] as { resource: string; group: string; version: string; subresource?: string; action: string };
    if (!op.resource) {
      // Discovery documents for one group or group-version.
      const file = `discovery/${path.slice(1).replace(/\//g, '__')}.json`;
      sendJsonFile(res, file);
      return;
    }
    const kind = kindByResource.get(`${op.group}/${op.version}/${op.resource}`);
    if (!kind) throw pathNotFound();
    const wanted = negotiate(req.headers.accept);
    const query = req.query as Record<string, string | string[] | undefined>;
    await dispatch(deps.handlers, m.operationId as OperationId, deps.ctx, {
      req, res, kind, namespace: m.params.namespace, name: m.params.name, subresource: op.subresource,
      query, wanted, userAgent: String(req.headers['user-agent'] ?? ''),
    });
  }

  return app;
}

export { ApiError };
export type { IncomingMessage };
