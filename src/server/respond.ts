// Writing replies: JSON (or YAML when asked), Status for errors, Warning headers.
import type { ServerResponse } from 'node:http';
import { loadYaml } from '../yaml.ts';
import type { Wanted } from './negotiate.ts';

export function setWarnings(res: ServerResponse, warnings: string[] | undefined): void {
  if (!warnings?.length || res.headersSent) return;
  // Same form as the apiserver: code 299, agent '-', quoted text.
  res.setHeader('Warning', warnings.map((w) => `299 - "${w.replace(/["\\]/g, '\\$&').replace(/[\r\n]/g, ' ')}"`));
}

export function send(res: ServerResponse, code: number, body: unknown, wanted?: Pick<Wanted, 'format'>): void {
  if (res.headersSent) { res.end(); return; }
  res.setHeader('Cache-Control', 'no-cache, private');
  res.statusCode = code;
  if (wanted?.format === 'yaml') {
    res.setHeader('Content-Type', 'application/yaml');
    void loadYaml().then((y) => res.end(y.stringify(body)), () => res.end());
    return;
  }
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
}

export function sendRaw(res: ServerResponse, code: number, contentType: string, data: Buffer | string, headers: Record<string, string> = {}): void {
  res.statusCode = code;
  res.setHeader('Content-Type', contentType);
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.end(data);
}
