import { ON_HOST_STATES, TaskState, decideAfterRun, type TaskEvent } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-row.js';
import { REFUSED, split, type ReportsApplied } from './refused.js';
import { sqlState, sqlStates } from './states-sql.js';

/**
 * SQL: decideAfterRun's answers for a lost run, one row for each value of what they depend on (is the task
 * restartable, is it a cron task), with the state it leaves the task in and the failures it adds. Generated once
 * from the rule, so the statement holds no rule of its own.
 */
const LOST_RULES = `(VALUES ${[false, true].flatMap((restartable) => [false, true].map((cron) => {
  const d = decideAfterRun({ lost: true }, { restartable, cron, recoverable_exitcodes: [], max_failures: 1, failures: 0 });
  return `(${restartable}, ${cron}, ${sqlState(d.state)}, ${d.failures})`;
})).join(', ')}) AS rule(restartable, cron, state, failures)`;

/**
 * What happens to the runs in `lost` (a CTE yielding name, attempt, state, host, detail of tasks locked FOR UPDATE): the
 * run records the reason; the task goes where decideAfterRun sends a lost run (LOST_RULES: a restartable task back to
 * ready without a failure counted, a cron task to wait for its next fire time, any other to failed) with the reason.
 * The tasks moved are the CTE `requeued`.
 */
const REQUEUE = `
  , r AS (
    UPDATE runs SET reason = $REASON, finished_at = now()
      FROM lost WHERE runs.task = lost.name AND runs.attempt = lost.attempt AND runs.finished_at IS NULL
  )
  , requeued AS (
  UPDATE tasks t SET
    state = rule.state, failures = t.failures + rule.failures,
    reason = $REASON || ': ' || lost.detail,
    ready_at = CASE WHEN rule.state = ${sqlState(TaskState.ready)} THEN now() ELSE t.ready_at END,
    version = t.version + 1, updated_at = now()
    FROM lost, ${LOST_RULES}
   WHERE t.name = lost.name AND t.attempt = lost.attempt AND t.state = lost.state
     AND rule.restartable = coalesce((t.spec->>'restartable')::boolean, false) AND rule.cron = (t.spec->>'cron' IS NOT NULL)
  RETURNING ${EVENT_COLUMNS}, lost.state AS from_state
  )`;

/** `before`: CTEs the `lost` query reads (each followed by a comma); `select`: what the statement returns. */
function requeue(lost: string, reason: string, opts: { before?: string; select?: string } = {}): string {
  return `WITH ${opts.before ?? ''} lost AS (${lost}) ${REQUEUE.replaceAll('$REASON', reason)} ${opts.select ?? 'SELECT * FROM requeued'}`;
}

/** Placed or running tasks on hosts that are down: `host_lost`. Idempotent, so it also runs as a sweep. */
export async function requeueFromDownHosts(ledger: Ledger): Promise<TaskEvent[]> {
  const rows = await ledger.query<EventRow & { from_state: TaskState }>(
    requeue(
      `SELECT t.name, t.attempt, t.state, t.host, 'host ' || t.host || ' stopped answering' AS detail
         FROM tasks t JOIN hosts h ON h.id = t.host
        WHERE h.state = 'down' AND t.state IN ${sqlStates(ON_HOST_STATES)} ORDER BY t.name FOR UPDATE OF t`,
      `'host_lost'`,
    ),
    [],
  );
  return rows.map((r) => toEvent(r, r.from_state));
}

/**
 * A host whose agent restarted at `boot` (its clock, like the runs' start times it reported) and did not take back
 * these running tasks: they are lost (`run_lost`). Only runs that started before the restart count: a run the new
 * agent starts is not in this list yet.
 */
export async function requeueLostRuns(ledger: Ledger, host: string, boot: Date, kept: readonly { name: string; attempt: number }[]): Promise<TaskEvent[]> {
  const rows = await ledger.query<EventRow & { from_state: TaskState }>(
    requeue(
      `SELECT t.name, t.attempt, t.state, t.host, 'the agent on ' || t.host || ' restarted without it' AS detail
         FROM tasks t JOIN runs ON runs.task = t.name AND runs.attempt = t.attempt
        WHERE t.host = $1 AND t.state = ${sqlState(TaskState.running)} AND runs.started_at < $2
          AND (t.name, t.attempt) NOT IN (SELECT * FROM unnest($3::text[], $4::int[]))
        ORDER BY t.name FOR UPDATE OF t`,
      `'run_lost'`,
    ),
    [host, boot, kept.map((k) => k.name), kept.map((k) => k.attempt)],
  );
  return rows.map((r) => toEvent(r, r.from_state));
}

/**
 * Runs an agent reported lost (see RunExited.lost): a dispatch came to it again for a run an earlier agent of its host
 * had started and could not report, or the agent stopped and ended them. The same rule as `requeueLostRuns`, for the
 * current attempt only; the reason is the report's (`run_lost: the agent of h2 stopped`). A report from another host
 * than the run's changes nothing and is returned as refused.
 */
export async function requeueLostReports(
  ledger: Ledger, reports: readonly { name: string; attempt: number; host: string; reason?: string | null }[],
): Promise<ReportsApplied> {
  if (reports.length === 0) return { events: [], refused: [] };
  const rows = await ledger.query<EventRow & { from_state: TaskState; refused_by: string | null }>(
    requeue(
      `SELECT t.name, t.attempt, t.state, t.host,
              coalesce(nullif(regexp_replace(v.reason, '^run_lost: ', ''), ''), 'the agent on ' || t.host || ' restarted without it') AS detail
         FROM tasks t JOIN v ON v.name = t.name AND v.attempt = t.attempt AND v.host = t.host
        WHERE t.state IN ${sqlStates(ON_HOST_STATES)} ORDER BY t.name FOR UPDATE OF t`,
      `'run_lost'`,
      {
        before: `v AS (SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]) AS v(name, attempt, reason, host)), ${REFUSED},`,
        select: `SELECT *, NULL::text AS refused_by FROM requeued
                 UNION ALL
                 SELECT name, NULL, attempt, NULL, NULL, host, NULL, NULL, NULL, reported FROM refused`,
      },
    ),
    [reports.map((r) => r.name), reports.map((r) => r.attempt), reports.map((r) => r.reason ?? null), reports.map((r) => r.host)],
  );
  const { changed, refused } = split(rows);
  return { events: changed.map((r) => toEvent(r, r.from_state)), refused };
}
