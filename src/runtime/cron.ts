// Cron schedules as the CronJob controller reads them (robfig/cron v3 ParseStandard): five
// fields or a descriptor, an optional TZ=/CRON_TZ= prefix, and the next run time in a time zone.
// Pure: no timers, no I/O. Parse errors carry robfig's own text, which the apiserver returns.

export class CronError extends Error {}

export interface CronSchedule {
  /** The first run strictly after `after` (whole minutes), undefined if none within 5 years. */
  next(after: Date): Date | undefined;
}

interface Bounds { min: number; max: number; names?: Record<string, number> }

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = {
  min: 1, max: 12,
  names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 },
};
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

/** A field: which values match, and whether it was written as `*`/`?` (robfig's star bit). */
interface Field { set: boolean[]; star: boolean }

/** Go's strconv.Quote for the short ASCII strings a schedule holds. */
const goQuote = (s: string) => JSON.stringify(s);

/** strconv.Atoi, with its error text. */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new CronError(`failed to parse int from ${s}: strconv.Atoi: parsing ${goQuote(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || Math.abs(n) > 2 ** 63 - 1) throw new CronError(`failed to parse int from ${s}: strconv.Atoi: parsing ${goQuote(s)}: value out of range`);
  if (n < 0) throw new CronError(`negative number (${n}) not allowed: ${s}`);
  return n;
}

function intOrName(s: string, b: Bounds): number {
  const named = b.names?.[s.toLowerCase()];
  return named ?? atoi(s);
}

function parseRange(expr: string, b: Bounds, f: Field): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min; end = b.max; star = true;
  } else {
    start = intOrName(lowAndHigh[0], b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = intOrName(lowAndHigh[1], b);
    else throw new CronError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = atoi(rangeAndStep[1]);
    // "N/step" means "N-max/step".
    if (lowAndHigh.length === 1) end = b.max;
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    throw new CronError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronError(`step of range should be a positive number: ${expr}`);
  for (let i = start; i <= end; i += step) f.set[i] = true;
  if (star) f.star = true;
}

function parseField(text: string, b: Bounds): Field {
  const f: Field = { set: new Array(b.max + 1).fill(false), star: false };
  for (const expr of text.split(',')) if (expr) parseRange(expr, b, f);
  return f;
}

function fixed(v: number, b: Bounds): Field {
  const f: Field = { set: new Array(b.max + 1).fill(false), star: false };
  f.set[v] = true;
  return f;
}

function every(b: Bounds): Field {
  return { set: new Array(b.max + 1).fill(true), star: true };
}

interface Spec { minute: Field; hour: Field; dom: Field; month: Field; dow: Field }

const DESCRIPTORS: Record<string, () => Spec> = {
  '@yearly': () => ({ minute: fixed(0, MINUTES), hour: fixed(0, HOURS), dom: fixed(1, DOM), month: fixed(1, MONTHS), dow: every(DOW) }),
  '@monthly': () => ({ minute: fixed(0, MINUTES), hour: fixed(0, HOURS), dom: fixed(1, DOM), month: every(MONTHS), dow: every(DOW) }),
  '@weekly': () => ({ minute: fixed(0, MINUTES), hour: fixed(0, HOURS), dom: every(DOM), month: every(MONTHS), dow: fixed(0, DOW) }),
  '@daily': () => ({ minute: fixed(0, MINUTES), hour: fixed(0, HOURS), dom: every(DOM), month: every(MONTHS), dow: every(DOW) }),
  '@hourly': () => ({ minute: fixed(0, MINUTES), hour: every(HOURS), dom: every(DOM), month: every(MONTHS), dow: every(DOW) }),
};
DESCRIPTORS['@annually'] = DESCRIPTORS['@yearly'];
DESCRIPTORS['@midnight'] = DESCRIPTORS['@daily'];

// ---- time zones ----------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string | undefined): Intl.DateTimeFormat {
  const key = tz ?? '';
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(key, f);
  }
  return f;
}

/** The error time.LoadLocation gives for a zone name, undefined when the zone loads. */
export function timeZoneError(tz: string): string | undefined {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return undefined;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
    // Go reads zoneinfo files by name: a name that differs only in case does not load.
    if (resolved !== tz && resolved.toLowerCase() === tz.toLowerCase()) return `unknown time zone ${tz}`;
    return undefined;
  } catch {
    return `unknown time zone ${tz}`;
  }
}

interface Wall { y: number; mo: number; d: number; h: number; mi: number }

function wallOf(ms: number, tz: string | undefined): Wall {
  if (tz === 'UTC') {
    const d = new Date(ms);
    return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes() };
  }
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year, mo: parts.month, d: parts.day, h: parts.hour % 24, mi: parts.minute };
}

/** Offset of the zone at an instant, in ms (wall clock minus UTC). */
function offsetAt(ms: number, tz: string | undefined): number {
  const w = wallOf(ms, tz);
  const s = Math.floor(ms / 60000) * 60000;
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi) - s;
}

/**
 * The instant of a wall-clock minute. A minute skipped by a DST jump lands after the jump (as
 * Go's time.Date does); a repeated one is its first occurrence.
 */
function instantOf(w: Wall, tz: string | undefined): number {
  const guess = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi);
  if (tz === 'UTC') return guess;
  const before = offsetAt(guess - 86_400_000 / 2, tz);
  const after = offsetAt(guess + 86_400_000 / 2, tz);
  const a = guess - Math.max(before, after);
  const b = guess - Math.min(before, after);
  for (const t of [a, b]) {
    const x = wallOf(t, tz);
    if (x.y === w.y && x.mo === w.mo && x.d === w.d && x.h === w.h && x.mi === w.mi) return t;
  }
  return guess - before;
}

// ---- schedules ---------------------------------------------------------------------------

class SpecSchedule implements CronSchedule {
  constructor(private s: Spec, private tz: string | undefined) {}

  private dayMatches(y: number, mo: number, d: number): boolean {
    const domMatch = this.s.dom.set[d];
    const dowMatch = this.s.dow.set[new Date(Date.UTC(y, mo - 1, d)).getUTCDay()];
    if (this.s.dom.star || this.s.dow.star) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  next(after: Date): Date | undefined {
    const t = after.getTime();
    const start = wallOf(t, this.tz);
    const limitYear = start.y + 5;
    const startMinuteOfDay = start.h * 60 + start.mi;
    const day = new Date(Date.UTC(start.y, start.mo - 1, start.d));
    for (let first = true; day.getUTCFullYear() <= limitYear; first = false, day.setUTCDate(day.getUTCDate() + 1)) {
      const y = day.getUTCFullYear(), mo = day.getUTCMonth() + 1, d = day.getUTCDate();
      if (!this.s.month.set[mo] || !this.dayMatches(y, mo, d)) continue;
      for (let h = 0; h < 24; h++) {
        if (!this.s.hour.set[h]) continue;
        for (let mi = 0; mi < 60; mi++) {
          if (!this.s.minute.set[mi]) continue;
          // Minutes well before the start cannot come after it, whatever DST does.
          if (first && h * 60 + mi < startMinuteOfDay - 180) continue;
          const at = instantOf({ y, mo, d, h, mi }, this.tz);
          if (at > t) return new Date(at);
        }
      }
    }
    return undefined;
  }
}

/** `@every <duration>`: a fixed delay, in whole seconds (at least one). */
class EverySchedule implements CronSchedule {
  constructor(private delayMs: number) {}
  next(after: Date): Date | undefined {
    const t = after.getTime();
    return new Date(t - (t % 1000) + this.delayMs);
  }
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** time.ParseDuration, in ms. */
function parseGoDuration(s: string): number {
  const bad = () => new CronError(`time: invalid duration ${goQuote(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) { sign = rest[0] === '-' ? -1 : 1; rest = rest.slice(1); }
  if (rest === '0') return 0;
  if (!rest) throw bad();
  let total = 0;
  const re = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (rest) {
    const m = re.exec(rest);
    if (!m) {
      if (/^(\d+\.?\d*|\.\d+)$/.test(rest)) throw new CronError(`time: missing unit in duration ${goQuote(s)}`);
      throw bad();
    }
    total += Number(m[1]) * UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/**
 * Parses a schedule as the CronJob controller does: `timeZone` (spec.timeZone) applies unless
 * the schedule carries its own TZ= prefix; neither means the server's local zone.
 */
export function parseSchedule(spec: string, timeZone?: string): CronSchedule {
  if (spec.length === 0) throw new CronError('empty spec string');
  let tz = timeZone;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const i = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    const name = i < 0 ? spec.slice(eq + 1) : spec.slice(eq + 1, i);
    const err = timeZoneError(name);
    if (err) throw new CronError(`provided bad location ${name}: ${err}`);
    tz = name;
    spec = i < 0 ? '' : spec.slice(i).trim();
  }
  if (tz === 'Local' || tz === '') tz = undefined;
  if (spec.startsWith('@')) {
    const d = DESCRIPTORS[spec];
    if (d) return new SpecSchedule(d(), tz);
    if (spec.startsWith('@every ')) {
      let ms: number;
      try {
        ms = parseGoDuration(spec.slice('@every '.length));
      } catch (e) {
        throw new CronError(`failed to parse duration ${spec}: ${(e as Error).message}`);
      }
      ms = Math.max(1000, ms - (ms % 1000));
      return new EverySchedule(ms);
    }
    throw new CronError(`unrecognized descriptor: ${spec}`);
  }
  const fields = spec.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) throw new CronError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  return new SpecSchedule({
    minute: parseField(fields[0], MINUTES),
    hour: parseField(fields[1], HOURS),
    dom: parseField(fields[2], DOM),
    month: parseField(fields[3], MONTHS),
    dow: parseField(fields[4], DOW),
  }, tz);
}

/** robfig's error text for a schedule, undefined when it parses. */
export function scheduleError(spec: string): string | undefined {
  try {
    parseSchedule(spec);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** RFC 3339 of an instant as seen in a zone (Go's t.In(loc).Format(time.RFC3339)). */
export function formatInZone(at: Date, tz: string | undefined): string {
  if (!tz || tz === 'UTC') return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const w = wallOf(at.getTime(), tz);
  const off = Math.round(offsetAt(at.getTime(), tz) / 60000);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const sec = p2(at.getUTCSeconds());
  const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${p2(Math.floor(Math.abs(off) / 60))}:${p2(Math.abs(off) % 60)}`;
  return `${w.y}-${p2(w.mo)}-${p2(w.d)}T${p2(w.h)}:${p2(w.mi)}:${sec}${zone}`;
}
