import type { TaskView } from '@tangerine/contracts';

/**
 * What `tangerine` exits with. A finished task's own exit code passes through (`submit --wait`, `logs -f`), so the
 * CLI's own codes sit where a command seldom exits: 2 as most tools for bad usage, and sysexits.h's range (64-78) for
 * the outcomes a script tells apart. Documented in cli/README.md ("Exit codes"); errors.test.ts checks that table against these.
 */
export const ExitCodes = {
  /** The command did what it was asked; with --wait, every task succeeded. */
  ok: 0,
  /** A task failed without an exit code of its own (its host was lost, it could not start), or some names of rm failed. */
  failed: 1,
  /** The command line or an input file breaks a rule (the message names the option or the document and field). */
  usage: 2,
  /** Intake refused a submission (sysexits' EX_DATAERR): the message names the field and the rule. */
  rejected: 65,
  /** The task is blocked: a dependency ended without success. */
  blocked: 66,
  /** The task was cancelled. */
  cancelled: 67,
  /** NATS or Tangerine could not be reached, or did not answer in time (sysexits' EX_UNAVAILABLE). */
  unavailable: 69,
} as const;
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/**
 * The exit code of a task that ended: 0 for success, its last run's exit code for a failure (1 when that run has
 * none, or 0: a run that exited 0 and still failed, as a lost one), and the CLI's codes for blocked and cancelled.
 * Null while the task has not ended.
 */
export function exitCodeOf(task: Pick<TaskView, 'state' | 'runs'>): number | null {
  switch (task.state) {
    case 'success': return ExitCodes.ok;
    case 'blocked': return ExitCodes.blocked;
    case 'cancelled': return ExitCodes.cancelled;
    case 'failed': {
      const code = task.runs?.[0]?.exit_code ?? null;
      return code === null || code === 0 ? ExitCodes.failed : code;
    }
    default: return null;
  }
}

/** The exit code of many tasks followed at once: the first that is not 0, in the order given (0 when all are). */
export function firstFailure(codes: readonly number[]): number {
  return codes.find((c) => c !== ExitCodes.ok) ?? ExitCodes.ok;
}

/**
 * The exit code of a followed task once its run is over, or null while it goes on: a finished task's (exitCodeOf),
 * or, for a cron task, once a run after `sinceAttempt` ended and the task is back to `scheduled` for its next fire
 * time (it never finishes on its own): that run's exit code, 1 when it has none.
 */
export function exitWhenEnded(task: Pick<TaskView, 'state' | 'runs' | 'attempt'> & { spec: { cron: string | null } }, sinceAttempt: number): number | null {
  const code = exitCodeOf(task);
  if (code !== null) return code;
  if (task.spec.cron !== null && task.state === 'scheduled' && task.attempt > sinceAttempt) {
    const run = task.runs?.[0];
    if (run?.finished_at == null) return null;
    return run.exit_code === 0 ? ExitCodes.ok : run.exit_code ?? ExitCodes.failed;
  }
  return null;
}
