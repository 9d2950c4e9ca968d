// Request bodies: size limit, and decoding JSON, YAML and protobuf into one object form.
import type { IncomingMessage } from 'node:http';
import { loadYaml } from '../yaml.ts';
import { badRequest, tooLarge, unsupportedMediaType } from '../machinery/errors.ts';
import type { KindInfo } from '../machinery/types.ts';

export const MAX_BODY = 3 * 1024 * 1024;

export function readBody(req: IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) { failed = true; reject(tooLarge()); return; }
      chunks.push(c);
    });
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks)); });
    req.on('error', (e) => { if (!failed) { failed = true; reject(e); } });
  });
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

export interface Decoded { obj: Record<string, unknown>; raw?: { text: string; format: 'json' | 'yaml' } }

function describe(kind?: KindInfo): string {
  return kind ? `(must be of type ${kind.kind})` : '';
}

export function parseJsonText(text: string, kind?: KindInfo): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the object provided is unrecognized ${describe(kind)}: couldn't get version/kind; json parse error: ${(e as Error).message}`.replace('  ', ' '));
  }
}

export async function parseYamlText(text: string): Promise<unknown> {
  const { parse } = await loadYaml();
  try {
    return parse(text, { uniqueKeys: false, version: '1.2', merge: true });
  } catch (e) {
    throw badRequest(`error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Decodes a create/update body. `expected` is the URL's kind (protobuf envelopes are checked against it). */
export async function decodeObject(body: Buffer, contentType: string | undefined, kind?: KindInfo): Promise<Decoded> {
  const mt = mediaType(contentType);
  if (!body.length) throw badRequest('the body of the request is empty; an object is expected');
  let obj: unknown;
  let raw: Decoded['raw'];
  if (mt === 'application/json' || mt === '' ) {
    const text = body.toString('utf8');
    obj = parseJsonText(text, kind);
    raw = { text, format: 'json' };
  } else if (mt === 'application/yaml' || mt === 'application/x-yaml' || mt === 'text/yaml') {
    const text = body.toString('utf8');
    obj = await parseYamlText(text);
    raw = { text, format: 'yaml' };
  } else if (mt === 'application/vnd.kubernetes.protobuf') {
    const { decodeProtobufBody } = await import('../machinery/protobuf.ts');
    obj = decodeProtobufBody(body, kind ? { apiVersion: kind.group ? `${kind.group}/${kind.version}` : kind.version, kind: kind.kind } : undefined);
  } else {
    throw unsupportedMediaType(contentType ?? '');
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw badRequest(`the object provided is unrecognized ${describe(kind)}: the body is not a JSON object`);
  }
  return { obj: obj as Record<string, unknown>, raw };
}
