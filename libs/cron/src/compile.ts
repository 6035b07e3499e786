// A schedule's resolved form, compiled once into what the fire-time search needs, and kept in a small cache
// keyed by that string: callers may rebuild a CronSchedule from stored strings on every call, and parsing
// costs more than a whole next-fire search.
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { parseExpression } from './expression.js';

export interface Compiled {
  /**
   * cron-parser over wall-clock time: it runs in UTC, where no hour is skipped or repeated, on "local time
   * written as if it were UTC". Time zones and DST are handled by our own code (see fire.ts). The cursor is
   * mutable; every use resets it, and nothing here awaits between the reset and the read.
   */
  readonly cursor: CronExpression;
  /**
   * The hour field allows all 24 hours (`*`, and equally `*\/1` or `0-23`). Such a job follows elapsed time
   * through a fall-back: it also fires in the repeated hour, as Vixie cron runs its "wildcard" jobs.
   */
  readonly allHours: boolean;
}

const CACHE_LIMIT = 1000;
const cache = new Map<string, Compiled>();

export function compile(resolved: string): Compiled {
  const hit = cache.get(resolved);
  if (hit !== undefined) return hit;
  const { fields } = parseExpression(resolved, null);
  // Hand cron-parser plain numbers, so its own parsing (names, steps, H) never matters; only `*` is kept as
  // written because cron-parser decides the day-of-month / day-of-week rule by whether the field is `*`.
  const plain = fields.map((f) => (f.star ? '*' : f.values.join(','))).join(' ');
  const compiled: Compiled = {
    cursor: CronExpressionParser.parse(plain, { tz: 'UTC', currentDate: 0 }),
    allHours: fields[2]?.values.length === 24,
  };
  // Wholesale clearing is crude but bounded, and a service has far fewer live schedules than the limit.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(resolved, compiled);
  return compiled;
}
