// Every error a client sees is a metav1.Status. ApiError carries one through the layers.

export interface StatusCause { reason?: string; message?: string; field?: string }
export interface StatusDetails {
  name?: string; group?: string; kind?: string; uid?: string;
  causes?: StatusCause[]; retryAfterSeconds?: number;
}
export interface Status {
  kind: 'Status'; apiVersion: 'v1'; metadata: Record<string, unknown>;
  status: 'Failure' | 'Success'; message?: string; reason?: string;
  details?: StatusDetails; code: number;
}

export class ApiError extends Error {
  constructor(
    public code: number,
    public reason: string,
    message: string,
    public details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: this.message, reason: this.reason, code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** `configmaps` or `deployments.apps` as the real server writes it in messages. */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const badRequest = (message: string, details?: StatusDetails) =>
  new ApiError(400, 'BadRequest', message, details);

export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');

export const forbidden = (message: string) => new ApiError(403, 'Forbidden', message);

export const notFound = (resource: string, group: string, name: string) =>
  new ApiError(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`,
    { name, group: group || undefined, kind: resource });

export const pathNotFound = () =>
  new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

export const methodNotAllowed = () =>
  new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});

export const alreadyExists = (resource: string, group: string, name: string) =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(resource, group)} "${name}" already exists`,
    { name, group: group || undefined, kind: resource });

export const conflict = (resource: string, group: string, name: string, why: string) =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} "${name}": ${why}`,
    { name, group: group || undefined, kind: resource });

export const staleConflict = (resource: string, group: string, name: string) =>
  conflict(resource, group, name, 'the object has been modified; please apply your changes to the latest version and try again');

export const gone = (message: string) => new ApiError(410, 'Expired', message);

export const tooLarge = (message = 'Request entity too large: limit is 3145728') =>
  new ApiError(413, 'RequestEntityTooLarge', message);

export const unsupportedMediaType = (contentType: string) =>
  new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`
    + (contentType ? ` (got ${contentType})` : ''));

export const notAcceptable = (message: string) => new ApiError(406, 'NotAcceptable', message);

/** 422 Invalid, message built the way the apiserver builds it from its field errors. */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : `${c.message}`));
  const body = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const gk = group ? `${kind}.${group}` : kind;
  return new ApiError(422, 'Invalid', `${gk} "${name}" is invalid: ${body}`,
    { name, group: group || undefined, kind, causes });
}

export const internalError = (message: string) =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

export const serviceUnavailable = (message: string) =>
  new ApiError(503, 'ServiceUnavailable', message, { retryAfterSeconds: 1 });

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return internalError(msg);
}
