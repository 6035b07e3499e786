import { Limits, TaskState, type ListRequest, type RunView, type TaskInstanceView, type TaskView } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { readTaskInstance } from '../task-instances.js';
import { readFires } from './fires.js';
import { sqlState } from './states-sql.js';

const VIEW_COLUMNS = `t.name, t.state, t.failures, t.attempt, t.reason, t.host, t.spec, t.created_at, t.updated_at, t.next_run_at,
  t.template, t.template_version,
  CASE WHEN t.state = ${sqlState(TaskState.ready)} AND t.retry_at > now() THEN t.retry_at END AS retry_at,
  coalesce((SELECT array_agg(d.dependency ORDER BY d.dependency) FROM task_dependencies d
             WHERE d.task = t.name AND NOT d.satisfied), '{}') AS pending_dependencies`;

interface ViewRow extends Omit<TaskView, 'created_at' | 'updated_at' | 'next_run_at' | 'retry_at' | 'runs' | 'fires'> {
  created_at: Date;
  updated_at: Date;
  next_run_at: Date | null;
  retry_at: Date | null;
}

function toView(row: ViewRow): TaskView {
  return {
    ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString(),
    next_run_at: row.next_run_at?.toISOString() ?? null,
    retry_at: row.retry_at?.toISOString() ?? null,
  };
}

const RUN_COLUMNS = `attempt, host, exit_code, reason, right(output, ${Limits.outputPreviewChars}) AS output,
  length(output) AS output_chars, placed_at, started_at, finished_at`;

type RunRow = Omit<RunView, 'placed_at' | 'started_at' | 'finished_at'> & { placed_at: Date | null; started_at: Date | null; finished_at: Date | null };

function toRunView(r: RunRow): RunView {
  return {
    ...r,
    placed_at: r.placed_at?.toISOString() ?? null,
    started_at: r.started_at?.toISOString() ?? null,
    finished_at: r.finished_at?.toISOString() ?? null,
  };
}

/**
 * One task with its latest runs (oldest of them first, their output cut to its tail), how many runs it has, and its
 * latest fire records; or null. Bounded whatever the task's history: `readRuns` pages the rest, `readOutput` gives
 * one run's output whole.
 */
export async function getTask(ledger: Ledger, name: string): Promise<TaskView | null> {
  const [row] = await ledger.query<ViewRow & { runs_total: number }>(
    `SELECT ${VIEW_COLUMNS}, (SELECT count(*)::int FROM runs WHERE task = t.name) AS runs_total FROM tasks t WHERE t.name = $1`,
    [name],
  );
  if (!row) return null;
  const { runs } = await readRuns(ledger, name, { limit: Limits.runsPerTask });
  const fires = await readFires(ledger, name);
  const instance = row.spec.instance === undefined ? undefined : await readInstanceView(ledger, name);
  return {
    ...toView(row),
    ...(instance ? { instance } : {}),
    runs_total: row.runs_total,
    fires: fires.map((f) => ({
      fire_time: f.fire_time.toISOString(), outcome: f.outcome, missed_from: f.missed_from?.toISOString() ?? null,
      child: f.child, recorded_at: f.recorded_at.toISOString(),
    })),
    runs,
  };
}

/**
 * The latest `limit` runs of a task with an attempt below `before` (all, without it), oldest of them first; `next` is
 * the `before` of the page older than this one, null when there is none.
 */
export async function readRuns(ledger: Ledger, name: string, page: { before?: number; limit: number }): Promise<{ runs: RunView[]; next: number | null }> {
  const rows = await ledger.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM runs WHERE task = $1 AND ($2::int IS NULL OR attempt < $2) ORDER BY attempt DESC LIMIT $3`,
    [name, page.before ?? null, page.limit + 1],
  );
  const more = rows.length > page.limit;
  const runs = rows.slice(0, page.limit).reverse().map(toRunView);
  return { runs, next: more && runs.length > 0 ? runs[0]!.attempt : null };
}

/** The whole output the ledger holds for one run (the agent's last 64 KiB), or null when there is no such run. */
export async function readOutput(ledger: Ledger, name: string, attempt: number): Promise<string | null> {
  const [row] = await ledger.query<{ output: string }>('SELECT output FROM runs WHERE task = $1 AND attempt = $2', [name, attempt]);
  return row?.output ?? null;
}

/**
 * Tasks by name, optionally in one state and with a name prefix, after the name `after`: at most `limit`, plus one
 * more when there is one (the caller's sign that another page follows).
 */
export async function listTasks(ledger: Ledger, req: Omit<ListRequest, 'limit'> & { limit: number }): Promise<TaskView[]> {
  const rows = await ledger.query<ViewRow>(
    `SELECT ${VIEW_COLUMNS} FROM tasks t
      WHERE ($1::text IS NULL OR t.state = $1) AND ($2::text IS NULL OR t.name > $2)
        AND ($4::text IS NULL OR (t.name >= $4 AND starts_with(t.name, $4)))
      ORDER BY t.name LIMIT $3`,
    [req.state ?? null, req.after ?? null, req.limit + 1, req.prefix ?? null],
  );
  return rows.map(toView);
}

async function readInstanceView(ledger: Ledger, name: string): Promise<TaskInstanceView | undefined> {
  const i = await readTaskInstance(ledger, name);
  if (!i) return undefined;
  return {
    instance_id: i.instance_id, state: i.state, type: i.instance_type, spot: i.spot, host: i.host, address: i.address,
    private_address: i.private_address, dns_name: i.dns_name, error_code: i.error_code, reason: i.reason,
    asked_at: i.asked_at.toISOString(), launched_at: i.launched_at?.toISOString() ?? null, ended_at: i.ended_at?.toISOString() ?? null,
  };
}
