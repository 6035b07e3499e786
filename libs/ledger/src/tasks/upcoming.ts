import type { UpcomingTask } from '@tangerine/contracts';
import type { Ledger } from '../db.js';

/**
 * Tasks whose next start (a cron fire time, a schedule_at) comes before `until`, soonest first: at most `limit`, plus
 * one more when there is one (the caller's sign that more follow). Through the cron service's index, tasks_due.
 */
export async function readUpcoming(ledger: Ledger, until: Date, limit: number): Promise<UpcomingTask[]> {
  const rows = await ledger.query<Omit<UpcomingTask, 'next_run_at'> & { next_run_at: Date }>(
    `SELECT name, state, next_run_at, spec ->> 'cron' AS cron, spec ->> 'timezone' AS timezone, spec ->> 'schedule_at' AS schedule_at
       FROM tasks WHERE next_run_at IS NOT NULL AND next_run_at <= $1 ORDER BY next_run_at, name LIMIT $2`,
    [until, limit + 1],
  );
  return rows.map((r) => ({ ...r, next_run_at: r.next_run_at.toISOString() }));
}
