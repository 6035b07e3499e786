import { TaskState, type TaskInstance } from '@tangerine/contracts';
import type { Ledger } from './db.js';
import { sqlState } from './tasks/states-sql.js';

/** One instance launched for a task (015_task_instances). */
export interface TaskInstanceRow {
  id: string;
  task: string;
  attempt: number;
  host: string;
  instance_type: string;
  spot: boolean;
  instance_id: string | null;
  state: string;
  address: string | null;
  private_address: string | null;
  dns_name: string | null;
  error_code: string | null;
  reason: string | null;
  asked_at: Date;
  launched_at: Date | null;
  ended_at: Date | null;
}

/** An open row with its task's state now (null: the task is gone). */
export type OpenTaskInstance = TaskInstanceRow & { task_state: TaskState | null };

const COLUMNS = 'i.id::text AS id, i.task, i.attempt, i.host, i.instance_type, i.spot, i.instance_id, i.state, i.address, '
  + 'i.private_address, i.dns_name, i.error_code, i.reason, i.asked_at, i.launched_at, i.ended_at';

/**
 * Ready tasks with an `instance` and no open instance row, oldest first, at most `limit`: what to launch for. Through
 * the ready queue's partial index (tasks_ready), so its cost is the ready queue's, not the table's.
 */
export async function readTasksWantingInstance(ledger: Ledger, limit: number): Promise<Array<{ name: string; attempt: number; instance: TaskInstance }>> {
  return ledger.query(
    `SELECT t.name, t.attempt, t.spec -> 'instance' AS instance FROM tasks t
      WHERE t.state = ${sqlState(TaskState.ready)} AND t.spec ? 'instance'
        AND NOT EXISTS (SELECT 1 FROM task_instances i WHERE i.task = t.name AND i.ended_at IS NULL)
      ORDER BY t.submit_seq, t.name LIMIT $1`,
    [limit],
  );
}

/** Records an instance asked for, before it is launched; null when the task has an open one already (compare-and-set). */
export async function claimTaskInstance(
  ledger: Ledger, c: { task: string; attempt: number; instance: TaskInstance; at: Date },
): Promise<TaskInstanceRow | null> {
  const [row] = await ledger.query<TaskInstanceRow>(
    `INSERT INTO task_instances AS i (task, attempt, instance_type, spot, asked_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (task) WHERE ended_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
    [c.task, c.attempt, c.instance.type, c.instance.spot, c.at],
  );
  return row ?? null;
}

/** Every open row, with its task's state: what is launching, to watch, or to terminate. */
export async function readOpenTaskInstances(ledger: Ledger): Promise<OpenTaskInstance[]> {
  return ledger.query<OpenTaskInstance>(
    `SELECT ${COLUMNS}, t.state AS task_state FROM task_instances i LEFT JOIN tasks t ON t.name = i.task
      WHERE i.ended_at IS NULL ORDER BY i.id`,
  );
}

/** What EC2 said of a row's instance: its id once launched, its state and addresses; the error code cleared. */
export async function recordTaskInstance(
  ledger: Ledger, id: string,
  seen: { instanceId: string; state: string; address?: string | null; privateAddress?: string | null; dnsName?: string | null; launchedAt?: Date | null },
): Promise<void> {
  await ledger.query(
    `UPDATE task_instances SET instance_id = $2, state = $3, address = coalesce($4, address), private_address = coalesce($5, private_address),
            dns_name = coalesce($6, dns_name), launched_at = coalesce(launched_at, $7), error_code = NULL, updated_at = now()
      WHERE id = $1 AND ended_at IS NULL`,
    [id, seen.instanceId, seen.state, seen.address ?? null, seen.privateAddress ?? null, seen.dnsName ?? null, seen.launchedAt ?? null],
  );
}

/** The AWS code of a failed call for this row (shown in the task's state until a call succeeds). */
export async function recordTaskInstanceError(ledger: Ledger, id: string, code: string): Promise<void> {
  await ledger.query('UPDATE task_instances SET error_code = $2, updated_at = now() WHERE id = $1 AND ended_at IS NULL', [id, code.slice(0, 128)]);
}

/** Ends an open row; false when it was ended already (another replica, a redone step). */
export async function endTaskInstance(ledger: Ledger, id: string, end: { state: string; reason: string; at: Date }): Promise<boolean> {
  const rows = await ledger.query(
    'UPDATE task_instances SET state = $2, reason = $3, ended_at = $4, updated_at = now() WHERE id = $1 AND ended_at IS NULL RETURNING id',
    [id, end.state, end.reason.slice(0, 1000), end.at],
  );
  return rows.length === 1;
}

/** The latest instance of a task (open or ended), for its view; null when it never had one. */
export async function readTaskInstance(ledger: Ledger, task: string): Promise<TaskInstanceRow | null> {
  const [row] = await ledger.query<TaskInstanceRow>(`SELECT ${COLUMNS} FROM task_instances i WHERE i.task = $1 ORDER BY i.id DESC LIMIT 1`, [task]);
  return row ?? null;
}
