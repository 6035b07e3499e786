// Steps through matching wall-clock times. A wall-clock time is a number of milliseconds that, read as UTC,
// gives the local date and time ("2026-03-08 02:30" is Date.UTC(2026, 2, 8, 2, 30)). cron-parser does the
// calendar work (jumping whole months, days and hours, the day-of-month / day-of-week rule) in UTC.
import type { Compiled } from './compile.js';

/** The first matching wall-clock time strictly after `wall`. */
export function nextWall(compiled: Compiled, wall: number): number {
  compiled.cursor.reset(new Date(wall));
  return compiled.cursor.next().getTime();
}

/** The last matching wall-clock time at or before `wall`. */
export function prevWall(compiled: Compiled, wall: number): number {
  // cron-parser's prev() is strictly before its start, so start just after the whole second at `wall`.
  compiled.cursor.reset(new Date(Math.floor(wall / 1000) * 1000 + 1));
  return compiled.cursor.prev().getTime();
}
