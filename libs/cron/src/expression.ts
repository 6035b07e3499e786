// A whole expression: macro expansion, the field count, each field, and the one check that needs several
// fields (a day of month that no allowed month has), giving the six-field resolved form.
import { cronError } from './errors.js';
import { FIELDS, parseField, type ParsedField } from './fields.js';
import { fieldHash } from './hash.js';
import { MACRO_NAMES, expandMacro } from './macros.js';

export interface ParsedExpression {
  /** Six fields, seconds first, `H` replaced, macros expanded. */
  readonly resolved: string;
  /** second, minute, hour, day of month, month, day of week. */
  readonly fields: readonly ParsedField[];
}

/** Longest month for each month number (February 29: leap days count, `0 0 29 2 *` is a valid schedule). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Parses `expression`. `taskName` seeds `H`; null forbids `H` (used to re-read a resolved form).
 */
export function parseExpression(expression: string, taskName: string | null): ParsedExpression {
  if (typeof expression !== 'string') throw cronError(`expected a string, got ${typeof expression}`, null);
  const trimmed = expression.trim();
  let text = trimmed;
  if (trimmed.startsWith('@')) {
    const expanded = expandMacro(trimmed);
    if (expanded === undefined) {
      throw cronError(`"${trimmed}" is not a known macro; use one of ${MACRO_NAMES.join(', ')}`, trimmed);
    }
    text = expanded;
  }
  const written = text === '' ? [] : text.split(/\s+/);
  if (written.length !== 5 && written.length !== 6) {
    throw cronError(
      `expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got ${written.length} in "${expression}"`,
      null,
    );
  }
  // Five fields mean "at second 0"; the resolved form always carries the seconds.
  const six = written.length === 5 ? ['0', ...written] : written;
  const fields = FIELDS.map((field, i) =>
    parseField(six[i] ?? '', field, taskName === null ? null : fieldHash(taskName, field.index)),
  );
  checkDaysExist(fields, six);
  return { resolved: fields.map((f) => f.text).join(' '), fields };
}

/**
 * Rejects a schedule that can never fire, such as `0 0 30 2 *`. When a day must match both day fields (one
 * of them starts with `*`), the day of month must exist in at least one allowed month; each date of a month
 * then falls on every weekday in some year, so the day-of-week field cannot make it impossible (only rare:
 * `0 0 29 2 *\/7`, 29 February on a Sunday, fires every 28 years). When either day field is enough, some
 * allowed weekday always comes. Without this check the next fire time would not exist.
 */
function checkDaysExist(fields: readonly ParsedField[], written: readonly string[]): void {
  const [, , , dayOfMonth, month, dayOfWeek] = fields;
  if (dayOfMonth === undefined || month === undefined || dayOfWeek === undefined) return;
  if (!dayOfMonth.star && !dayOfWeek.star) return;
  const firstDay = dayOfMonth.values[0] ?? 1;
  if (month.values.some((m) => firstDay <= (MONTH_DAYS[m - 1] ?? 31))) return;
  const dayText = written[3] ?? '';
  throw cronError(`day of month field: "${dayText}" never occurs in the months of the month field ("${written[4] ?? ''}")`, dayText);
}
