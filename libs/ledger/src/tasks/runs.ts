import {
  ON_HOST_STATES, TaskState, decideAfterExitZero, decideAfterRun, type RunExited, type RunStarted, type TaskEvent, type TaskSpec,
} from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { parseStoredSpec } from '../rows.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-row.js';
import { REFUSED, split, type ReportsApplied } from './refused.js';
import { releaseCtes } from './release.js';
import { sqlState, sqlStates } from './states-sql.js';

/**
 * Records run starts: placed → running for the current attempt only; a stale attempt changes nothing, and neither
 * does a report from another host than the run's (it is returned as refused).
 */
export async function markStarted(ledger: Ledger, reports: readonly RunStarted[]): Promise<ReportsApplied> {
  if (reports.length === 0) return { events: [], refused: [] };
  const rows = await ledger.query<EventRow & { refused_by: string | null }>(
    `WITH v AS (
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[], $5::text[]) AS v(name, attempt, run_id, at, host)
     ), r AS (
       UPDATE runs SET run_id = v.run_id, started_at = v.at
         FROM v WHERE runs.task = v.name AND runs.attempt = v.attempt AND runs.host = v.host AND runs.started_at IS NULL
     ), done AS (
       UPDATE tasks t SET state = ${sqlState(TaskState.running)}, version = t.version + 1, updated_at = now()
         FROM v WHERE t.name = v.name AND t.attempt = v.attempt AND t.host = v.host AND t.state = ${sqlState(TaskState.placed)}
       RETURNING ${EVENT_COLUMNS}
     ), ${REFUSED}
     SELECT *, NULL::text AS refused_by FROM done
     UNION ALL
     SELECT name, NULL, attempt, NULL, NULL, host, NULL, NULL, reported FROM refused`,
    [reports.map((r) => r.name), reports.map((r) => r.attempt), reports.map((r) => r.run_id), reports.map((r) => r.at), reports.map((r) => r.host)],
  );
  const { changed, refused } = split(rows);
  return { events: changed.map((r) => toEvent(r, 'placed')), refused };
}

/**
 * Records run ends and applies the rule for what follows a run (decideAfterRun): success, back to ready, or failed.
 * The run record always takes the exit code; the task only moves if the report is for its current attempt
 * and it is still placed or running (a cancelled task stays cancelled). One statement may pass the task through
 * several states, with an event (and a version) for each: a short run's one report stands for its start too
 * (placed → running → ...), and a cron task goes on from success or failed to `scheduled`.
 *
 * A batch of exits 0 costs one statement: an exit 0 is a success whatever the spec says (decideAfterExitZero), so
 * the task is not read first; the rule's two answers, for a cron task and for any other, go in as parameters and the
 * statement picks one by the row's spec. Only the other exits need the spec, read before.
 *
 * The same statement releases the dependents a success was the last one waited for (waiting → ready, their events
 * after the exits' own): a success and its release commit together, and a chain's next task is ready without a
 * trip through another service.
 *
 * A report from another host than the run's changes neither the run nor the task: every write matches the run's
 * host too, and the report is returned as refused.
 */
