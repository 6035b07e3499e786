/**
 * The task state machine. Users see every state; `placed` is the short window between
 * the placer choosing a host and that host's agent starting the run.
 */
export const TaskState = {
  /** A dependency has not succeeded yet. */
  waiting: 'waiting',
  /** Waits for its start time (`schedule_at`) or, for a cron task, its next fire time (`next_run_at`). */
  scheduled: 'scheduled',
  /** Every dependency succeeded; the task waits for a host with a free slot. */
  ready: 'ready',
  /** A host was chosen and the run was sent to its agent (internal, short-lived). */
  placed: 'placed',
  /** The agent started the container or process. */
  running: 'running',
  /** The last run exited 0. */
  success: 'success',
  /** The last run failed and the retry rules allow no other. */
  failed: 'failed',
  /** A dependency ended without success; `reason` names it. The task never runs. */
  blocked: 'blocked',
  /** Cancelled by `tasks.cancel`; a running container was stopped. */
  cancelled: 'cancelled',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

export const TASK_STATES: readonly TaskState[] = Object.values(TaskState);

/** States a task does not leave on its own. A finished task may be submitted again. */
export const FINISHED_STATES: readonly TaskState[] = ['success', 'failed', 'blocked', 'cancelled'];

/** States that end a task without success: its waiting or scheduled dependents are blocked. */
export const UNSUCCESSFUL_STATES: readonly TaskState[] = ['failed', 'blocked', 'cancelled'];

/**
 * States a task was put in from outside, not by its own run (a cancel, a dependency that ended without success):
 * a success before one no longer counts for its dependents.
 */
export const STOPPED_STATES: readonly TaskState[] = ['blocked', 'cancelled'];

/** States that hold a slot on a host. */
export const ON_HOST_STATES: readonly TaskState[] = ['placed', 'running'];

/** States from which a task can be cancelled. */
export const CANCELLABLE_STATES: readonly TaskState[] = ['waiting', 'scheduled', 'ready', 'placed', 'running'];

/** States in which a dependency that ended without success blocks the task: it has not started. */
export const BLOCKABLE_STATES: readonly TaskState[] = ['waiting', 'scheduled'];

/** States in which a cron task's fire time finds no run due or going: it can start one. */
export const IDLE_STATES: readonly TaskState[] = ['scheduled', 'success', 'failed'];

/**
 * Every transition the services make. Anything else is a bug: the ledger refuses it (migration 008's trigger, whose
 * list a test holds equal to this one).
 */
export const TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  waiting: ['ready', 'blocked', 'cancelled'],
  // At its time: ready, or waiting while a dependency has not succeeded. A dependency that fails blocks it.
  scheduled: ['ready', 'waiting', 'blocked', 'cancelled'],
  ready: ['placed', 'cancelled'],
  // scheduled: a cron task that may not restart lost its host, and waits for its next fire time.
  placed: ['running', 'success', 'ready', 'failed', 'scheduled', 'cancelled'],
  running: ['success', 'ready', 'failed', 'scheduled', 'cancelled'],
  // A finished task may be submitted again: it starts over as waiting, scheduled or ready (or blocked at once).
  // A cron task goes on from success or failed to scheduled, in the same statement that records its run.
  success: ['waiting', 'scheduled', 'ready', 'blocked'],
  failed: ['waiting', 'scheduled', 'ready', 'blocked'],
  blocked: ['waiting', 'scheduled', 'ready', 'blocked'],
  cancelled: ['waiting', 'scheduled', 'ready', 'blocked'],
};

export function isFinished(state: TaskState): boolean {
  return FINISHED_STATES.includes(state);
}

export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * States a task moves to when it leaves a host (every transition out of ON_HOST_STATES to a state off the host):
 * each frees the slot its run held. Derived, so a new way off a host cannot be forgotten here.
 */
export const SLOT_FREEING_STATES: readonly TaskState[] = [
  ...new Set(ON_HOST_STATES.flatMap((s) => TRANSITIONS[s]).filter((s) => !ON_HOST_STATES.includes(s))),
];

export function isTaskState(value: unknown): value is TaskState {
  return typeof value === 'string' && (TASK_STATES as readonly string[]).includes(value);
}
