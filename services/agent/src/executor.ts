import type { RunDispatch } from '@tangerine/contracts';

/** The end of a run as an executor sees it. */
export interface RunEnd {
  exit_code: number | null;
  reason: string | null;
  output: string;
  started_at: string | null;
  finished_at: string;
  /** Set when the run did not end on its own (its process launcher died): it is reported lost with this reason. */
  lost?: string;
}

export interface StopOptions {
  /** Kill at once (SIGKILL), without the grace period a stop gives: what a timeout does. */
  kill?: boolean;
}

/** Where a followed run's output goes. */
export interface OutputSink {
  write(bytes: Buffer): void;
  skip(bytes: number): void;
}

export interface StartedRun {
  /** Container id or `pid:<n>`. */
  runId: string;
  startedAt: string;
  /** Resolves when the run ends; never rejects. */
  done: Promise<RunEnd>;
  /** Asks the run to end (SIGTERM, then SIGKILL after the grace period; or SIGKILL at once) and waits for `done`. */
  stop(reason: string, options?: StopOptions): Promise<void>;
  /**
   * Follows the run's output as it comes (its live output): `sink` gets its bytes in order from now on, and `skip`
   * the count of bytes jumped over unread. Returns the stop, called when the run has ended (it reads what is left,
   * as far as it can, then lets go of every timer and stream). Optional: a run without it has no live output.
   */
  follow?(sink: OutputSink): () => void;
  /**
   * Removes what the ended run leaves (a container), called once its exit report is stored: an agent that dies
   * in between leaves the container to the next agent, which reports the exit again (a duplicate, dropped).
   */
  cleanup?(): Promise<void>;
}

/** A run a previous agent of this host started and left behind, found again when an agent starts. */
export interface AdoptedRun {
  name: string;
  attempt: number;
  /** The spec's timeout in seconds, measured from `run.startedAt`; null: none. */
  timeout: number | null;
  /** False when the run had already ended when found: `run.done` then resolves at once. */
  running: boolean;
  run: StartedRun;
}

export interface Executor {
  readonly kind: string;
  /**
   * Its runs often end within moments (processes): their start report waits START_REPORT_DELAY, so a quick run
   * costs one report and one ledger statement, not two. A container's start is reported at once: its run rarely
   * ends that fast, and a user watching `running` should not wait for nothing.
   */
  readonly coalescesQuickRuns: boolean;
  /**
   * Starts the run (or finds it already started, after a redelivery) and returns once it is running. `workDir`: the
   * host directory holding the run's files (RunFiles), made its working directory; null when it has none.
   */
  start(run: RunDispatch, workDir?: string | null): Promise<StartedRun>;
  /**
   * The runs a previous agent with this host id left on the host, running or ended and not yet cleaned up.
   * Only executors whose runs outlive the agent can offer this.
   */
  adopt?(host: string): Promise<AdoptedRun[]>;
}

export class ExecutorError extends Error {
  override readonly name = 'ExecutorError';
}

/** The run was started by an earlier agent of this host, which died before it could report it: it is lost. */
export class StartedBeforeError extends Error {
  override readonly name = 'StartedBeforeError';
}
