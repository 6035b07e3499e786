/** What a task needs to know to decide what follows a run's end. */
export interface RetryInput {
  /** The run's exit code; null when it never started (image pull or spawn failed). */
  exit_code: number | null;
  restartable: boolean;
  recoverable_exitcodes: readonly number[];
  max_failures: number;
  /** Failures counted before this run. */
  failures: number;
}

export type RetryDecision =
  | { state: 'success'; failures: number; reason: null }
  | { state: 'ready'; failures: number; reason: string }
  | { state: 'failed'; failures: number; reason: string };

/**
 * Tangerine's rule: exit 0 is success. Any other end counts a failure, and the task runs again only if it is
 * restartable, the exit code is one of its recoverable codes, and the failures so far stay below max_failures.
 * So max_failures 2 with a code that always recurs gives two runs, then failed with failures 2.
 */
export function decideAfterExit(input: RetryInput): RetryDecision {
  if (input.exit_code === 0) return { state: 'success', failures: input.failures, reason: null };
  const failures = input.failures + 1;
  const code = input.exit_code === null ? 'no exit code (the run did not start)' : `exit code ${input.exit_code}`;
  if (!input.restartable) return { state: 'failed', failures, reason: `${code}; the task is not restartable` };
  if (input.exit_code === null || !input.recoverable_exitcodes.includes(input.exit_code)) {
    return { state: 'failed', failures, reason: `${code} is not in recoverable_exitcodes` };
  }
  if (failures >= input.max_failures) {
    return { state: 'failed', failures, reason: `${code}; max_failures (${input.max_failures}) reached` };
  }
  return { state: 'ready', failures, reason: `${code} is recoverable; retry ${failures + 1} of ${input.max_failures}` };
}
