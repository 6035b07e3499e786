import { Limits, TaskState, type MinuteCount, type ReadyByLabels } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { sqlState } from './states-sql.js';

/**
 * Ready tasks grouped by the host labels they need, the largest groups first. Reads the ready queue's partial index
 * (tasks_ready): a pass over the ready tasks only, never the finished history.
 */
export async function readReadyByLabels(ledger: Ledger): Promise<ReadyByLabels[]> {
  const rows = await ledger.query<{ constraints: Record<string, string> | null; count: number }>(
    `SELECT t.spec -> 'constraints' AS constraints, count(*)::int AS count FROM tasks t
      WHERE t.state = ${sqlState(TaskState.ready)}
      GROUP BY t.spec -> 'constraints' ORDER BY count(*) DESC, 1 LIMIT $1`,
    [Limits.overviewLabelSets],
  );
  return rows.map((r) => ({ constraints: r.constraints ?? {}, count: r.count }));
}

/** Runs that ended since `since`, per minute (only the minutes that had one), through the index runs_finished. */
export async function readEndedPerMinute(ledger: Ledger, since: Date): Promise<Array<{ minute: Date; succeeded: number; failed: number }>> {
  return ledger.query<{ minute: Date; succeeded: number; failed: number }>(
    `SELECT date_trunc('minute', finished_at) AS minute,
            (count(*) FILTER (WHERE exit_code = 0))::int AS succeeded,
            (count(*) FILTER (WHERE exit_code IS DISTINCT FROM 0))::int AS failed
       FROM runs WHERE finished_at IS NOT NULL AND finished_at >= $1
      GROUP BY 1 ORDER BY 1`,
    [since],
  );
}

/**
 * Every minute of the hour before `now` (the last one the minute `now` is in), oldest first, with the counts of
 * `rows` where there are some and zeros elsewhere: a chart of them has no gaps.
 */
export function fillMinutes(rows: ReadonlyArray<{ minute: Date; succeeded: number; failed: number }>, now: Date, minutes = 60): MinuteCount[] {
  const last = Math.floor(now.getTime() / 60_000) * 60_000;
  const by = new Map(rows.map((r) => [r.minute.getTime(), r]));
  const out: MinuteCount[] = [];
  for (let i = minutes - 1; i >= 0; i--) {
    const t = last - i * 60_000;
    const r = by.get(t);
    out.push({ minute: new Date(t).toISOString(), succeeded: r?.succeeded ?? 0, failed: r?.failed ?? 0 });
  }
  return out;
}
