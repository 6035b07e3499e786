// Fire times of a schedule in its time zone, DST included. The rules (also in the package README.md):
//  - a matching wall-clock time fires at the instant the zone's clocks show it;
//  - one skipped by a spring-forward fires at the instant the clocks jump (03:00 new offset), and all the
//    skipped ones of a gap together fire once there, never twice at one instant;
//  - one shown twice by a fall-back fires at its first showing only, unless the hour field allows every
//    hour: then the job follows elapsed time and fires at both showings (Vixie cron's rule for such jobs),
//    so an every-5-minutes job does not pause for an hour.
// cron-parser alone gets the spring-forward case differently (it moves each skipped time an hour on, so
// `*/15 2 * * *` fires four times after the jump and `30 2 * * *` at 03:30), so it only walks wall-clock
// time in UTC (walls.ts) and this file maps wall-clock times to instants.
import { compile, type Compiled } from './compile.js';
import type { CronSchedule } from './schedule.js';
import { instantsOf, type WallInstants } from './wallclock.js';
import { nextWall, prevWall } from './walls.js';
import { findTransition, offsetAt } from './zone.js';

const DAY = 86_400_000;

/**
 * How far back latestFire looks: 400 days covers any schedule that fires at least once a year, with room for
 * DST; only leap-day schedules (`0 0 29 2 *`) fire more rarely, and for them an older fire time is stale.
 */
const LOOKBACK_MS = 400 * DAY;

/** The first fire instant strictly after `after`. */
export function nextFire(schedule: CronSchedule, after: Date): Date {
  const t = instantOf(after, 'after');
  const compiled = compile(schedule.resolved);
  const tz = schedule.timezone;
  const offset = offsetAt(tz, t);
  let best = nextFromWall(compiled, tz, t, t + offset);
  if (compiled.allHours) {
    const repeat = nextSecondShowing(compiled, tz, t, offset);
    if (repeat !== null && repeat < best) best = repeat;
  }
  return new Date(best);
}

/**
 * The newest fire instant at or before `atOrBefore`, or null if there is none in the 400 days before it
 * (only possible for leap-day schedules).
 */
export function latestFire(schedule: CronSchedule, atOrBefore: Date): Date | null {
  const t = instantOf(atOrBefore, 'atOrBefore');
  const compiled = compile(schedule.resolved);
  const tz = schedule.timezone;
  const offset = offsetAt(tz, t);
  let from = t + offset;
  let repeat: number | null = null;
  const offsetDayBefore = offsetAt(tz, t - DAY);
  if (offsetDayBefore > offset) {
    // A fall-back in the last day. While the clocks repeat an hour, that whole hour was already shown once
    // (before the change), so every wall time up to its end has a first showing in the past.
    const change = findTransition(tz, t - DAY, t);
    const repeatedEnd = change + offsetDayBefore;
    if (from < repeatedEnd) {
      from = repeatedEnd - 1;
      // And the wall times already shown a second time, for a job that fires at both showings.
      if (compiled.allHours) {
        const wall = prevWall(compiled, t + offset);
        if (wall >= change + offset) repeat = wall - offset;
      }
    }
  }
  let best = prevFromWall(compiled, tz, t, from, t - LOOKBACK_MS);
  if (best === null) return null;
  if (repeat !== null && repeat > best) best = repeat;
  return new Date(best);
}

/**
 * The earliest fire instant after `t` among the wall times after `wall` (the clocks' reading at `t`). The
 * first showings of successive wall times never go backwards in time, so the first wall time with an instant
 * after `t` gives the answer; only wall times shown once already before `t` (in a fall-back) are passed over.
 */
function nextFromWall(compiled: Compiled, tz: string, t: number, wall: number): number {
  let from = wall;
  for (;;) {
    const w = nextWall(compiled, from);
    const at = instantsOf(tz, w);
    const fire = firstAfter(at, t, compiled.allHours);
    if (fire !== null) return fire;
    // Shown first before `t`: skip straight past every wall time whose first showing is before `t`.
    from = at.kind === 'repeated' ? Math.max(w, t + at.firstOffset) : w;
  }
}

/**
 * Second showings lie before the first showings of some earlier wall times: at 01:30 (first showing) an
 * every-hour job's next fire is 01:00 shown again, not 02:00. For a fall-back within the next day, the
 * earliest repeated wall time that matches and whose second showing is after `t`.
 */
function nextSecondShowing(compiled: Compiled, tz: string, t: number, offset: number): number | null {
  const offsetDayAfter = offsetAt(tz, t + DAY);
  if (offsetDayAfter >= offset) return null;
  const change = findTransition(tz, t, t + DAY);
  // Wall times in [change + offsetDayAfter, change + offset) are shown again from `change` on; all of those
  // second showings are after `t`, and they come in wall-time order.
  const w = nextWall(compiled, change + offsetDayAfter - 1);
  return w < change + offset ? w - offsetDayAfter : null;
}

/** The latest fire instant at or before `t` among the wall times at or before `wall`, not before `limit`. */
function prevFromWall(compiled: Compiled, tz: string, t: number, wall: number, limit: number): number | null {
  let from = wall;
  for (;;) {
    const w = prevWall(compiled, from);
    const at = instantsOf(tz, w);
    const fire = lastAtOrBefore(at, t, compiled.allHours);
    if (fire !== null) return fire < limit ? null : fire;
    if (w < limit - DAY) return null;
    from = w - 1;
  }
}

function firstAfter(at: WallInstants, t: number, bothShowings: boolean): number | null {
  if (at.kind !== 'repeated') return at.instant > t ? at.instant : null;
  if (at.first > t) return at.first;
  return bothShowings && at.second > t ? at.second : null;
}

function lastAtOrBefore(at: WallInstants, t: number, bothShowings: boolean): number | null {
  if (at.kind !== 'repeated') return at.instant <= t ? at.instant : null;
  if (bothShowings && at.second <= t) return at.second;
  return at.first <= t ? at.first : null;
}

function instantOf(date: Date, name: string): number {
  const t = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(t)) throw new TypeError(`${name} must be a valid Date`);
  return t;
}
