// One cron field: its bounds, and the parser that checks one field's text and turns it into the set of values
// it allows. Validation is our own rather than cron-parser's so that every message has one shape
// (`cron: <field> field: "<part>" <rule>`), and so that `H` can be replaced by a value hashed from the task name.
import { cronError } from './errors.js';

export interface FieldSpec {
  /** Position in the six-field form; also salts the `H` hash. */
  readonly index: number;
  /** As named in messages. */
  readonly label: string;
  readonly min: number;
  /** The largest value that may be written (7 for day of week: Sunday again, as in Vixie cron). */
  readonly max: number;
  /** The largest value `*` and open-ended steps (`*\/n`, `a/n`) reach (6 for day of week, so 7 adds nothing). */
  readonly top: number;
  /** The largest value a bare `H` or `H/n` offset picks: 28 for day of month, so the task fires every month. */
  readonly hashTop: number;
  /** Three-letter names (upper case) accepted in place of numbers, or null. */
  readonly names: Readonly<Record<string, number>> | null;
  /** Ends the message for a part that is neither a number nor (where allowed) a name. */
  readonly notANumber: string;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function spec(index: number, label: string, min: number, max: number, extra: Partial<FieldSpec> = {}): FieldSpec {
  return { index, label, min, max, top: max, hashTop: max, names: null, notANumber: 'is not a number', ...extra };
}

/** The six fields in order: second, minute, hour, day of month, month, day of week. */
export const FIELDS: readonly FieldSpec[] = [
  spec(0, 'second', 0, 59),
  spec(1, 'minute', 0, 59),
  spec(2, 'hour', 0, 23),
  spec(3, 'day of month', 1, 31, { hashTop: 28 }),
  spec(4, 'month', 1, 12, {
    names: Object.fromEntries(MONTHS.map((m, i) => [m, i + 1])),
    notANumber: 'is not a month name or number',
  }),
  spec(5, 'day of week', 0, 7, {
    top: 6,
    hashTop: 6,
    names: Object.fromEntries(WEEKDAYS.map((d, i) => [d, i])),
    notANumber: 'is not a weekday name or number',
  }),
];

export interface ParsedField {
  /** Allowed values, ascending, without duplicates; day of week 7 is stored as 0. */
  readonly values: readonly number[];
  /**
   * The field starts with `*` (`*`, `*\/2`, `*,5`): Vixie cron's DOM_STAR / DOW_STAR flag. This, not the value
   * set, decides how the two day fields combine: if either day field starts with `*`, a day must match both;
   * otherwise a day matching either is enough. So `0 0 *\/2 * 1` runs on odd days that are Mondays, while
   * `0 0 1-31/2 * 1` runs on odd days and on Mondays.
   */
  readonly star: boolean;
  /** The field as written, with each `H` part replaced by the numbers it stands for. */
  readonly text: string;
}

/**
 * Parses one field. `hash` is the task's hash for this field, or null where `H` cannot be resolved (when
 * re-reading a schedule's `resolved` form, which never contains `H`).
 */
export function parseField(text: string, field: FieldSpec, hash: number | null): ParsedField {
  const values = new Set<number>();
  const resolved: string[] = [];
  for (const part of text.split(',')) {
    if (part === '') throw cronError(`${field.label} field: "${text}" has an empty part`, text);
    const { from, to, step, text: partText } = parsePart(part, field, hash);
    for (let v = from; v <= to; v += step) values.add(field.index === 5 && v === 7 ? 0 : v);
    resolved.push(partText);
  }
  return { values: [...values].sort((a, b) => a - b), star: text.startsWith('*'), text: resolved.join(',') };
}

interface Part {
  readonly from: number;
  readonly to: number;
  readonly step: number;
  /** The part as it goes into the resolved expression. */
  readonly text: string;
}

const H_FORM = /^H(?:\(([^()]*)\))?$/;

function parsePart(part: string, field: FieldSpec, hash: number | null): Part {
  const slash = part.split('/');
  if (slash.length > 2) throw malformed(part, field);
  const base = slash[0] ?? '';
  const step = slash[1] === undefined ? null : parseStep(part, slash[1], field);

  if (base === '*') return { from: field.min, to: field.top, step: step ?? 1, text: part };
  if (base.startsWith('H')) return parseHash(part, base, step, field, hash);

  if (base.includes('-')) {
    const [from, to] = parseRange(base, part, field);
    return { from, to, step: step ?? 1, text: part };
  }
  const value = parseValue(base, field);
  // `a/n` runs from a to the end of the field, like `a-top/n`.
  return step === null ? { from: value, to: value, step: 1, text: part } : { from: value, to: Math.max(value, field.top), step, text: part };
}

function parseStep(part: string, text: string, field: FieldSpec): number {
  if (!/^\d+$/.test(text)) throw cronError(`${field.label} field: "${part}" has a step that is not a whole number`, part);
  const step = Number(text);
  if (step === 0) throw cronError(`${field.label} field: "${part}" has a step of 0; the step must be at least 1`, part);
  return step;
}

/** `a-b`, where `part` is the whole part, quoted when the range is not two values. */
function parseRange(text: string, part: string, field: FieldSpec): [number, number] {
  const ends = text.split('-');
  const [a = '', b = ''] = ends;
  if (ends.length !== 2 || a === '' || b === '') throw malformed(part, field);
  const from = parseValue(a, field);
  const to = parseValue(b, field);
  if (from > to) throw cronError(`${field.label} field: "${text}" is a range whose start is after its end`, text);
  return [from, to];
}

function parseValue(text: string, field: FieldSpec): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < field.min || value > field.max) {
      throw cronError(`${field.label} field: "${text}" is out of range ${field.min}-${field.max}`, text);
    }
    return value;
  }
  const named = field.names?.[text.toUpperCase()];
  if (named !== undefined) return named;
  throw cronError(`${field.label} field: "${text}" ${field.notANumber}`, text);
}

/**
 * `H` forms (Jenkins): `H` one value in the field's range; `H/n` every n from an offset in [0, n);
 * `H(a-b)` one value in a..b; `H(a-b)/n` every n up to b from a plus an offset in [0, n). The offset is
 * capped by the width of the range so the first value always exists.
 */
function parseHash(part: string, base: string, step: number | null, field: FieldSpec, hash: number | null): Part {
  const match = H_FORM.exec(base);
  if (match === null) throw malformed(part, field);
  if (hash === null) throw cronError(`${field.label} field: "${part}" uses H, which needs the task name to resolve`, part);
  let from = field.min;
  let to = field.hashTop;
  if (match[1] !== undefined) {
    [from, to] = parseRange(match[1], part, field);
  }
  const width = to - from + 1;
  if (step === null) {
    const value = from + (hash % width);
    return { from: value, to: value, step: 1, text: String(value) };
  }
  const start = from + (hash % Math.min(step, width));
  if (match[1] !== undefined) return { from: start, to, step, text: `${start}-${to}/${step}` };
  // A bare `H/n` steps across the whole field (to 31 for day of month), like `*\/n` shifted by the offset.
  return { from: start, to: field.top, step, text: `${start}/${step}` };
}

function malformed(part: string, field: FieldSpec): Error {
  return cronError(
    `${field.label} field: "${part}" is not a value, range (a-b), step (*/n, a-b/n, a/n) or H form (H, H/n, H(a-b), H(a-b)/n)`,
    part,
  );
}
