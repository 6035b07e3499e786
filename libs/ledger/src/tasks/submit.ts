import { TaskState, hideSecretValues, isFinished, type TaskEvent } from '@tangerine/contracts';
import type { SecretsKey } from '@tangerine/runtime';
import type { Ledger, Tx } from '../db.js';
import { sealSecrets } from '../secrets.js';
import { EVENT_COLUMNS, succeeded, toEvent, type EventRow } from './event-row.js';
import { planSubmissions, type ExistingTask, type Submission, type SubmissionPlan } from './plan-submissions.js';
import { sqlState } from './states-sql.js';

export interface SubmitResult {
  events: TaskEvent[];
  rejected: SubmissionPlan['reject'];
}

/**
 * Writes a batch of validated submissions in one transaction: each one creates its task (or restarts a
 * finished one), is rejected, or is recognized as a redelivery, whose current state is announced again.
 * Dependencies are locked FOR SHARE, so a dependency cannot succeed unseen between our read and our commit.
 */
/**
 * `now`, from the caller's clock, is the submission time that start times and first fire times are measured from;
 * `secretsKey` (SECRETS_KEY) seals the secret env values, which are stored as plain JSON without it.
 */
export async function submitTasks(
  ledger: Ledger, batch: readonly Submission[], now: Date, options: { secretsKey?: SecretsKey | null } = {},
): Promise<SubmitResult> {
  return ledger.transaction(async (tx) => {
    const names = [...new Set(batch.map((s) => s.spec.name))];
    const existing = new Map(
      (await tx.query<{ name: string; state: TaskState; submit_seq: string }>(
        'SELECT name, state, submit_seq FROM tasks WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE', [names],
      )).map((r): [string, ExistingTask] => [r.name, { state: r.state, submit_seq: Number(r.submit_seq) }]),
    );
    const deps = [...new Set(batch.flatMap((s) => s.spec.dependencies))];
    const { dependencyStates, edges, dependedOn } = deps.length === 0
      ? { dependencyStates: new Map<string, TaskState>(), edges: new Map<string, string[]>(), dependedOn: new Set<string>() }
      : await readGraph(tx, names, deps);

    const plan = planSubmissions(batch, { existing, dependencyStates, edges, dependedOn, now });
    const events: TaskEvent[] = [];
    if (plan.accept.length > 0) {
      const rows = await tx.query<EventRow>(
        `INSERT INTO tasks AS t (name, spec, state, reason, submit_seq, ready_at, next_run_at, template, template_version)
         SELECT v.name, v.spec, v.state, v.reason, v.seq, CASE WHEN v.state = ${sqlState(TaskState.ready)} THEN now() END, v.next_run_at,
                v.template, v.template_version
           FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[], $7::text[], $8::int[])
                AS v(name, spec, state, reason, seq, next_run_at, template, template_version)
         ON CONFLICT (name) DO UPDATE SET
           spec = EXCLUDED.spec, state = EXCLUDED.state, reason = EXCLUDED.reason,
           submit_seq = EXCLUDED.submit_seq, template = EXCLUDED.template, template_version = EXCLUDED.template_version,
           ready_at = EXCLUDED.ready_at, next_run_at = EXCLUDED.next_run_at, succeeded_at = NULL,
           failures = 0, host = NULL, version = t.version + 1, updated_at = now()
         RETURNING ${EVENT_COLUMNS}`,
        [
          plan.accept.map((p) => p.spec.name), plan.accept.map((p) => JSON.stringify(hideSecretValues(p.spec))),
          plan.accept.map((p) => p.state), plan.accept.map((p) => p.reason),
          plan.accept.map((p) => p.seq), plan.accept.map((p) => p.next_run_at),
          plan.accept.map((p) => p.template?.name ?? null), plan.accept.map((p) => p.template?.version ?? null),
        ],
      );
      const resubmitted = plan.accept.filter((p) => p.from !== null).map((p) => p.spec.name);
      if (resubmitted.length > 0) await tx.query('DELETE FROM task_dependencies WHERE task = ANY($1::text[])', [resubmitted]);
      await storeSecrets(tx, plan.accept, resubmitted, options.secretsKey ?? null);
      const edgeRows = plan.accept.flatMap((p) => p.edges.map((e) => ({ task: p.spec.name, ...e })));
      if (edgeRows.length > 0) {
        await tx.query(
          `INSERT INTO task_dependencies (task, dependency, satisfied)
           SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[])`,
          [edgeRows.map((e) => e.task), edgeRows.map((e) => e.dependency), edgeRows.map((e) => e.satisfied)],
        );
      }
      const from = new Map(plan.accept.map((p) => [p.spec.name, p.from]));
      events.push(...rows.map((r) => toEvent(r, from.get(r.name) ?? null)));
    }
    if (plan.replay.length > 0) {
      const rows = await tx.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM tasks t WHERE t.name = ANY($1::text[])`, [plan.replay.map((r) => r.name)],
      );
      events.push(...rows.map((r) => toEvent(r, null)));
    }
    return { events, rejected: plan.reject };
  });
}

/**
 * The secret values of the accepted tasks, in their own table (tasks.spec keeps their names only). A task that
 * starts blocked never runs, so its secrets are not kept; a resubmitted task's earlier ones are replaced.
 */
async function storeSecrets(tx: Tx, accepted: SubmissionPlan['accept'], resubmitted: string[], key: SecretsKey | null): Promise<void> {
  if (resubmitted.length > 0) await tx.query('DELETE FROM task_secrets WHERE task = ANY($1::text[])', [resubmitted]);
  const kept = accepted.filter((p) => Object.keys(p.spec.secret_env).length > 0 && !isFinished(p.state));
  if (kept.length === 0) return;
  await tx.query(
    'INSERT INTO task_secrets (task, env) SELECT * FROM unnest($1::text[], $2::jsonb[])',
    [kept.map((p) => p.spec.name), kept.map((p) => JSON.stringify(sealSecrets(p.spec.secret_env, key)))],
  );
}

/**
 * The dependencies' states, and the part of the graph a cycle through this batch could use. A dependency that
 * succeeded since its submission reads as `success` (a cron task is `scheduled` between its runs).
 */
async function readGraph(tx: Tx, names: string[], deps: string[]) {
  const dependencyStates = new Map(
    (await tx.query<{ name: string; state: TaskState }>(
      `SELECT name, CASE WHEN ${succeeded('t')} THEN ${sqlState(TaskState.success)} ELSE state END AS state
         FROM tasks t WHERE name = ANY($1::text[]) ORDER BY name FOR SHARE`, [deps],
    )).map((r) => [r.name, r.state] as const),
  );
  const dependedOn = new Set(
    (await tx.query<{ dependency: string }>(
      'SELECT DISTINCT dependency FROM task_dependencies WHERE dependency = ANY($1::text[])', [names],
    )).map((r) => r.dependency),
  );
  const edges = new Map<string, string[]>();
  if (dependedOn.size > 0) {
    // Only when a task of this batch is already depended on can it close a cycle: walk what its dependencies reach.
    const rows = await tx.query<{ task: string; dependency: string }>(
      `WITH RECURSIVE reach(name) AS (
         SELECT unnest($1::text[])
         UNION
         SELECT d.dependency FROM task_dependencies d JOIN reach r ON d.task = r.name
       )
       SELECT d.task, d.dependency FROM task_dependencies d JOIN reach r ON d.task = r.name`,
      [deps],
    );
    for (const r of rows) edges.set(r.task, [...(edges.get(r.task) ?? []), r.dependency]);
  }
  return { dependencyStates, edges, dependedOn };
}
