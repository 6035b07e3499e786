import { decode } from '@tangerine/bus';
import { Subjects, ValidationError, type RunExited, type RunStarted } from '@tangerine/contracts';

/** A run report as the monitor reads it: what it says, and `from`, the host of its subject (the reporter). */
export type Report = { kind: 'started'; report: RunStarted; from: string } | { kind: 'exited'; report: RunExited; from: string };

/**
 * Reads a report from its subject and payload. The reporter is the subject's host token: NATS lets each agent
 * publish only on its own host's subjects, so that is who sent it, whatever the payload says. A report on a subject
 * the stream captures but no one sends (an old agent's `runs.exited`, a typo) is set aside like any unreadable one.
 */
export function readReport(subject: string, data: Uint8Array): Report {
  const started = Subjects.runStarted.match(subject);
  if (started) return { kind: 'started', report: decode(data, Subjects.runStarted), from: started[0]! };
  const exited = Subjects.runExited.match(subject);
  if (exited) return { kind: 'exited', report: decode(data, Subjects.runExited), from: exited[0]! };
  throw new ValidationError('invalid_message', `subject: ${subject} carries no run report`, { field: 'subject' });
}

/**
 * Splits a batch: the reports whose payload names the host that sent them go to the ledger (which counts each only
 * for a run it gave that host), the others are refused as they are: a report about another host's run, or one
 * that lies about who sends it, never counts.
 */
export function screenReports(reports: readonly Report[]): { genuine: Report[]; mismatched: Report[] } {
  const genuine: Report[] = [];
  const mismatched: Report[] = [];
  for (const r of reports) (r.report.host === r.from ? genuine : mismatched).push(r);
  return { genuine, mismatched };
}
