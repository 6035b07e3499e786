import type { TaskEvent, TaskState } from '@tangerine/contracts';

/** The columns every state-changing statement returns, to build the event of the change. */
export const EVENT_COLUMNS = 't.name, t.state, t.attempt, t.failures, t.version, t.host, t.reason, t.updated_at';

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

export function toEvent(row: EventRow, from: TaskState | null, exitCode: number | null = null): TaskEvent {
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
