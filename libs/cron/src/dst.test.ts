import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { latestFire, nextFire, parseCron } from './index.js';
import { clockReading, fireTimes, matchesWall } from './testing.js';
import { parseExpression } from './expression.js';
import type { ParsedField } from './fields.js';

const fires = (expression: string, timezone: string, from: string, count: number): string[] => fireTimes(expression, from, count, timezone);

const iso = (...times: string[]): string[] => times.map((t) => `${t}:00.000Z`);

// America/New_York 2026: 2026-03-08 02:00 EST (-05) jumps to 03:00 EDT (-04) at 07:00Z;
// 2026-11-01 02:00 EDT falls back to 01:00 EST at 06:00Z, so 01:00-01:59 shows at 05:xxZ and again at 06:xxZ.
// Europe/Berlin 2026: 2026-03-29 02:00 CET (+01) jumps to 03:00 CEST (+02) at 01:00Z;
// 2026-10-25 03:00 CEST falls back to 02:00 CET at 01:00Z, so 02:00-02:59 shows at 00:xxZ and again at 01:xxZ.
describe('nextFire across DST', () => {
  const table: [string, string, string, string, string[]][] = [
    // Spring forward: a nonexistent time fires once, when the clocks jump.
    ['NY spring, fixed time in the gap', '30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z',
      iso('2026-03-08T07:00', '2026-03-09T06:30', '2026-03-10T06:30')],
    ['NY spring, several times in the gap collapse into one', '*/15 2 * * *', 'America/New_York', '2026-03-07T07:40:00Z',
      iso('2026-03-07T07:45', '2026-03-08T07:00', '2026-03-09T06:00', '2026-03-09T06:15')],
    ['NY spring, every minute: one fire at the jump, then 03:01', '* * * * *', 'America/New_York', '2026-03-08T06:57:00Z',
      iso('2026-03-08T06:58', '2026-03-08T06:59', '2026-03-08T07:00', '2026-03-08T07:01')],
    ['NY spring, hourly', '0 * * * *', 'America/New_York', '2026-03-08T05:30:00Z',
      iso('2026-03-08T06:00', '2026-03-08T07:00', '2026-03-08T08:00')],
    ['NY spring, half past every hour: 02:30 fires at 03:00', '30 * * * *', 'America/New_York', '2026-03-08T06:00:00Z',
      iso('2026-03-08T06:30', '2026-03-08T07:00', '2026-03-08T07:30')],
    ['NY spring, fixed time outside the gap is untouched', '30 3 * * *', 'America/New_York', '2026-03-07T12:00:00Z',
      iso('2026-03-08T07:30', '2026-03-09T07:30')],
    // Fall back: a fixed time fires at its first showing only; an every-hour job fires at both.
    ['NY fall, fixed time in the repeated hour', '30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z',
      iso('2026-11-01T05:30', '2026-11-02T06:30', '2026-11-03T06:30')],
    ['NY fall, fixed hour, several minutes', '0,30 1 * * *', 'America/New_York', '2026-11-01T04:00:00Z',
      iso('2026-11-01T05:00', '2026-11-01T05:30', '2026-11-02T06:00')],
    ['NY fall, hourly fires at both 01:00s', '0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z',
      iso('2026-11-01T05:00', '2026-11-01T06:00', '2026-11-01T07:00')],
    ['NY fall, every 20 minutes keeps going', '*/20 * * * *', 'America/New_York', '2026-11-01T05:30:00Z',
      iso('2026-11-01T05:40', '2026-11-01T06:00', '2026-11-01T06:20', '2026-11-01T06:40', '2026-11-01T07:00')],
    ['NY fall, every minute', '* * * * *', 'America/New_York', '2026-11-01T05:58:00Z',
      iso('2026-11-01T05:59', '2026-11-01T06:00', '2026-11-01T06:01')],
    ['NY fall, 0-23 counts as every hour', '0 0-23 * * *', 'America/New_York', '2026-11-01T04:30:00Z',
      iso('2026-11-01T05:00', '2026-11-01T06:00', '2026-11-01T07:00')],
    ['Berlin spring, fixed time in the gap', '30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z',
      iso('2026-03-29T01:00', '2026-03-30T00:30')],
    ['Berlin spring, several times in the gap collapse into one', '*/15 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z',
      iso('2026-03-29T01:00', '2026-03-30T00:00', '2026-03-30T00:15')],
    ['Berlin spring, every 30 minutes', '*/30 * * * *', 'Europe/Berlin', '2026-03-29T00:15:00Z',
      iso('2026-03-29T00:30', '2026-03-29T01:00', '2026-03-29T01:30')],
    ['Berlin fall, fixed time in the repeated hour', '30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z',
      iso('2026-10-25T00:30', '2026-10-26T01:30')],
    ['Berlin fall, several times in the repeated hour fire once each', '*/15 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z',
      iso('2026-10-25T00:00', '2026-10-25T00:15', '2026-10-25T00:30', '2026-10-25T00:45', '2026-10-26T01:00')],
    ['Berlin fall, every 30 minutes keeps going', '*/30 * * * *', 'Europe/Berlin', '2026-10-24T23:45:00Z',
      iso('2026-10-25T00:00', '2026-10-25T00:30', '2026-10-25T01:00', '2026-10-25T01:30', '2026-10-25T02:00')],
    ['Berlin fall, hourly', '0 * * * *', 'Europe/Berlin', '2026-10-24T22:30:00Z',
      iso('2026-10-24T23:00', '2026-10-25T00:00', '2026-10-25T01:00', '2026-10-25T02:00')],
    // From inside the second showing of the repeated hour, the wall times after it come next: the clocks
    // reach 02:00 EST one hour on, not when the first showing's offset would say.
    ['NY fall, from the second 01:20, a job on fixed hours goes on at 02:00', '*/15 1-3 * * *', 'America/New_York', '2026-11-01T06:20:00Z',
      iso('2026-11-01T07:00', '2026-11-01T07:15', '2026-11-01T07:30')],
    ['NY fall, from the second 01:20, past a repeated 01:50', '0,50 1,2 * * *', 'America/New_York', '2026-11-01T06:20:00Z',
      iso('2026-11-01T07:00', '2026-11-01T07:50', '2026-11-02T06:00')],
    ['NY fall, from the second 01:00 itself', '0,30 1-2 * * *', 'America/New_York', '2026-11-01T06:00:00Z',
      iso('2026-11-01T07:00', '2026-11-01T07:30', '2026-11-02T06:00')],
    ['Berlin fall, from the second 02:10', '0,30 2-3 * * *', 'Europe/Berlin', '2026-10-25T01:10:00Z',
      iso('2026-10-25T02:00', '2026-10-25T02:30', '2026-10-26T01:00')],
    ['Lord Howe fall (30 minutes), from the second 01:35', '*/10 1-2 * * *', 'Australia/Lord_Howe', '2026-04-04T15:05:00Z',
      iso('2026-04-04T15:30', '2026-04-04T15:40', '2026-04-04T15:50', '2026-04-04T16:00')],
  ];
  for (const [label, expression, tz, from, expected] of table) {
    it(`${label}: "${expression}"`, () => assert.deepEqual(fires(expression, tz, from, expected.length), expected));
  }

  it('from inside the second showing, a fixed-hour job waits for the next day', () => {
    assert.deepEqual(fires('* 1 * * *', 'America/New_York', '2026-11-01T06:10:00Z', 1), iso('2026-11-02T06:00'));
  });

  it('from inside the first showing, an every-hour job goes back to the repeated hour', () => {
    assert.deepEqual(fires('0 * * * *', 'America/New_York', '2026-11-01T05:30:00Z', 2), iso('2026-11-01T06:00', '2026-11-01T07:00'));
  });
});

