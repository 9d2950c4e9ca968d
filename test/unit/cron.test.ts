import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatInZone, parseSchedule, scheduleError, timeZoneError } from '../../src/runtime/cron.ts';

const next = (spec: string, after: string, tz = 'UTC') => parseSchedule(spec, tz).next(new Date(after))?.toISOString();

test('every minute: the next whole minute strictly after', () => {
  assert.equal(next('* * * * *', '2026-11-25T13:41:30Z'), '2026-11-25T13:42:00.000Z');
  assert.equal(next('* * * * *', '2026-11-25T13:42:00Z'), '2026-11-25T13:43:00.000Z');
});

test('ranges, steps, lists and names', () => {
  // Wednesday 25 Nov 2026.
  assert.equal(next('*/15 9-17 * * mon-fri', '2026-11-25T13:41:30Z'), '2026-11-25T13:45:00.000Z');
  assert.equal(next('0 9 * * MON', '2026-11-25T13:41:30Z'), '2026-11-30T09:00:00.000Z');
  assert.equal(next('5,35 */6 * * *', '2026-11-25T13:41:30Z'), '2026-11-25T18:05:00.000Z');
  assert.equal(next('0 0 1 jan,jul *', '2026-11-25T13:41:30Z'), '2027-01-01T00:00:00.000Z');
  assert.equal(next('10/20 * * * *', '2026-11-25T13:41:30Z'), '2026-11-25T13:50:00.000Z');
  assert.equal(next('0 12 ? * sun', '2026-11-25T13:41:30Z'), '2026-11-29T12:00:00.000Z');
});

test('day of month and day of week: OR when both are restricted, AND when one is *', () => {
  // 1st of the month or a Friday: Friday 27 Nov comes first.
  assert.equal(next('0 0 1 * fri', '2026-11-25T13:41:30Z'), '2026-11-27T00:00:00.000Z');
  // A step is no star for robfig: days 1,11,21,31 or a Monday, so Monday 30 Nov.
  assert.equal(next('0 0 */10 * mon', '2026-11-25T13:41:30Z'), '2026-11-30T00:00:00.000Z');
  // */1 keeps the star: days AND Mondays.
  assert.equal(next('0 0 */1 * mon', '2026-11-25T13:41:30Z'), '2026-11-30T00:00:00.000Z');
  assert.equal(next('0 0 1 * *', '2026-11-25T13:41:30Z'), '2026-12-01T00:00:00.000Z');
  assert.equal(next('0 0 * * fri', '2026-11-25T13:41:30Z'), '2026-11-27T00:00:00.000Z');
});

test('descriptors', () => {
  const after = '2026-11-25T13:41:30Z';
  assert.equal(next('@hourly', after), '2026-11-25T14:00:00.000Z');
  assert.equal(next('@daily', after), '2026-11-26T00:00:00.000Z');
  assert.equal(next('@midnight', after), '2026-11-26T00:00:00.000Z');
  assert.equal(next('@weekly', after), '2026-11-29T00:00:00.000Z');
  assert.equal(next('@monthly', after), '2026-12-01T00:00:00.000Z');
  assert.equal(next('@yearly', after), '2027-01-01T00:00:00.000Z');
  assert.equal(next('@annually', after), '2027-01-01T00:00:00.000Z');
  assert.equal(next('@every 1h30m', after), '2026-11-25T15:11:30.000Z');
});

test('leap days and impossible dates', () => {
  assert.equal(next('0 0 29 2 *', '2026-11-25T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  assert.equal(parseSchedule('0 0 31 2 *', 'UTC').next(new Date('2026-11-25T00:00:00Z')), undefined);
});

test('time zones: spec.timeZone, a TZ= prefix, and DST gaps and repeats', () => {
  assert.equal(next('0 9 * * *', '2026-11-25T13:41:30Z', 'Europe/Berlin'), '2026-11-26T08:00:00.000Z');
  assert.equal(parseSchedule('TZ=Asia/Tokyo 0 9 * * *').next(new Date('2026-11-25T13:41:30Z'))?.toISOString(), '2026-11-26T00:00:00.000Z');
  assert.equal(parseSchedule('CRON_TZ=America/New_York 0 9 * * *', 'Asia/Tokyo').next(new Date('2026-11-25T13:41:30Z'))?.toISOString(), '2026-11-25T14:00:00.000Z');
  // 02:30 does not exist on 14 Mar 2027 in New York: it lands after the jump (03:30 EDT).
  assert.equal(next('30 2 * * *', '2027-03-13T12:00:00Z', 'America/New_York'), '2027-03-14T07:30:00.000Z');
  // 01:30 happens twice on 7 Nov 2027: the first (EDT) is taken.
  assert.equal(next('30 1 * * *', '2027-11-06T12:00:00Z', 'America/New_York'), '2027-11-07T05:30:00.000Z');
});

test('parse errors carry robfig/cron v3 text', () => {
  const cases: Array<[string, string]> = [
    ['foo', 'expected exactly 5 fields, found 1: [foo]'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['* * * * * *', 'expected exactly 5 fields, found 6: [* * * * * *]'],
    ['60 * * * *', 'end of range (60) above maximum (59): 60'],
    ['* 24 * * *', 'end of range (24) above maximum (23): 24'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['* * * 13 *', 'end of range (13) above maximum (12): 13'],
    ['* * * * 7', 'end of range (7) above maximum (6): 7'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['1/2/3 * * * *', 'too many slashes: 1/2/3'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['* * * foo *', 'failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['@every soon', 'failed to parse duration @every soon: time: invalid duration "soon"'],
    ['TZ=Mars/Olympus * * * * *', 'provided bad location Mars/Olympus: unknown time zone Mars/Olympus'],
  ];
  for (const [spec, msg] of cases) assert.equal(scheduleError(spec), msg, spec);
  for (const ok of ['* * * * *', '0 0 * * SUN', '@hourly', 'CRON_TZ=UTC 0 * * * *', '*/5 1-3,7 1,15 jan-jun ?']) assert.equal(scheduleError(ok), undefined, ok);
});

test('time zone names load as Go loads them', () => {
  assert.equal(timeZoneError('Europe/Berlin'), undefined);
  assert.equal(timeZoneError('UTC'), undefined);
  assert.equal(timeZoneError('Mars/Olympus'), 'unknown time zone Mars/Olympus');
  assert.equal(timeZoneError('europe/berlin'), 'unknown time zone europe/berlin');
});

test('formatInZone: RFC 3339 in the zone, UTC without one', () => {
  const t = new Date('2026-11-25T13:41:00Z');
  assert.equal(formatInZone(t, undefined), '2026-11-25T13:41:00Z');
  assert.equal(formatInZone(t, 'Europe/Berlin'), '2026-11-25T14:41:00+01:00');
  assert.equal(formatInZone(t, 'America/New_York'), '2026-11-25T08:41:00-05:00');
  assert.equal(formatInZone(t, 'Asia/Kolkata'), '2026-11-25T19:11:00+05:30');
});
