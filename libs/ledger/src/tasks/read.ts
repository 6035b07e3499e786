import type { ListRequest, RunView, TaskView } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { readFires } from './fires.js';

const VIEW_COLUMNS = `t.name, t.state, t.failures, t.attempt, t.reason, t.host, t.spec, t.created_at, t.updated_at, t.next_run_at,
  coalesce((SELECT array_agg(d.dependency ORDER BY d.dependency) FROM task_dependencies d
             WHERE d.task = t.name AND NOT d.satisfied), '{}') AS pending_dependencies`;

interface ViewRow extends Omit<TaskView, 'created_at' | 'updated_at' | 'next_run_at' | 'runs' | 'fires'> {
  created_at: Date;
  updated_at: Date;
  next_run_at: Date | null;
}

function toView(row: ViewRow): TaskView {
  return {
    ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString(),
    next_run_at: row.next_run_at?.toISOString() ?? null,
  };
}

/** One task with all its runs and its latest fire records, or null. */
export async function getTask(ledger: Ledger, name: string): Promise<TaskView | null> {
  const [row] = await ledger.query<ViewRow>(`SELECT ${VIEW_COLUMNS} FROM tasks t WHERE t.name = $1`, [name]);
  if (!row) return null;
  const runs = await ledger.query<RunView & { placed_at: Date; started_at: Date | null; finished_at: Date | null }>(
    `SELECT attempt, host, exit_code, reason, output, placed_at, started_at, finished_at
       FROM runs WHERE task = $1 ORDER BY attempt`,
    [name],
  );
  const fires = await readFires(ledger, name);
  return {
    ...toView(row),
    fires: fires.map((f) => ({
      fire_time: f.fire_time.toISOString(), outcome: f.outcome, missed_from: f.missed_from?.toISOString() ?? null,
      child: f.child, recorded_at: f.recorded_at.toISOString(),
    })),
    runs: runs.map((r) => ({
      ...r,
      placed_at: r.placed_at?.toISOString() ?? null,
      started_at: r.started_at?.toISOString() ?? null,
      finished_at: r.finished_at?.toISOString() ?? null,
    })),
  };
}

/** Tasks by name, optionally in one state; page with `after`. */
export async function listTasks(ledger: Ledger, req: ListRequest): Promise<TaskView[]> {
  const rows = await ledger.query<ViewRow>(
    `SELECT ${VIEW_COLUMNS} FROM tasks t
      WHERE ($1::text IS NULL OR t.state = $1) AND ($2::text IS NULL OR t.name > $2)
      ORDER BY t.name LIMIT $3`,
    [req.state ?? null, req.after ?? null, req.limit ?? 1000],
  );
  return rows.map(toView);
}
