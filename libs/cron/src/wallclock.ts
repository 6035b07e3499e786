// From a wall-clock time in a zone to the instants at which the zone's clocks show it: usually one, none in a
// spring-forward gap, two in a fall-back overlap. And back: the latest wall-clock time the clocks have shown
// by an instant, which is not the current reading while a fall-back repeats an hour.
import { findTransition, offsetAt } from './zone.js';

const DAY = 86_400_000;

export type WallInstants =
  /** Shown once. */
  | { readonly kind: 'unique'; readonly instant: number }
  /** Skipped by a spring-forward; `instant` is the moment the clocks jump, the first instant after it. */
  | { readonly kind: 'skipped'; readonly instant: number }
  /** Shown twice by a fall-back: `first` at the earlier (larger) offset, `second` an offset-change later. */
  | { readonly kind: 'repeated'; readonly first: number; readonly second: number; readonly firstOffset: number };

/**
 * The instants showing `wall` in `tz`. The offsets a day either side of it are the only candidates; this
 * assumes a zone changes its offset at most once within a day of any time, which holds for the tz data of the
 * last century; the brute-force tests in dst.test.ts check it for the zones they cover.
 */
export function instantsOf(tz: string, wall: number): WallInstants {
  const earlier = offsetAt(tz, wall - DAY);
  const later = offsetAt(tz, wall + DAY);
  if (earlier === later) return { kind: 'unique', instant: wall - earlier };
  const a = wall - earlier;
  const b = wall - later;
  const aShows = offsetAt(tz, a) === earlier;
  const bShows = offsetAt(tz, b) === later;
  if (aShows && bShows) return { kind: 'repeated', first: Math.min(a, b), second: Math.max(a, b), firstOffset: earlier };
  if (aShows) return { kind: 'unique', instant: a };
  if (bShows) return { kind: 'unique', instant: b };
  // In the gap: the clocks jump somewhere between the two candidates.
  return { kind: 'skipped', instant: findTransition(tz, Math.min(a, b), Math.max(a, b)) };
}

/** The first instant at which the clocks show `wall` (or, in a gap, jump over it). */
export function firstShowing(at: WallInstants): number {
  return at.kind === 'repeated' ? at.first : at.instant;
}

/**
 * A fall-back: at `change` the offset goes from `before` down to `after`, so the wall-clock times in
 * [change + after, change + before) are shown twice, first before `change` and again from `change` on.
 */
export interface FallBack {
  readonly change: number;
  readonly before: number;
  readonly after: number;
}

/** The fall-back within a day either side of `t`, or null (one change at most, as instantsOf assumes). */
export function fallBackNear(tz: string, t: number): FallBack | null {
  const before = offsetAt(tz, t - DAY);
  const after = offsetAt(tz, t + DAY);
  return before > after ? { change: findTransition(tz, t - DAY, t + DAY), before, after } : null;
}

/**
 * The latest wall-clock time the clocks of `tz` have shown at or before `t` (`fallBack` from fallBackNear).
 * Normally the reading at `t`; but while a fall-back shows its repeated times a second time, the clocks have
 * already been as far as the end of that span (02:00 EDT less a millisecond, at 01:20 EST). Every wall time
 * up to this mark was first shown (or jumped over) at or before `t`, every later one will first be shown after
 * it, and first showings come in wall-time order: so the next first showing is the next matching wall time
 * after the mark, and the latest one the latest at or before it.
 */
export function shownBy(tz: string, t: number, fallBack: FallBack | null): number {
  const reading = t + offsetAt(tz, t);
  if (fallBack === null || fallBack.change > t) return reading;
  return Math.max(reading, fallBack.change + fallBack.before - 1);
}
