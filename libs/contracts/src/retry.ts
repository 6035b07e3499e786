/** What a task needs to know to decide what follows a run's end. */
export interface RetryInput {
  /** The run's exit code; null when it never started (image pull or spawn failed). */
  exit_code: number | null;
  restartable: boolean;
  recoverable_exitcodes: readonly number[];
  max_failures: number;
  /** Failures counted before this run. */
  failures: number;
  /** Seconds before the first retry, doubled for each failure after it (a spec stored before it existed: the default). */
  retry_delay?: number;
  /** The most a backoff grows to, in seconds. */
  retry_max_delay?: number;
}

export type RetryDecision =
  | { state: 'success'; failures: number; reason: null }
  | { state: 'ready'; failures: number; reason: string; /** Seconds the next attempt waits. */ delay: number }
  | { state: 'failed'; failures: number; reason: string };

/** The backoff's defaults: 1 s before the first retry, then 2, 4, 8 … up to 5 minutes. */
export const RETRY_DELAY_S = 1;
export const RETRY_MAX_DELAY_S = 300;

/**
 * Seconds a retry waits after the `failures`-th failure: `delay × 2^(failures − 1)`, capped at `max` (Kubernetes
 * backs a failed Job off 10 s, 20 s, 40 s … up to 6 min; Nomad's exponential `delay_function` does the same). A
 * crash-looping task costs the host and the ledger one run per backoff, not one per placement pass.
 */
export function retryDelay(failures: number, delay: number = RETRY_DELAY_S, max: number = RETRY_MAX_DELAY_S): number {
  if (delay <= 0 || failures <= 0) return 0;
  return Math.min(max, delay * 2 ** Math.min(failures - 1, 40));
}

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
  const delay = retryDelay(failures, input.retry_delay, input.retry_max_delay);
  const after = delay > 0 ? ` in ${delay} s` : '';
  return { state: 'ready', failures, reason: `${code} is recoverable; retry ${failures + 1} of ${input.max_failures}${after}`, delay };
}
