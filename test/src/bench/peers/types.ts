// Shared shapes of the peer runners (pg-boss, graphile-worker, a plain Docker loop) the bench driver compares
// Tangerine against.

/** `single`: one call per job, as a user would make them; `batch`: the fastest batch form the peer offers. */
export type SubmitMode = 'single' | 'batch';

export interface QueueRun {
  peer: string;
  version: string;
  mode: SubmitMode;
  jobs: number;
  concurrency: number;
  /** From the first submit to the last job completion as recorded by the peer in PostgreSQL. */
  seconds: number;
  jobsPerSecond: number;
  /** The settings the run used, in words: worker processes, concurrency knobs, polling, submission. */
  settings: string;
}

/** Options every queue runner takes; the optional ones default to the settings documented in each runner. */
export interface QueueRunOptions {
  databaseUrl: string;
  jobs: number;
  /** Total jobs running at once, over all worker processes (the driver passes Tangerine's agents × slots). */
  concurrency: number;
  mode: SubmitMode;
  /** Worker processes the concurrency is split over; default 2, as Tangerine's bench runs 2 agents. */
  workerProcesses?: number;
  /** Gives up (and throws) when the jobs have not all completed by then; default 10 minutes. */
  timeoutMs?: number;
}
