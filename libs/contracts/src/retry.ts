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

/** How a run ended: the agent's exit report, or lost with its host or agent (no exit code, no report). */
export type RunEnd = { exit_code: number | null; /** The agent's reason (a timeout, a failed pull), if any. */ reason?: string | null } | { lost: true };

/** What a task needs to know to decide what follows a run: its retry rules, its failures so far, and whether it is a cron task. */
export interface AfterRunInput extends Omit<RetryInput, 'exit_code'> {
  cron: boolean;
}

/** What follows a run. */
export interface AfterRun {
  /** What the retry rules make of the end: success, ready (to run again) or failed. */
  outcome: 'success' | 'ready' | 'failed';
  /** The state the task is left in: the outcome, or `scheduled` for a cron task whose run ended for good. */
  state: 'success' | 'ready' | 'failed' | 'scheduled';
  /** Failures counted after the run. */
  failures: number;
  /** The task's reason; null after a success, and after a lost run (the ledger writes what was lost, and where). */
  reason: string | null;
  /** Seconds the next attempt waits (the backoff); 0 unless the outcome is ready after an exit. */
  delay: number;
}

/**
 * The one rule for what follows a run, wherever the ledger applies it (a batch of exit reports, the runs of a host
 * that went down, a run an agent restarted without):
 * - an exit: decideAfterExit's retry rules;
 * - a lost run is not the task's failure: a restartable task runs again at once, without a failure counted, and
 *   any other ends failed;
 * - a cron task whose run ended for good (success or failed) goes on to `scheduled`, to wait for its next fire time;
 *   its reason keeps a failure visible.
 */
export function decideAfterRun(end: RunEnd, task: AfterRunInput): AfterRun {
  let outcome: AfterRun['outcome'];
  let failures = task.failures;
  let reason: string | null = null;
  let delay = 0;
  if ('lost' in end) {
    outcome = task.restartable ? 'ready' : 'failed';
  } else {
    const d = decideAfterExit({ ...task, exit_code: end.exit_code });
    outcome = d.state;
    failures = d.failures;
    reason = end.reason && d.state !== 'success' ? `${end.reason}; ${d.reason}` : d.reason;
    if (d.state === 'ready') delay = d.delay;
  }
  if (!task.cron || outcome === 'ready') return { outcome, state: outcome, failures, reason, delay };
  return { outcome, state: 'scheduled', failures, reason: outcome === 'failed' && reason !== null ? `last run failed: ${reason}` : null, delay };
}

/**
 * What follows an exit 0, for a task not read: success (decideAfterExit's first rule) whatever its retry rules and
 * failures, so only whether it is a cron task matters, which the ledger's statement reads on the row. The unit tests
 * hold that the task's other fields change nothing. `failures` is the count added: none.
 */
export function decideAfterExitZero(cron: boolean): AfterRun {
  return decideAfterRun({ exit_code: 0 }, { cron, restartable: false, recoverable_exitcodes: [], max_failures: 1, failures: 0 });
}
