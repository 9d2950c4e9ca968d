// Content negotiation: what the client sent, and what it wants back.
import { notAcceptable } from '../machinery/errors.ts';

export interface MediaType { type: string; params: Record<string, string> }

export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [type, ...rest] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    return { type: type.toLowerCase(), params };
  }).filter((m) => m.type);
}

export type Wanted =
  | { format: 'json' | 'yaml'; as?: undefined }
  | { format: 'json' | 'yaml'; as: 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList'; version: string };

const PLAIN = new Set(['application/json', 'application/*', '*/*', 'application/yaml', 'application/json;stream=watch']);

/**
 * Picks the response form from Accept, in the client's order. A client that accepts only
 * protobuf gets 406: every client we know also accepts JSON and reads JSON replies.
 */
export function negotiate(accept: string | undefined): Wanted {
  const types = parseMediaTypes(accept);
  if (!types.length) return { format: 'json' };
  for (const m of types) {
    const fmt = m.type === 'application/yaml' ? 'yaml' : 'json';
    if (m.params.as) {
      if (m.params.g !== 'meta.k8s.io') continue;
      if (m.params.as === 'Table' || m.params.as === 'PartialObjectMetadata' || m.params.as === 'PartialObjectMetadataList') {
        if (m.type !== 'application/json' && m.type !== 'application/yaml') continue;
        return { format: fmt, as: m.params.as, version: m.params.v || 'v1' };
      }
      continue;
    }
    if (PLAIN.has(m.type)) return { format: fmt };
  }
  throw notAcceptable(`only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io`);
}

export function acceptsAggregatedDiscovery(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const m of parseMediaTypes(accept)) {
    if (m.type !== 'application/json') continue;
    if (m.params.g === 'apidiscovery.k8s.io' && m.params.as === 'APIGroupDiscoveryList') {
      if (m.params.v === 'v2') return 'v2';
      if (m.params.v === 'v2beta1') return 'v2beta1';
    }
    if (!m.params.as) return undefined;
  }
  return undefined;
}
