import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CronError, latestFire, nextFire, parseCron } from './index.js';
import { fireTimes } from './testing.js';

const fires = fireTimes;

/** ISO strings from short "YYYY-MM-DDTHH:MM[:SS]" UTC times. */
const utc = (...times: string[]): string[] => times.map((t) => new Date(`${t}${t.length === 16 ? ':00' : ''}Z`).toISOString());

// 2026-01-01 is a Thursday.
const FROM = '2026-01-01T00:00:00Z';

describe('nextFire: syntax forms (UTC, from Thursday 2026-01-01 00:00)', () => {
  const table: [string, string, string[]][] = [
    ['every minute', '* * * * *', utc('2026-01-01T00:01', '2026-01-01T00:02', '2026-01-01T00:03')],
    ['list', '0,30 * * * *', utc('2026-01-01T00:30', '2026-01-01T01:00', '2026-01-01T01:30')],
    ['step */15', '*/15 * * * *', utc('2026-01-01T00:15', '2026-01-01T00:30', '2026-01-01T00:45', '2026-01-01T01:00')],
    ['range with step 1-30/5', '1-30/5 * * * *',
      utc('2026-01-01T00:01', '2026-01-01T00:06', '2026-01-01T00:11', '2026-01-01T00:16', '2026-01-01T00:21', '2026-01-01T00:26', '2026-01-01T01:01')],
    ['value with step 5/10', '5/10 * * * *', utc('2026-01-01T00:05', '2026-01-01T00:15', '2026-01-01T00:25')],
    ['hour range and list', '0 8-10,17 * * *', utc('2026-01-01T08:00', '2026-01-01T09:00', '2026-01-01T10:00', '2026-01-01T17:00', '2026-01-02T08:00')],
    ['month names, any case', '0 12 1 jan,Mar *', utc('2026-01-01T12:00', '2026-03-01T12:00', '2027-01-01T12:00')],
    ['month step', '0 0 1 */3 *', utc('2026-04-01T00:00', '2026-07-01T00:00', '2026-10-01T00:00', '2027-01-01T00:00')],
    ['weekday names, any case', '0 0 * * SAT,sun', utc('2026-01-03T00:00', '2026-01-04T00:00', '2026-01-10T00:00')],
    ['weekday 0 is Sunday', '0 0 * * 0', utc('2026-01-04T00:00', '2026-01-11T00:00')],
    ['weekday 7 is Sunday', '0 0 * * 7', utc('2026-01-04T00:00', '2026-01-11T00:00')],
    ['weekday range to 7', '0 0 * * 5-7', utc('2026-01-02T00:00', '2026-01-03T00:00', '2026-01-04T00:00', '2026-01-09T00:00')],
    ['weekday name range', '0 0 * * Mon-WED', utc('2026-01-05T00:00', '2026-01-06T00:00', '2026-01-07T00:00', '2026-01-12T00:00')],
    ['day of month only', '0 0 13 * *', utc('2026-01-13T00:00', '2026-02-13T00:00')],
    ['day of week only', '0 0 * * 1', utc('2026-01-05T00:00', '2026-01-12T00:00')],
    ['both restricted: either matches (13th or Friday)', '0 0 13 * 5',
      utc('2026-01-02T00:00', '2026-01-09T00:00', '2026-01-13T00:00', '2026-01-16T00:00')],
    // Vixie cron's day-field rule: a day field that starts with `*` leaves the other in force alone, so the
    // two are ANDed; only when neither starts with `*` does a day matching either run.
    ['day of month */2 and a weekday: odd days that are Mondays', '0 0 */2 * 1',
      utc('2026-01-05T00:00', '2026-01-19T00:00', '2026-02-09T00:00', '2026-02-23T00:00', '2026-03-09T00:00')],
    ['day of month 1-31/2 (no leading *) and a weekday: odd days or Mondays', '0 0 1-31/2 * 1',
      utc('2026-01-03T00:00', '2026-01-05T00:00', '2026-01-07T00:00', '2026-01-09T00:00', '2026-01-11T00:00', '2026-01-12T00:00', '2026-01-13T00:00')],
    ['day of week */2 and a day of month: the 13th on Sunday, Tuesday, Thursday or Saturday', '0 0 13 * */2',
      utc('2026-01-13T00:00', '2026-06-13T00:00', '2026-08-13T00:00')],
    ['day of week */7 (Sunday) and a day of month: the 13th on a Sunday', '0 0 13 * */7',
      utc('2026-09-13T00:00', '2026-12-13T00:00', '2027-06-13T00:00')],
    ['day of month *,13 (every day) and a weekday: Fridays only', '0 0 *,13 * FRI',
      utc('2026-01-02T00:00', '2026-01-09T00:00', '2026-01-16T00:00')],
    ['day of month */10 and a weekday, with seconds', '30 0 0 */10 * 5',
      utc('2026-05-01T00:00:30', '2026-07-31T00:00:30', '2026-08-21T00:00:30')],
    ['29 February on a Sunday', '0 0 29 2 */7', utc('2032-02-29T00:00', '2060-02-29T00:00')],
    ['end of month skips 30-day months and February', '0 0 31 * *',
      utc('2026-01-31T00:00', '2026-03-31T00:00', '2026-05-31T00:00', '2026-07-31T00:00', '2026-08-31T00:00', '2026-10-31T00:00')],
    ['leap day', '0 0 29 2 *', utc('2028-02-29T00:00', '2032-02-29T00:00')],
    ['seconds: */2', '*/2 * * * * *', utc('2026-01-01T00:00:02', '2026-01-01T00:00:04', '2026-01-01T00:00:06')],
    ['seconds: fixed second', '30 * * * * *', utc('2026-01-01T00:00:30', '2026-01-01T00:01:30')],
    ['seconds: list with minute step', '0,15 */30 * * * *', utc('2026-01-01T00:00:15', '2026-01-01T00:30:00', '2026-01-01T00:30:15')],
    ['@hourly', '@hourly', utc('2026-01-01T01:00', '2026-01-01T02:00')],
    ['@daily', '@daily', utc('2026-01-02T00:00', '2026-01-03T00:00')],
    ['@midnight', '@midnight', utc('2026-01-02T00:00')],
    ['@weekly (Sunday)', '@weekly', utc('2026-01-04T00:00', '2026-01-11T00:00')],
    ['@monthly', '@monthly', utc('2026-02-01T00:00', '2026-03-01T00:00')],
    ['@yearly', '@yearly', utc('2027-01-01T00:00', '2028-01-01T00:00')],
    ['@annually', '@annually', utc('2027-01-01T00:00')],
  ];
  for (const [label, expression, expected] of table) {
    it(`${label}: "${expression}"`, () => assert.deepEqual(fires(expression, FROM, expected.length), expected));
  }
});

