import type { TaskEvent } from '@tangerine/contracts';
import type { Ledger } from '../db.js';

/**
 * A report that changed nothing because the ledger gave its run to another host: `host` is the run's host,
 * `reported` the report's.
 */
export interface RefusedReport {
  name: string;
  attempt: number;
  host: string;
  reported: string;
}

/** What a batch of reports changed (the events), and which of them came from a host their run was not given. */
export interface ReportsApplied {
  events: TaskEvent[];
  refused: RefusedReport[];
}

/**
 * SQL: the reports in `v` (name, attempt, host) whose run the ledger gave to another host. Part of the statement
 * that applies them, whose every write also matches the run's host: a report from another host changes nothing,
 * and this says whose run it was (one lookup by primary key per report, as the runs update's own).
 */
export const REFUSED = `refused AS (
       SELECT v.name, v.attempt, runs.host, v.host AS reported FROM v JOIN runs ON runs.task = v.name AND runs.attempt = v.attempt
        WHERE runs.host <> v.host
     )`;

/** Splits a statement's rows into its changes and its refused reports (the rows with `refused_by` set). */
export function split<R extends { name: string; attempt: number; host: string | null; refused_by: string | null }>(
  rows: readonly R[],
): { changed: R[]; refused: RefusedReport[] } {
  const changed: R[] = [];
  const refused: RefusedReport[] = [];
  for (const r of rows) {
    if (r.refused_by === null) changed.push(r);
    // A run's host is never null (runs.host NOT NULL).
    else refused.push({ name: r.name, attempt: r.attempt, host: r.host!, reported: r.refused_by });
  }
  return { changed, refused };
}

/**
 * The host each of these runs was given (runs unknown to the ledger left out): for the log line of a report refused
 * before the ledger was asked (its payload names another host than its subject), so that it names the run's host.
 */
export async function readRunHosts(ledger: Ledger, runs: readonly { name: string; attempt: number }[]): Promise<Map<string, string>> {
  if (runs.length === 0) return new Map();
  const rows = await ledger.query<{ name: string; attempt: number; host: string }>(
    `SELECT runs.task AS name, runs.attempt, runs.host FROM runs JOIN unnest($1::text[], $2::int[]) AS v(name, attempt)
         ON runs.task = v.name AND runs.attempt = v.attempt`,
    [runs.map((r) => r.name), runs.map((r) => r.attempt)],
  );
  return new Map(rows.map((r) => [`${r.name}:${r.attempt}`, r.host]));
}
