import { STOPPED_STATES, type TaskEvent, type TaskState } from '@tangerine/contracts';
import { sqlStates } from './states-sql.js';
import { EventRowSchema, rowParser } from '../rows.js';

/** The columns every state-changing statement returns, to build the event of the change. */
export const EVENT_COLUMNS = 't.name, t.state, t.attempt, t.failures, t.version, t.host, t.reason, t.updated_at';

/**
 * SQL: has the task `alias` succeeded since it was submitted? The test every dependency uses. Its state alone does not
 * tell, as a cron task moves on to `scheduled` after a success; a cancelled or blocked task no longer counts.
 */
export function succeeded(alias: string): string {
  return `(${alias}.succeeded_at IS NOT NULL AND ${alias}.state NOT IN ${sqlStates(STOPPED_STATES)})`;
}

export interface EventRow {
  name: string;
  state: TaskState;
  attempt: number;
  failures: number;
  version: string | number;
  host: string | null;
  reason: string | null;
  updated_at: Date;
}

const parseEventRow = rowParser('tasks', EventRowSchema);

/** The event of a changed row; throws a RowError (`invalid_row`) naming the column if the row does not parse. */
export function toEvent(row: EventRow, from: TaskState | null, exitCode: number | null = null): TaskEvent {
  parseEventRow(row);
  return {
    name: row.name,
    state: row.state,
    from,
    attempt: row.attempt,
    failures: row.failures,
    version: Number(row.version),
    host: row.host,
    reason: row.reason,
    exit_code: exitCode,
    at: row.updated_at.toISOString(),
  };
}