describe("nextFire: Tangerine's examples (UTC)", () => {
  const table: [string, string, string[]][] = [
    ['0,30 * * * *', '2026-01-01T00:00:00Z', utc('2026-01-01T00:30', '2026-01-01T01:00', '2026-01-01T01:30')],
    ['0,30 * * * *', '2026-01-01T23:45:00Z', utc('2026-01-02T00:00', '2026-01-02T00:30')],
    // 05:00, Sunday to Thursday: from Thursday, skipping Friday and Saturday.
    ['0 5 * * 0-4', '2026-01-01T00:00:00Z', utc('2026-01-01T05:00', '2026-01-04T05:00', '2026-01-05T05:00', '2026-01-06T05:00')],
    // Minutes 1-10 of hours 1, 3 and 5, Monday to Friday, in January, February, May and July to October.
    ['1-10 1,3,5 * 1-2,5,7-10 1-5', '2026-01-01T00:00:00Z', utc('2026-01-01T01:01', '2026-01-01T01:02', '2026-01-01T01:03')],
    ['1-10 1,3,5 * 1-2,5,7-10 1-5', '2026-01-01T01:09:00Z', utc('2026-01-01T01:10', '2026-01-01T03:01')],
    ['1-10 1,3,5 * 1-2,5,7-10 1-5', '2026-01-01T05:10:00Z', utc('2026-01-02T01:01')],
    ['1-10 1,3,5 * 1-2,5,7-10 1-5', '2026-01-02T05:10:00Z', utc('2026-01-05T01:01')],
    // Friday 2026-02-27 is the last weekday of February; March and April are not in the month field.
    ['1-10 1,3,5 * 1-2,5,7-10 1-5', '2026-02-27T05:10:00Z', utc('2026-05-01T01:01')],
  ];
  for (const [expression, from, expected] of table) {
    it(`"${expression}" after ${from}`, () => assert.deepEqual(fires(expression, from, expected.length), expected));
  }
});

describe('nextFire: strictly after', () => {
  const schedule = parseCron('0 * * * *', { name: 'task', timezone: 'UTC' });
  const table: [string, string][] = [
    ['2026-01-01T10:00:00.000Z', '2026-01-01T11:00:00.000Z'],
    ['2026-01-01T09:59:59.999Z', '2026-01-01T10:00:00.000Z'],
    ['2026-01-01T10:00:00.001Z', '2026-01-01T11:00:00.000Z'],
  ];
  for (const [after, next] of table) it(`after ${after}`, () => assert.equal(nextFire(schedule, new Date(after)).toISOString(), next));

  it('refuses an invalid Date', () => assert.throws(() => nextFire(schedule, new Date(Number.NaN)), TypeError));
});

