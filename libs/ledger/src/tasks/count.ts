import { TASK_STATES, type TaskState } from '@tangerine/contracts';
import type { Ledger } from '../db.js';

/**
 * Tasks per state, every state present (0 when none): the queue depths of /metrics. One pass over `tasks` (no
 * index gives counts): read on a scrape, at most every 15 s (see the api service), never on a hot path.
 */
export async function countTasksByState(ledger: Ledger): Promise<Record<TaskState, number>> {
  const rows = await ledger.query<{ state: TaskState; n: number }>('SELECT state, count(*)::int AS n FROM tasks GROUP BY state');
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}