describe('latestFire across DST', () => {
  const table: [string, string, string, string][] = [
    ['30 2 * * *', 'America/New_York', '2026-03-08T07:10:00Z', '2026-03-08T07:00'],
    ['30 2 * * *', 'America/New_York', '2026-03-08T06:59:59Z', '2026-03-07T07:30'],
    ['*/15 2 * * *', 'America/New_York', '2026-03-08T08:00:00Z', '2026-03-08T07:00'],
    ['30 1 * * *', 'America/New_York', '2026-11-01T06:45:00Z', '2026-11-01T05:30'], // second showing of 01:45
    ['30 1 * * *', 'America/New_York', '2026-11-01T05:45:00Z', '2026-11-01T05:30'],
    ['45 1 * * *', 'America/New_York', '2026-11-01T06:30:00Z', '2026-11-01T05:45'], // 01:45 first shown before 06:30Z
    ['0 * * * *', 'America/New_York', '2026-11-01T06:30:00Z', '2026-11-01T06:00'],
    ['0 * * * *', 'America/New_York', '2026-11-01T05:59:59Z', '2026-11-01T05:00'],
    ['0 * * * *', 'America/New_York', '2026-11-01T07:30:00Z', '2026-11-01T07:00'],
    ['*/30 * * * *', 'Europe/Berlin', '2026-10-25T01:10:00Z', '2026-10-25T01:00'],
    ['30 2 * * *', 'Europe/Berlin', '2026-10-25T01:40:00Z', '2026-10-25T00:30'],
    ['30 2 * * *', 'Europe/Berlin', '2026-03-29T01:30:00Z', '2026-03-29T01:00'],
  ];
  for (const [expression, tz, at, expected] of table) {
    it(`"${expression}" in ${tz} at ${at}`, () => {
      const schedule = parseCron(expression, { name: 'task', timezone: tz });
      assert.equal(latestFire(schedule, new Date(at))?.toISOString(), `${expected}:00.000Z`);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Brute force: every minute around each 2026 transition of several zones, the fire times computed from the
// rules directly (clock readings from Intl, the fields from the parser), compared with nextFire and latestFire.

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Transition instants of `tz` in 2026, to the minute. */
function transitions(tz: string): number[] {
  const out: number[] = [];
  const offset = (t: number) => clockReading(tz, t) - t;
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += HOUR) {
    if (offset(t) === offset(t + HOUR)) continue;
    let m = t;
    while (offset(m + MINUTE) === offset(t)) m += MINUTE;
    out.push(m + MINUTE);
  }
  return out;
}

/** Vixie's rule: a day field that starts with `*` makes a day match both fields. */
const bothDays = (fields: readonly ParsedField[]): boolean => fields[3]!.star || fields[5]!.star;

/** Fire instants in [from, to) by the rules, minute by minute (the expressions below fire on whole minutes). */
function bruteForce(resolved: string, tz: string, from: number, to: number): number[] {
  const { fields } = parseExpression(resolved, null);
  const everyHour = fields[2]!.values.length === 24;
  const seen = new Set<number>();
  const out: number[] = [];
  let previous = clockReading(tz, from - 4 * HOUR - MINUTE);
  for (let t = from - 4 * HOUR; t < to; t += MINUTE) {
    const wall = clockReading(tz, t);
    let fire = matchesWall(fields, bothDays(fields), wall) && (everyHour || !seen.has(wall));
    // Clocks jumped: the skipped wall times that match fire now, once.
    for (let w = previous + MINUTE; w < wall && !fire; w += MINUTE) fire = matchesWall(fields, bothDays(fields), w);
    if (fire && t >= from) out.push(t);
    seen.add(wall);
    previous = wall;
  }
  return out;
}

describe('brute force around every 2026 transition', () => {
  const zones = ['America/New_York', 'Europe/Berlin', 'Europe/London', 'America/St_Johns', 'Australia/Lord_Howe', 'America/Santiago', 'America/Havana'];
  const expressions = [
    '* * * * *', '*/15 * * * *', '0 * * * *', '30 * * * *', '0 0-23 * * *', '*/7 * * * *', '15 */2 * * *',
    '30 2 * * *', '*/15 2 * * *', '30 1 * * *', '* 1 * * *', '* 2 * * *', '0,30 1-3 * * *', '0 0 * * *', '59 23 * * *',
    '45 0 * * *', 'H H * * *',
  ];
  for (const tz of zones) {
    const changes = transitions(tz);
    it(`${tz} has transitions in 2026`, () => assert.equal(changes.length, 2));
    for (const change of changes) {
      const from = change - 8 * HOUR;
      const to = change + 8 * HOUR;
      it(`${tz} around ${new Date(change).toISOString()}`, () => {
        for (const expression of expressions) {
          const schedule = parseCron(expression, { name: 'task', timezone: tz });
          const expected = bruteForce(schedule.resolved, tz, from, to).map((t) => new Date(t).toISOString());
          const actual: string[] = [];
          for (let t = nextFire(schedule, new Date(from - 1)); t.getTime() < to; t = nextFire(schedule, t)) actual.push(t.toISOString());
          assert.deepEqual(actual, expected, `nextFire, "${expression}"`);
          // From any instant near the change, not only from fire times: a chain of fire times of a job on
          // fixed hours never starts inside a repeated hour, where nextFire once skipped the hour after it.
          const fireTimes = expected.map((x) => Date.parse(x));
          for (let t = change - 3 * HOUR + 17_000; t < change + 3 * HOUR; t += 7 * MINUTE) {
            const next = fireTimes.find((f) => f > t);
            if (next !== undefined) assert.equal(nextFire(schedule, new Date(t)).getTime(), next, `nextFire from ${new Date(t).toISOString()}, "${expression}"`);
            const latest = fireTimes.findLast((f) => f <= t);
            if (latest !== undefined) assert.equal(latestFire(schedule, new Date(t))?.getTime(), latest, `latestFire at ${new Date(t).toISOString()}, "${expression}"`);
          }
          for (let i = 1; i < expected.length; i++) {
            const [before, at] = [Date.parse(expected[i - 1]!), Date.parse(expected[i]!)];
            assert.equal(latestFire(schedule, new Date(at))?.getTime(), at, `latestFire at a fire time, "${expression}"`);
            assert.equal(latestFire(schedule, new Date(at - 1))?.getTime(), before, `latestFire just before, "${expression}"`);
            assert.equal(latestFire(schedule, new Date((before + at) / 2))?.getTime(), before, `latestFire between, "${expression}"`);
          }
        }
      });
    }
  }
});