export async function recordExits(ledger: Ledger, reports: readonly RunExited[]): Promise<ReportsApplied> {
  if (reports.length === 0) return { events: [], refused: [] };
  const toRead = reports.filter((r) => r.exit_code !== 0).map((r) => r.name);
  const current = toRead.length === 0 ? [] : await ledger.query<{ name: string; state: TaskState; attempt: number; failures: number; spec: unknown }>(
    'SELECT name, state, attempt, failures, spec FROM tasks WHERE name = ANY($1::text[])',
    [toRead],
  );
  // A spec that does not parse throws a RowError before anything is written: the report is set aside.
  const byName = new Map(current.map((c) => [c.name, { ...c, spec: parseStoredSpec(c.spec) }]));
  const decisions = reports.map((r) => (r.exit_code === 0 ? succeeded(r) : decide(r, byName.get(r.name))));
  const rows = await ledger.query<ExitRow & { released: boolean; refused_by: string | null }>(
    `WITH v AS (
       SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
                            $8::text[], $9::int[], $10::text[], $11::text[], $12::text[], $13::real[], $14::text[], $15::text[])
         AS v(name, attempt, exit_code, run_reason, output, started_at, finished_at, state, failures, reason, run_id, outcome, delay,
              cron_state, host)
     ), r AS (
       UPDATE runs SET exit_code = v.exit_code, reason = v.run_reason, output = v.output, run_id = coalesce(runs.run_id, v.run_id),
              started_at = coalesce(runs.started_at, v.started_at), finished_at = v.finished_at
         FROM v WHERE runs.task = v.name AND runs.attempt = v.attempt AND runs.host = v.host AND runs.finished_at IS NULL
     ), old AS (
       -- The rule's answer for this row: a decision made without reading the task (exit 0) has one for a cron task.
       SELECT t.name, t.state, CASE WHEN t.spec->>'cron' IS NOT NULL THEN v.cron_state ELSE v.state END AS next
         FROM tasks t JOIN v ON v.name = t.name AND v.host = t.host AND v.state IS NOT NULL FOR UPDATE OF t
     ), done AS (
       UPDATE tasks t SET state = old.next, failures = t.failures + v.failures, reason = v.reason,
              ready_at = CASE WHEN old.next = ${sqlState(TaskState.ready)} THEN now() ELSE t.ready_at END,
              retry_at = CASE WHEN old.next = ${sqlState(TaskState.ready)} AND v.delay > 0 THEN now() + make_interval(secs => v.delay) END,
              succeeded_at = CASE WHEN v.outcome = ${sqlState(TaskState.success)} THEN now() ELSE t.succeeded_at END,
              version = t.version + 1 + CASE WHEN old.state = ${sqlState(TaskState.placed)} AND v.started_at IS NOT NULL THEN 1 ELSE 0 END
                                      + CASE WHEN old.next <> v.outcome THEN 1 ELSE 0 END,
              updated_at = now()
         FROM v JOIN old ON old.name = v.name
        WHERE t.name = v.name AND t.attempt = v.attempt AND t.host = v.host AND t.state IN ${sqlStates(ON_HOST_STATES)} AND v.state IS NOT NULL
       RETURNING ${EVENT_COLUMNS}, v.exit_code, old.state AS from_state, v.started_at, v.outcome
     ), successes AS (
       SELECT name FROM done WHERE outcome = ${sqlState(TaskState.success)}
     ), ${releaseCtes('successes')}, ${REFUSED}
     SELECT *, false AS released, NULL::text AS refused_by FROM done
     UNION ALL
     SELECT *, NULL, NULL, NULL, NULL, true, NULL FROM released
     UNION ALL
     SELECT name, NULL, attempt, NULL, NULL, host, NULL, NULL, NULL, NULL, NULL, NULL, false, reported FROM refused`,
    [
      decisions.map((d) => d.report.name), decisions.map((d) => d.report.attempt), decisions.map((d) => d.report.exit_code),
      decisions.map((d) => d.report.reason), decisions.map((d) => stripNul(d.report.output)),
      decisions.map((d) => d.report.started_at), decisions.map((d) => d.report.finished_at),
      decisions.map((d) => d.state), decisions.map((d) => d.failures), decisions.map((d) => d.reason),
      decisions.map((d) => d.report.run_id ?? null), decisions.map((d) => d.outcome), decisions.map((d) => d.delay),
      decisions.map((d) => d.cronState), decisions.map((d) => d.report.host),
    ],
  );
  const { changed, refused } = split(rows);
  // A success leaves the failure count as it was: the row's count is the count before.
  const ended = changed.filter((r) => !r.released).flatMap((r) => eventsOf(r, byName.get(r.name)?.failures ?? Number(r.failures)));
  return { events: [...ended, ...changed.filter((r) => r.released).map((r) => toEvent(r, 'waiting'))], refused };
}

type ExitRow = EventRow & { exit_code: number | null; from_state: TaskState; started_at: Date | null; outcome: TaskState };

/** Exit 0, the task not read: the rule's answer for a task that is not a cron task, and for one that is. */
const EXIT_0 = { plain: decideAfterExitZero(false), cron: decideAfterExitZero(true) };

function succeeded(r: RunExited): Decision {
  const { plain, cron } = EXIT_0;
  return { report: r, outcome: plain.outcome, state: plain.state, cronState: cron.state, failures: plain.failures, reason: plain.reason, delay: plain.delay };
}

/** One report's parameters for the statement: decideAfterRun's answer, or nulls for a stale report. */
interface Decision {
  report: RunExited;
  /** What the retry rules say (success, ready, failed), or null for a stale report. */
  outcome: TaskState | null;
  /** The state stored: the outcome, or `scheduled` for a cron task whose run ended for good. */
  state: TaskState | null;
  /** The state stored if the row turns out to be a cron task's (exit 0 only; otherwise the task was read: `state`). */
  cronState: TaskState | null;
  /** Failures the run adds to the count (0 or 1). */
  failures: number | null;
  reason: string | null;
  /** Seconds a retry waits before it may be placed (the backoff); 0 for any other outcome. */
  delay: number;
}

function decide(r: RunExited, task: { state: TaskState; attempt: number; failures: number; spec: TaskSpec } | undefined): Decision {
  const live = task && task.attempt === r.attempt && ON_HOST_STATES.includes(task.state);
  if (!task || !live) return { report: r, outcome: null, state: null, cronState: null, failures: null, reason: r.reason, delay: 0 };
  const d = decideAfterRun(
    { exit_code: r.exit_code, reason: r.reason }, { ...task.spec, failures: task.failures, cron: (task.spec.cron ?? null) !== null },
  );
  return { report: r, outcome: d.outcome, state: d.state, cronState: d.state, failures: d.failures - task.failures, reason: d.reason, delay: d.delay };
}

/** The events of one recorded exit: [running,] outcome [, scheduled], each with its own version. */
function eventsOf(r: ExitRow, failuresBefore: number): TaskEvent[] {
  const events: TaskEvent[] = [];
  const last = Number(r.version);
  let from = r.from_state;
  if (r.from_state === 'placed' && r.started_at !== null) {
    const steps = r.state === r.outcome ? 1 : 2;
    events.push({
      ...toEvent(r, 'placed'), state: 'running', version: last - steps, failures: failuresBefore, reason: null,
      at: r.started_at.toISOString(),
    });
    from = 'running';
  }
  if (r.state !== r.outcome) {
    events.push({ ...toEvent(r, from, r.exit_code), state: r.outcome, version: last - 1 });
    from = r.outcome;
  }
  events.push(toEvent(r, from, r.exit_code));
  return events;
}

/** PostgreSQL text cannot hold NUL; container output may. */
function stripNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}
