// What the cron service does with a task whose next run time has come: fire it (once, however many fire
// times were missed), or skip this fire time and say why.
import type { CronSchedule } from './schedule.js';
import { latestFire, nextFire } from './fire.js';

export type FireDecision =
  | { action: 'fire'; fireTime: Date; missedFrom: Date | null; next: Date | null }
  | { action: 'skip'; reason: 'busy' | 'deadline'; fireTime: Date; missedFrom: Date | null; next: Date | null };

export interface FireInput {
  /** The task's stored next run time; expected at or before `now`. */
  due: Date;
  now: Date;
  /** Null for a one-shot (`schedule_at`) task. */
  schedule: CronSchedule | null;
  /** A run of the task is still going. */
  busy: boolean;
  concurrency: 'forbid' | 'allow';
  /** A fire time more than this late is skipped rather than run (a one-shot time is never too late). */
  startingDeadlineSeconds: number;
}

/**
 * Decides one due fire. For a schedule, the fire time is the latest one at or before `now` (not `due`): after
 * downtime the missed fire times collapse into one catch-up run, reported by `missedFrom` (= `due`), never a
 * burst. `next` is the first fire time after `now`, null for a one-shot.
 */
export function decideFire(input: FireInput): FireDecision {
  const { due, now, schedule, busy, concurrency } = input;
  if (schedule === null) {
    if (busy && concurrency === 'forbid') return { action: 'skip', reason: 'busy', fireTime: due, missedFrom: null, next: null };
    return { action: 'fire', fireTime: due, missedFrom: null, next: null };
  }
  const latest = latestFire(schedule, now);
  const fireTime = latest !== null && latest.getTime() > due.getTime() ? latest : due;
  const missedFrom = fireTime.getTime() > due.getTime() ? due : null;
  const next = nextFire(schedule, now);
  if (busy && concurrency === 'forbid') return { action: 'skip', reason: 'busy', fireTime, missedFrom, next };
  if (!busy && now.getTime() - fireTime.getTime() > input.startingDeadlineSeconds * 1000) {
    return { action: 'skip', reason: 'deadline', fireTime, missedFrom, next };
  }
  return { action: 'fire', fireTime, missedFrom, next };
}
