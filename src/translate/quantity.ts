// Kubernetes resource quantities (`500m`, `1.5`, `128Mi`, `1G`, `1e3`), kept exact: memory in
// Ei does not fit a double, and kubelet rounds every conversion up, so a float would be off by one.
// Grammar and rounding follow k8s.io/apimachinery/pkg/api/resource/quantity.go.

/** An exact value num/den; den is a power of ten. */
export interface Quantity { num: bigint; den: bigint }

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n, Mi: 1n << 20n, Gi: 1n << 30n, Ti: 1n << 40n, Pi: 1n << 50n, Ei: 1n << 60n,
};
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const SHAPE = /^([+-]?)(\d*)(?:\.(\d*))?(.*)$/;

export const QUANTITY_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** Parses a quantity as the API carries it (a string, or a JSON number). Throws on bad input. */
export function parseQuantity(input: string | number): Quantity {
  const q = tryParseQuantity(input);
  if (!q) throw new Error(QUANTITY_ERROR);
  return q;
}

export function tryParseQuantity(input: string | number | undefined | null): Quantity | undefined {
  if (input === undefined || input === null) return undefined;
  const s = typeof input === 'number' ? numberText(input) : input;
  const m = SHAPE.exec(s);
  if (!m) return undefined;
  const [, sign, whole, frac = '', suffix] = m;
  if (whole === '' && frac === '') return undefined;
  let num = BigInt((whole || '0') + frac);
  let exp10 = -frac.length;
  if (suffix in BINARY) {
    num *= BINARY[suffix];
  } else if (suffix in DECIMAL) {
    exp10 += DECIMAL[suffix];
  } else if (/^[eE][+-]?\d+$/.test(suffix)) {
    exp10 += Number(suffix.slice(1));
  } else {
    return undefined;
  }
  if (sign === '-') num = -num;
  return exp10 >= 0 ? { num: num * 10n ** BigInt(exp10), den: 1n } : { num, den: 10n ** BigInt(-exp10) };
}

function numberText(n: number): string {
  // String(1e21) is '1e+21', which the grammar accepts; String(0.1) is exact enough for a spec value.
  return String(n);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a > 0n) === (b > 0n) ? q + 1n : q;
}

/** Value() in Go: the integer value rounded up (128Mi -> 134217728, 0.5 -> 1). */
export function quantityValue(q: Quantity): number {
  return Number(ceilDiv(q.num, q.den));
}

/** MilliValue() in Go: value x 1000 rounded up (1.5 -> 1500, 100m -> 100). */
export function quantityMilli(q: Quantity): number {
  return Number(ceilDiv(q.num * 1000n, q.den));
}

export function compareQuantity(a: Quantity, b: Quantity): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function addQuantity(a: Quantity, b: Quantity): Quantity {
  if (a.den === b.den) return { num: a.num + b.num, den: a.den };
  const den = a.den > b.den ? a.den : b.den;
  return { num: a.num * (den / a.den) + b.num * (den / b.den), den };
}

export const ZERO: Quantity = { num: 0n, den: 1n };

export function isPositive(q: Quantity): boolean {
  return q.num > 0n;
}

/**
 * kubelet's resourceFieldRef conversion: CPU as ceil(milli / divisor milli), everything else as
 * ceil(value / divisor value). A zero divisor means 1.
 */
export function divideForEnv(resource: string, q: Quantity, divisor: Quantity | undefined): string {
  const d = divisor && divisor.num !== 0n ? divisor : { num: 1n, den: 1n };
  const scale = resource === 'cpu' ? 1000n : 1n;
  return String(ceilDiv(ceilDiv(q.num * scale, q.den), ceilDiv(d.num * scale, d.den)));
}