describe('nextFire: leap days', () => {
  it('skips 2100, which is not a leap year', () => assert.deepEqual(fires('0 0 29 2 *', '2096-03-01T00:00:00Z', 1), utc('2104-02-29T00:00')));
});

describe('nextFire: a schedule rebuilt by hand', () => {
  it('refuses H in the resolved form', () => {
    const schedule = { expression: 'H * * * *', resolved: '0 H * * * *', timezone: 'UTC' };
    assert.throws(() => nextFire(schedule, new Date(FROM)), (e: unknown) => {
      assert.ok(e instanceof CronError);
      assert.equal(e.message, 'cron: minute field: "H" uses H, which needs the task name to resolve');
      return true;
    });
  });

  it('refuses an unknown time zone', () => {
    const schedule = { expression: '* * * * *', resolved: '0 * * * * *', timezone: 'Mars/Base' };
    assert.throws(() => nextFire(schedule, new Date(FROM)), { name: 'CronError', message: /^timezone: "Mars\/Base"/ });
  });
});

describe('nextFire: in a zone without DST', () => {
  it('Asia/Kolkata (UTC+05:30)', () =>
    assert.deepEqual(fires('0 9 * * *', '2026-06-01T00:00:00Z', 2, 'Asia/Kolkata'), utc('2026-06-01T03:30', '2026-06-02T03:30')));
});

describe('latestFire', () => {
  const table: [string, string, string | null][] = [
    ['0 0 * * *', '2026-05-05T12:00:00Z', '2026-05-05T00:00:00.000Z'],
    ['0 0 * * *', '2026-05-05T00:00:00Z', '2026-05-05T00:00:00.000Z'], // at the fire time itself
    ['0 0 * * *', '2026-05-04T23:59:59.999Z', '2026-05-04T00:00:00.000Z'],
    ['*/2 * * * * *', '2026-01-01T00:00:03.500Z', '2026-01-01T00:00:02.000Z'],
    ['1-10 1,3,5 * 1-2,5,7-10 1-5', '2026-05-01T00:30:00Z', '2026-02-27T05:10:00.000Z'],
    ['@yearly', '2026-12-31T23:59:59Z', '2026-01-01T00:00:00.000Z'],
    ['0 0 31 * *', '2026-07-30T00:00:00Z', '2026-05-31T00:00:00.000Z'],
    ['0 0 */2 * 1', '2026-02-23T00:00:00Z', '2026-02-23T00:00:00.000Z'],
    ['0 0 */2 * 1', '2026-02-22T23:59:59Z', '2026-02-09T00:00:00.000Z'],
    ['0 0 13 * */7', '2027-06-12T00:00:00Z', '2026-12-13T00:00:00.000Z'],
    // Leap-day schedules: found within 400 days, null beyond.
    ['0 0 29 2 *', '2028-06-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['0 0 29 2 *', '2029-03-01T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ['0 0 29 2 *', '2029-04-04T00:00:00Z', '2028-02-29T00:00:00.000Z'], // exactly 400 days on
    ['0 0 29 2 *', '2029-04-05T00:00:00Z', null],
    ['0 0 29 2 *', '2026-06-01T00:00:00Z', null],
  ];
  for (const [expression, at, expected] of table) {
    it(`"${expression}" at ${at}`, () => {
      const schedule = parseCron(expression, { name: 'task', timezone: 'UTC' });
      assert.equal(latestFire(schedule, new Date(at))?.toISOString() ?? null, expected);
    });
  }
});

describe('speed', () => {
  // Budgets are 20x what a laptop needs, to catch a per-second walk, not to benchmark.
  it('nextFire on "* * * * * *" runs thousands of times a second', () => {
    const schedule = parseCron('* * * * * *', { name: 'task', timezone: 'Europe/Berlin' });
    let t = new Date('2026-03-29T00:59:00Z');
    const start = performance.now();
    for (let i = 0; i < 5000; i++) t = nextFire(schedule, t);
    const ms = performance.now() - start;
    assert.equal(t.toISOString(), '2026-03-29T02:22:20.000Z');
    assert.ok(ms < 2500, `5000 calls took ${ms.toFixed(0)} ms`);
  });

  it('latestFire does not walk second by second over long spans', () => {
    const schedule = parseCron('59 59 23 31 12 *', { name: 'task', timezone: 'America/New_York' });
    const start = performance.now();
    for (let i = 0; i < 100; i++) assert.equal(latestFire(schedule, new Date('2026-12-31T12:00:00Z'))?.toISOString(), '2026-01-01T04:59:59.000Z');
    const ms = performance.now() - start;
    assert.ok(ms < 2000, `100 calls took ${ms.toFixed(0)} ms`);
  });
});
