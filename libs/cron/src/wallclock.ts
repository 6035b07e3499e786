// From a wall-clock time in a zone to the instants at which the zone's clocks show it: usually one, none in a
// spring-forward gap, two in a fall-back overlap.
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
