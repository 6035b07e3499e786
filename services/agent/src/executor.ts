import type { RunDispatch } from '@tangerine/contracts';

/** The end of a run as an executor sees it. */
export interface RunEnd {
  exit_code: number | null;
  reason: string | null;
  output: string;
  started_at: string | null;
  finished_at: string;
}

export interface StartedRun {
  /** Container id or `pid:<n>`. */
  runId: string;
  startedAt: string;
  /** Resolves when the run ends; never rejects. */
  done: Promise<RunEnd>;
  stop(reason: string): Promise<void>;
}

export interface Executor {
  readonly kind: string;
  /** Starts the run (or finds it already started, after a redelivery) and returns once it is running. */
  start(run: RunDispatch): Promise<StartedRun>;
}

export class ExecutorError extends Error {
  override readonly name = 'ExecutorError';
}
