// One JSON line per request and per notable event, on stdout.
export function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }) + '\n');
}
export function logError(msg: string, err: unknown, fields: Record<string, unknown> = {}): void {
  const e = err instanceof Error ? err.message : String(err);
  log(msg, { level: 'error', error: e, ...fields });
}
