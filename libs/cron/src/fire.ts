// Fire times of a schedule in its time zone, DST included. The rules (also in the package README.md):
//  - a matching wall-clock time fires at the instant the zone's clocks show it;
//  - one skipped by a spring-forward fires at the instant the clocks jump (03:00 new offset), and all the
//    skipped ones of a gap together fire once there, never twice at one instant;
//  - one shown twice by a fall-back fires at its first showing only, unless the hour field allows every
//    hour: then the job follows elapsed time and fires at both showings (modelled on Vixie cron's wildcard
//    jobs, which Vixie takes to be those whose minute or hour field starts with `*`), so an every-5-minutes
//    job does not pause for an hour.
// cron-parser alone gets the spring-forward case differently (it moves each skipped time an hour on, so
// `*/15 2 * * *` fires four times after the jump and `30 2 * * *` at 03:30), so it only walks wall-clock
// time in UTC (walls.ts) and this file maps wall-clock times to instants.
import { compile, type Compiled } from './compile.js';
import type { CronSchedule } from './schedule.js';
import { fallBackNear, firstShowing, instantsOf, shownBy, type FallBack } from './wallclock.js';
import { nextWall, prevWall } from './walls.js';

const DAY = 86_400_000;

/**
 * How far back latestFire looks: 400 days covers any schedule that fires at least once a year, with room for
 * DST. Only schedules bound to a date that a year can lack fire more rarely: leap days (`0 0 29 2 *`), and a
 * date on a weekday (`0 0 13 1 *\/7`, 13 January on a Sunday, by the day-field rule). For them an older fire
 * time is stale.
 */
const LOOKBACK_MS = 400 * DAY;

// Both searches start from the clocks' high-water mark (shownBy), not from their reading: while a fall-back
// repeats an hour, the reading is back in wall times whose first showing is past, and stepping on from it
// with the earlier offset (as this file once did) overshoots the wall times after the repeated hour: from
// 01:20 EST, `*/15 1-3 * * *` skipped 02:00 and 02:15 EST. The second showings, which only jobs on every
// hour fire at, are searched on their own (they are a span of wall times shown at one offset).

/** The first fire instant strictly after `after`. */
export function nextFire(schedule: CronSchedule, after: Date): Date {
  const t = instantOf(after, 'after');
  const compiled = compile(schedule.resolved);
  const tz = schedule.timezone;
  const fallBack = fallBackNear(tz, t);
  let best = firstShowing(instantsOf(tz, nextWall(compiled, shownBy(tz, t, fallBack))));
  if (compiled.allHours && fallBack !== null) {
    const repeat = nextSecondShowing(compiled, fallBack, t);
    if (repeat !== null && repeat < best) best = repeat;
  }
  return new Date(best);
}

/**
 * The newest fire instant at or before `atOrBefore`, or null if there is none in the 400 days before it
 * (only possible for schedules bound to a date a year can lack, see LOOKBACK_MS).
 */
export function latestFire(schedule: CronSchedule, atOrBefore: Date): Date | null {
  const t = instantOf(atOrBefore, 'atOrBefore');
  const compiled = compile(schedule.resolved);
  const tz = schedule.timezone;
  const fallBack = fallBackNear(tz, t);
  const at = instantsOf(tz, prevWall(compiled, shownBy(tz, t, fallBack)));
  // A repeated wall time shown a second time long ago (its fall-back more than a day back) needs no search.
  let best = compiled.allHours && at.kind === 'repeated' && at.second <= t ? at.second : firstShowing(at);
  if (compiled.allHours && fallBack !== null) {
    const repeat = prevSecondShowing(compiled, fallBack, t);
    if (repeat !== null && repeat > best) best = repeat;
  }
  return best < t - LOOKBACK_MS ? null : new Date(best);
}

/** The first second showing after `t` of a matching wall time repeated by `fallBack`, or null. */
function nextSecondShowing(compiled: Compiled, { change, before, after }: FallBack, t: number): number | null {
  // Wall time w is shown again at w - after, which is after t for w > t + after.
  const w = nextWall(compiled, Math.max(t + after, change + after - 1));
  return w < change + before ? w - after : null;
}

/** The last second showing at or before `t` of a matching wall time repeated by `fallBack`, or null. */
function prevSecondShowing(compiled: Compiled, { change, before, after }: FallBack, t: number): number | null {
  const w = prevWall(compiled, Math.min(t + after, change + before - 1));
  return w >= change + after ? w - after : null;
}

function instantOf(date: Date, name: string): number {
  const t = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(t)) throw new TypeError(`${name} must be a valid Date`);
  return t;
}
