// Finds the upstream Kubernetes OpenAPI document and refuses anything but the exact file the
// project is built against: every generated artefact is only as right as this input.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const UPSTREAM_SHA256 = 'c316f6e232c666148076e82e20371ff656ffbb12e59d8953e6d94ec7685bc75c';

/** Swagger 2.0 as the upstream document uses it; values stay untyped on purpose. */
export interface Swagger {
  swagger: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, any>>;
  definitions: Record<string, any>;
  parameters: Record<string, any>;
  security?: unknown[];
  securityDefinitions?: Record<string, any>;
  [k: string]: unknown;
}

export class CodegenError extends Error {}

export function upstreamPath(root: string, env = process.env): string {
  return env.K8S_OPENAPI
    ? resolve(env.K8S_OPENAPI)
    : resolve(root, '../shared/kubernetes-openapi/swagger-v1.36.json');
}

export function loadUpstream(path: string): Swagger {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new CodegenError(
      `upstream OpenAPI document not found at ${path} (set K8S_OPENAPI to the Kubernetes 1.36 swagger.json)`);
  }
  const sum = createHash('sha256').update(bytes).digest('hex');
  if (sum !== UPSTREAM_SHA256) {
    throw new CodegenError(
      `upstream OpenAPI document ${path} has sha256 ${sum}, expected ${UPSTREAM_SHA256} (Kubernetes 1.36 swagger.json)`);
  }
  return JSON.parse(bytes.toString('utf8')) as Swagger;
}
