// A schedule's resolved form, compiled once into what the fire-time search needs, and kept in a small cache
// keyed by that string: callers may rebuild a CronSchedule from stored strings on every call, and parsing
// costs more than a whole next-fire search.
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { parseExpression } from './expression.js';
import type { ParsedField } from './fields.js';

export interface Compiled {
  /**
   * cron-parser over wall-clock time: it runs in UTC, where no hour is skipped or repeated, on "local time
   * written as if it were UTC". Time zones and DST are handled by our own code (see fire.ts). The cursor is
   * mutable; every use resets it, and nothing here awaits between the reset and the read.
   */
  readonly cursor: CronExpression;
  /**
   * The hour field allows all 24 hours (`*`, and equally `*\/1` or `0-23`). Such a job follows elapsed time
   * through a fall-back: it also fires in the repeated hour.
   */
  readonly allHours: boolean;
  /**
   * Weekdays (0 = Sunday) a day found by the cursor must also fall on, or null when the cursor's days are
   * final. Set when the day fields combine by "both" and both restrict (`0 0 *\/2 * 1`): cron-parser cannot
   * say that, so it gets the day of month alone and walls.ts checks the weekday.
   */
  readonly weekdays: ReadonlySet<number> | null;
}

const CACHE_LIMIT = 1000;
const cache = new Map<string, Compiled>();

export function compile(resolved: string): Compiled {
  const hit = cache.get(resolved);
  if (hit !== undefined) return hit;
  const { fields } = parseExpression(resolved, null);
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = fields as [ParsedField, ParsedField, ParsedField, ParsedField, ParsedField, ParsedField];
  const days = dayFields(dayOfMonth, dayOfWeek);
  // Hand cron-parser plain numbers, so its own parsing (names, steps, H) never matters.
  const plain = [list(second), list(minute), list(hour), days.dayOfMonth, list(month), days.dayOfWeek].join(' ');
  const compiled: Compiled = {
    cursor: CronExpressionParser.parse(plain, { tz: 'UTC', currentDate: 0 }),
    allHours: hour.values.length === 24,
    weekdays: days.weekdays,
  };
  // Wholesale clearing is crude but bounded, and a service has far fewer live schedules than the limit.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(resolved, compiled);
  return compiled;
}

const list = (field: ParsedField): string => field.values.join(',');

/**
 * The day fields as cron-parser is to get them. Vixie cron's rule: if either field starts with `*`, a day
 * must match both; otherwise either is enough. cron-parser's rule: a field written exactly `*` is ignored,
 * and two fields neither of which is `*` are ORed (a full list such as 1,...,31 still counts as restricted).
 * So the OR case passes both lists; the AND case passes `*` for a field that allows every day, which leaves
 * the other one alone in force, and when neither does, the day-of-month list with the weekdays to check.
 */
function dayFields(dayOfMonth: ParsedField, dayOfWeek: ParsedField): { dayOfMonth: string; dayOfWeek: string; weekdays: ReadonlySet<number> | null } {
  if (!dayOfMonth.star && !dayOfWeek.star) return { dayOfMonth: list(dayOfMonth), dayOfWeek: list(dayOfWeek), weekdays: null };
  const everyWeekday = dayOfWeek.values.length === 7;
  if (dayOfMonth.values.length === 31) return { dayOfMonth: '*', dayOfWeek: everyWeekday ? '*' : list(dayOfWeek), weekdays: null };
  return { dayOfMonth: list(dayOfMonth), dayOfWeek: '*', weekdays: everyWeekday ? null : new Set(dayOfWeek.values) };
}
