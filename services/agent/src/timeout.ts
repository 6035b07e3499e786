import { TIMEOUT_EXIT_CODE } from '@tangerine/contracts';
import type { RunEnd } from './executor.js';

/** setTimeout's longest delay (2^31 - 1 ms, about 24.8 days): Node fires a longer one at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Milliseconds left before a run started at `startedAt` has had its `seconds`; 0 once it has. A start time that
 * cannot be read counts from now: the run gets its whole time rather than none.
 */
export function timeLeftMs(seconds: number, startedAt: string | null, now: Date): number {
  const start = startedAt === null ? Number.NaN : Date.parse(startedAt);
  const from = Number.isNaN(start) ? now.getTime() : start;
  return Math.max(0, from + seconds * 1000 - now.getTime());
}

export function timeoutReason(seconds: number): string {
  return `timeout: killed after ${seconds} s`;
}

/** What a run that timed out is reported as, whatever exit status its kill left (137, 143, ...). */
export function timedOutEnd(end: RunEnd, seconds: number): RunEnd {
  return { ...end, exit_code: TIMEOUT_EXIT_CODE, reason: timeoutReason(seconds) };
}
