// /openapi/v2 and /openapi/v3 served from the pre-serialised files codegen wrote.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { generatedPath } from '../paths.ts';
import { parseMediaTypes } from './negotiate.ts';
import { send } from './respond.ts';
import { pathNotFound } from '../machinery/errors.ts';

const PROTO_V2 = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

interface Doc { data: Buffer; etag: string }
const cache = new Map<string, Doc>();

// Loaded on first request only: the documents are large and most devices never serve them.
function load(file: string): Doc {
  let d = cache.get(file);
  if (!d) {
    const data = readFileSync(generatedPath(file));
    d = { data, etag: `"${createHash('sha512').update(data).digest('hex').slice(0, 64).toUpperCase()}"` };
    cache.set(file, d);
  }
  return d;
}

function wantsProtobuf(accept: string | undefined): boolean {
  for (const m of parseMediaTypes(accept)) {
    if (m.type.startsWith('application/com.github.proto-openapi.spec.v2')) return true;
    if (m.type === 'application/json' || m.type === '*/*') return false;
  }
  return false;
}

function reply(req: IncomingMessage, res: ServerResponse, doc: Doc, type: string, cacheControl: string): void {
  res.setHeader('ETag', doc.etag);
  res.setHeader('Cache-Control', cacheControl);
  res.setHeader('Vary', 'Accept');
  if (req.headers['if-none-match'] === doc.etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', type);
  res.end(doc.data);
}

export function serveOpenApiV2(req: IncomingMessage, res: ServerResponse): void {
  if (wantsProtobuf(req.headers.accept)) reply(req, res, load('openapi-v2.pb'), PROTO_V2, 'no-cache, private');
  else reply(req, res, load('swagger.json'), 'application/json', 'no-cache, private');
}

interface V3Index { paths: Record<string, { serverRelativeURL: string }> }
let index: V3Index | undefined;
function v3Index(): V3Index {
  return (index ??= JSON.parse(load('openapi-v3/index.json').data.toString()) as V3Index);
}

export function serveOpenApiV3(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
  if (path === '/openapi/v3' || path === '/openapi/v3/') {
    reply(req, res, load('openapi-v3/index.json'), 'application/json', 'no-cache, private');
    return;
  }
  const gv = path.slice('/openapi/v3/'.length).replace(/\/$/, '');
  const entry = v3Index().paths[gv];
  if (!entry) throw pathNotFound();
  const doc = load(`openapi-v3/${gv.replace(/\//g, '__')}.json`);
  const current = new URL(entry.serverRelativeURL, 'https://x').searchParams.get('hash');
  const asked = query.get('hash');
  if (asked && asked !== current) {
    // A stale hash: send the client to the current document, as the apiserver does.
    res.statusCode = 301;
    res.setHeader('Location', entry.serverRelativeURL);
    res.setHeader('Cache-Control', 'no-cache, private');
    res.end();
    return;
  }
  reply(req, res, doc, 'application/json', asked ? 'public, immutable, max-age=31536000' : 'no-cache, private');
}

export function sendJsonFile(res: ServerResponse, file: string, contentType = 'application/json'): void {
  const doc = load(file);
  res.statusCode = 200;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-cache, private');
  res.end(doc.data);
}

export { send };
