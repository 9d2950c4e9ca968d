// Go's fmt `%v` and reflect type names for decoded JSON, so that error messages which the real
// apiserver builds with them (and returns to clients verbatim) read the same here.

/** `%v` of a value decoded from JSON into interface{} (maps print with sorted keys). */
export function goV(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return goNumber(v);
  if (Array.isArray(v)) return '[' + v.map(goV).join(' ') + ']';
  const o = v as Record<string, unknown>;
  return 'map[' + Object.keys(o).sort().map((k) => `${k}:${goV(o[k])}`).join(' ') + ']';
}

function goNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  // %v of float64 is %g with the shortest precision, exponent form below 1e-4 or from 1e21
  const a = Math.abs(n);
  if (a !== 0 && (a < 1e-4 || a >= 1e21)) {
    const [m, e] = n.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(n);
}

/** reflect.TypeOf(v).String() for decoded JSON (integers decode as int64 in the apiserver). */
export function goType(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  return 'map[string]interface {}';
}

/** `%s` of a reflect.Type, which prints a nil type as `%!s(<nil>)`. */
export const goTypeS = (v: unknown) => (v === null || v === undefined ? '%!s(<nil>)' : goType(v));
