import type { ParsedField } from './fields.js';
import { nextFire } from './fire.js';
import { parseCron } from './schedule.js';

/** For tests: the next `count` fire times of `expression` after `from`, as ISO strings. */
export function fireTimes(expression: string, from: string, count: number, timezone = 'UTC'): string[] {
  const schedule = parseCron(expression, { name: 'task', timezone });
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < count; i++) {
    t = nextFire(schedule, t);
    out.push(t.toISOString());
  }
  return out;
}

const readingFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * For tests: what the clocks of `tz` show at `instant`, as a wall-clock time in milliseconds read as UTC, straight
 * from Intl (not from the zone code under test), so that tests can compute fire times from the rules themselves.
 */
export function clockReading(tz: string, instant: number): number {
  let format = readingFormats.get(tz);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    readingFormats.set(tz, format);
  }
  const p = Object.fromEntries(format.formatToParts(instant).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!, p['second']!) + (((instant % 1000) + 1000) % 1000);
}

/**
 * For tests: does wall-clock time `wall` (milliseconds read as UTC) match the six parsed fields, by the rules
 * themselves? `both`: a day must match both day fields (one of them starts with `*`), else either.
 */
export function matchesWall(fields: readonly ParsedField[], both: boolean, wall: number): boolean {
  const d = new Date(wall);
  const [second, minute, hour, dom, month, dow] = fields as [ParsedField, ParsedField, ParsedField, ParsedField, ParsedField, ParsedField];
  const domOk = dom.values.includes(d.getUTCDate());
  const dowOk = dow.values.includes(d.getUTCDay());
  return (
    second.values.includes(d.getUTCSeconds()) && minute.values.includes(d.getUTCMinutes()) && hour.values.includes(d.getUTCHours()) &&
    month.values.includes(d.getUTCMonth() + 1) && (both ? domOk && dowOk : domOk || dowOk)
  );
}
