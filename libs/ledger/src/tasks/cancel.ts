import { CANCELLABLE_STATES, ON_HOST_STATES, TaskState, type TaskEvent } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-row.js';
import { sqlState } from './states-sql.js';

export interface CancelResult {
  events: TaskEvent[];
  /** Runs to stop: the task was placed or running on this host. */
  stops: { name: string; attempt: number; host: string }[];
  notFound: string[];
  /** Names that exist but are already finished, with their state. */
  finished: { name: string; state: TaskState }[];
}

/** Cancels tasks that are not finished, in one statement; a compare-and-set on the state they were in. */
export async function cancelTasks(ledger: Ledger, names: readonly string[]): Promise<CancelResult> {
  const unique = [...new Set(names)];
  const rows = await ledger.query<EventRow & { from_state: TaskState; changed: boolean }>(
    `WITH old AS (
       SELECT name, state FROM tasks WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE
     ), changed AS (
       UPDATE tasks t SET state = ${sqlState(TaskState.cancelled)}, reason = 'cancelled by request', next_run_at = NULL, version = t.version + 1, updated_at = now()
         FROM old WHERE t.name = old.name AND old.state = ANY($2::text[])
       RETURNING ${EVENT_COLUMNS}
     )
     SELECT c.*, old.state AS from_state, true AS changed FROM changed c JOIN old USING (name)
     UNION ALL
     SELECT ${EVENT_COLUMNS}, old.state AS from_state, false AS changed
       FROM old JOIN tasks t USING (name) WHERE NOT old.state = ANY($2::text[])`,
    [unique, CANCELLABLE_STATES],
  );
  const result: CancelResult = { events: [], stops: [], notFound: [], finished: [] };
  const seen = new Set<string>();
  for (const r of rows) {
    seen.add(r.name);
    if (!r.changed) {
      result.finished.push({ name: r.name, state: r.from_state });
      continue;
    }
    result.events.push(toEvent(r, r.from_state));
    if (ON_HOST_STATES.includes(r.from_state) && r.host) {
      result.stops.push({ name: r.name, attempt: r.attempt, host: r.host });
    }
  }
  result.notFound = unique.filter((n) => !seen.has(n));
  return result;
}
