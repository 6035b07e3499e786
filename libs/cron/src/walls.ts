// Steps through matching wall-clock times. A wall-clock time is a number of milliseconds that, read as UTC,
// gives the local date and time ("2026-03-08 02:30" is Date.UTC(2026, 2, 8, 2, 30)). cron-parser does the
// calendar work (jumping whole months, days and hours) in UTC; the weekday check it cannot do for the
// "both day fields" rule (compile.ts) is done here, a day at a time. That loop ends: a date falls on a given
// weekday at least once in 11 years (29 February once in 28, or 40 across 2100), so it runs at most about
// 11 times per date the cursor can find.
import type { Compiled } from './compile.js';

const DAY = 86_400_000;

/** The first matching wall-clock time strictly after `wall`. */
export function nextWall(compiled: Compiled, wall: number): number {
  const { cursor, weekdays } = compiled;
  let from = wall;
  for (;;) {
    cursor.reset(new Date(from));
    const w = cursor.next().getTime();
    if (weekdays === null || weekdays.has(new Date(w).getUTCDay())) return w;
    // Not this day: go on from its last millisecond.
    from = Math.floor(w / DAY) * DAY + DAY - 1;
  }
}

/** The last matching wall-clock time at or before `wall`. */
export function prevWall(compiled: Compiled, wall: number): number {
  const { cursor, weekdays } = compiled;
  // cron-parser's prev() is strictly before its start, so start just after the whole second at `wall`.
  let from = Math.floor(wall / 1000) * 1000 + 1;
  for (;;) {
    cursor.reset(new Date(from));
    const w = cursor.prev().getTime();
    if (weekdays === null || weekdays.has(new Date(w).getUTCDay())) return w;
    // Not this day: go on from its first millisecond, which prev() excludes.
    from = Math.floor(w / DAY) * DAY;
  }
}
