// Time-zone names and UTC offsets, from the Intl time-zone data built into Node (no tz package to update).
import { CronError } from './errors.js';

/** A validated zone: its formatter, or null for zones that are UTC all year (no lookups needed). */
interface Zone {
  readonly format: Intl.DateTimeFormat | null;
}

const zones = new Map<string, Zone>();
const ALWAYS_UTC = new Set(['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT']);

/**
 * Returns `tz` if it is an IANA time-zone name Node knows ("Europe/Berlin", "UTC"), or throws CronError with
 * field `timezone`. Offset strings ("+01:00") are refused although newer Node accepts them: a fixed offset
 * has no DST rules, and Node 20 would reject what Node 24 accepted.
 */
export function checkTimezone(tz: string): string {
  zone(tz);
  return tz;
}

function zone(tz: string): Zone {
  const known = zones.get(tz);
  if (known !== undefined) return known;
  let format: Intl.DateTimeFormat;
  try {
    if (typeof tz !== 'string' || !/^[A-Za-z]/.test(tz)) throw new RangeError('not a zone name');
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new CronError('timezone', `"${String(tz)}" is not an IANA time zone name (e.g. "Europe/Berlin", "UTC")`, String(tz));
  }
  const made: Zone = { format: ALWAYS_UTC.has(format.resolvedOptions().timeZone) ? null : format };
  zones.set(tz, made);
  return made;
}

/** The zone's UTC offset in milliseconds at `instant` (local wall-clock time minus UTC), whole seconds. */
export function offsetAt(tz: string, instant: number): number {
  const { format } = zone(tz);
  if (format === null) return 0;
  return wallOf(format, instant) - Math.floor(instant / 1000) * 1000;
}

/** en-US with hourCycle h23, as `zone` makes it: "11/1/2026, 01:30:00". */
const EN_US = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

/**
 * What `format` shows at `instant`, as a wall-clock time (milliseconds, read as UTC, whole seconds). Its
 * text read by a regular expression costs 4 µs where formatToParts costs 10 (Node 20; offsets are most of a
 * fire-time search); formatToParts stays for a text of another shape, should an ICU update change it.
 */
export function wallOf(format: Intl.DateTimeFormat, instant: number): number {
  let year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const m = EN_US.exec(format.format(instant));
  if (m !== null) {
    [month, day, year, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  } else {
    for (const { type, value } of format.formatToParts(instant)) {
      if (type === 'year') year = Number(value);
      else if (type === 'month') month = Number(value);
      else if (type === 'day') day = Number(value);
      else if (type === 'hour') hour = Number(value);
      else if (type === 'minute') minute = Number(value);
      else if (type === 'second') second = Number(value);
    }
  }
  return new Date(Date.UTC(2000, month - 1, day, hour, minute, second)).setUTCFullYear(year);
}

/** Transitions found so far, a few per zone: near a DST change every call would otherwise bisect again. */
const knownTransitions = new Map<string, number[]>();
const KNOWN_PER_ZONE = 8;

/**
 * The first whole-second instant in (`from`, `to`] whose offset differs from the offset at `from`: the
 * moment the clocks change. The caller knows the offsets at both ends differ, and the range is at most a few
 * days, in which a zone changes at most once (the assumption wallclock.ts documents); so a change found
 * before inside the range is the answer. Otherwise bisection, about 17 lookups across a day.
 */
export function findTransition(tz: string, from: number, to: number): number {
  const known = knownTransitions.get(tz) ?? [];
  const hit = known.find((t) => t > from && t <= to);
  if (hit !== undefined) return hit;
  const before = offsetAt(tz, from);
  let lo = Math.floor(from / 1000);
  let hi = Math.ceil(to / 1000);
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetAt(tz, mid * 1000) === before) lo = mid;
    else hi = mid;
  }
  knownTransitions.set(tz, [hi * 1000, ...known.slice(0, KNOWN_PER_ZONE - 1)]);
  return hi * 1000;
}
