import { Type, type Static } from '@sinclair/typebox';
import { TaskName, TaskSpec } from './spec.js';
import { TASK_STATES, type TaskState } from './states.js';
import { compile } from './validate.js';


const State = Type.Union(TASK_STATES.map((s) => Type.Literal(s)), { description: TASK_STATES.join(', ') }) as unknown as ReturnType<typeof Type.Unsafe<TaskState>>;
const Timestamp = Type.String({ description: 'ISO 8601 time' });
const HostId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$', description: 'a host id' });

/** A state change, published on `tasks.events.<name>.<state>` with the dedupe id `<name>:<version>`. */
export const TaskEvent = Type.Object({
  name: TaskName,
  state: State,
  /** The state before, null for a first submission. */
  from: Type.Union([State, Type.Null()]),
  /** Runs started so far (the run that this event concerns, for placed/running/success/failed). */
  attempt: Type.Integer({ minimum: 0 }),
  failures: Type.Integer({ minimum: 0 }),
  /** Increases by one on every change of the task's row: with name, it identifies the event. */
  version: Type.Integer({ minimum: 1 }),
  host: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  exit_code: Type.Union([Type.Integer(), Type.Null()]),
  at: Timestamp,
});
export type TaskEvent = Static<typeof TaskEvent>;

/** Published on `tasks.rejected` when a submission or cancel is refused. */
export const Rejection = Type.Object({
  /** The submitted name when there was one that could be read. */
  name: Type.Union([Type.String(), Type.Null()]),
  code: Type.String(),
  /** The field at fault, e.g. `name`, `env.FOO`, `dependencies[1]`. */
  field: Type.Union([Type.String(), Type.Null()]),
  /** `field: rule`, for people. */
  reason: Type.String(),
  /** The submitted payload, shortened to 512 characters. */
  payload: Type.String(),
  at: Timestamp,
});
export type Rejection = Static<typeof Rejection>;

export const CancelRequest = Type.Object({ name: TaskName }, { additionalProperties: false });
export type CancelRequest = Static<typeof CancelRequest>;
export const GetRequest = Type.Object({ name: TaskName }, { additionalProperties: false });
export type GetRequest = Static<typeof GetRequest>;
export const ListRequest = Type.Object(
  {
    state: Type.Optional(State),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    /** Names sorting after this one: pass the last name of a page to get the next. */
    after: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ListRequest = Static<typeof ListRequest>;

/** The placer to one agent: run this attempt of this task. */
export const RunDispatch = Type.Object({
  name: TaskName,
  attempt: Type.Integer({ minimum: 1 }),
  host: HostId,
  spec: TaskSpec,
});
export type RunDispatch = Static<typeof RunDispatch>;

export const RunStop = Type.Object({
  name: TaskName,
  attempt: Type.Integer({ minimum: 1 }),
  reason: Type.String(),
});
export type RunStop = Static<typeof RunStop>;

export const RunStarted = Type.Object({
  name: TaskName,
  attempt: Type.Integer({ minimum: 1 }),
  host: HostId,
  /** Docker container id, or `pid:<n>` for the process executor. */
  run_id: Type.String(),
  at: Timestamp,
});
export type RunStarted = Static<typeof RunStarted>;

export const RunExited = Type.Object({
  name: TaskName,
  attempt: Type.Integer({ minimum: 1 }),
  host: HostId,
  /** Null when the run never started; `reason` says why. */
  exit_code: Type.Union([Type.Integer({ minimum: -2147483648, maximum: 2147483647 }), Type.Null()]),
  /**
   * Set when the run ended before its start was reported: this report then stands for both, and the monitor
   * records the start (placed → running) before the end.
   */
  run_id: Type.Optional(Type.String()),
  reason: Type.Union([Type.String(), Type.Null()]),
  /** The last 64 KiB of stdout and stderr. */
  output: Type.String(),
  started_at: Type.Union([Timestamp, Type.Null()]),
  finished_at: Timestamp,
  /**
   * The run was started by an earlier agent of this host, which died before it could report; its end cannot be
   * known. The monitor applies host health's rule for a lost run (`run_lost`): ready again without a failure counted
   * if the task is restartable, else failed (a cron task waits for its next fire time).
   */
  lost: Type.Optional(Type.Boolean()),
});
export type RunExited = Static<typeof RunExited>;

export const HostAnnounce = Type.Object({
  host: HostId,
  labels: Type.Record(Type.String(), Type.String()),
  /** Runs this host takes at once. */
  slots: Type.Integer({ minimum: 0 }),
  executors: Type.Array(Type.String()),
  /** CPU cores and memory (MiB) the host offers to reservations. */
  cpu: Type.Number({ minimum: 0 }),
  memory: Type.Integer({ minimum: 0 }),
  /** Every run the agent holds (starting, running, or ended and not yet reported): what the ledger is checked against. */
  running: Type.Array(Type.Object({ name: TaskName, attempt: Type.Integer() })),
  /** Slots not taken by those runs. */
  free_slots: Type.Optional(Type.Integer({ minimum: 0 })),
  /**
   * When this agent process started (ISO 8601, the host's clock). A new value means the agent restarted: a run
   * the ledger has running there, started before it and not in `running`, is lost.
   */
  boot: Type.Optional(Timestamp),
  at: Timestamp,
});
export type HostAnnounce = Static<typeof HostAnnounce>;

export const HostState = Type.Union([Type.Literal('up'), Type.Literal('draining'), Type.Literal('down')], { description: '"up", "draining" or "down"' });
export type HostState = Static<typeof HostState>;

/** A host's state change, on `hosts.events.<host>.<state>`. */
export const HostEvent = Type.Object({
  host: HostId,
  state: Type.Union([HostState, Type.Literal('removed')]),
  from: Type.Union([HostState, Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  at: Timestamp,
});
export type HostEvent = Static<typeof HostEvent>;

export const HostRequest = Type.Object({ host: HostId }, { additionalProperties: false });
export type HostRequest = Static<typeof HostRequest>;

/** What `hosts.list` replies for each host. */
export const HostView = Type.Object({
  host: HostId,
  state: HostState,
  labels: Type.Record(Type.String(), Type.String()),
  slots: Type.Integer(),
  executors: Type.Array(Type.String()),
  /** Runs the ledger has placed or running there. */
  running: Type.Array(Type.Object({ name: TaskName, attempt: Type.Integer() })),
  last_seen: Timestamp,
  first_seen: Timestamp,
});
export type HostView = Static<typeof HostView>;

export const RunView = Type.Object({
  attempt: Type.Integer(),
  host: Type.Union([Type.String(), Type.Null()]),
  exit_code: Type.Union([Type.Integer(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  output: Type.String(),
  placed_at: Type.Union([Timestamp, Type.Null()]),
  started_at: Type.Union([Timestamp, Type.Null()]),
  finished_at: Type.Union([Timestamp, Type.Null()]),
});
export type RunView = Static<typeof RunView>;

/** A fire time the cron service acted on. */
export const FireView = Type.Object({
  fire_time: Timestamp,
  /** fired, skipped_busy (a run was still going, concurrency forbid), skipped_deadline (found too late). */
  outcome: Type.Union([Type.Literal('fired'), Type.Literal('skipped_busy'), Type.Literal('skipped_deadline')]),
  /** The first of the earlier fire times this one stands for (they were missed while the cron service was down). */
  missed_from: Type.Union([Timestamp, Type.Null()]),
  /** With concurrency allow: the task that ran this fire time beside a run still going. */
  child: Type.Union([Type.String(), Type.Null()]),
  recorded_at: Timestamp,
});
export type FireView = Static<typeof FireView>;

/** What `tasks.get` replies, and what `tasks.list` replies for each task (without runs). */
export const TaskView = Type.Object({
  name: TaskName,
  state: State,
  failures: Type.Integer(),
  attempt: Type.Integer(),
  reason: Type.Union([Type.String(), Type.Null()]),
  host: Type.Union([Type.String(), Type.Null()]),
  /** Dependencies that have not succeeded yet. */
  pending_dependencies: Type.Array(Type.String()),
  spec: TaskSpec,
  created_at: Timestamp,
  updated_at: Timestamp,
  /** The next fire time (cron) or start time (schedule_at) still to come; null otherwise. */
  next_run_at: Type.Union([Timestamp, Type.Null()]),
  runs: Type.Optional(Type.Array(RunView)),
  /** The latest 20 fire times of a cron or scheduled task, newest first (tasks.get only). */
  fires: Type.Optional(Type.Array(FireView)),
});
export type TaskView = Static<typeof TaskView>;

export const ErrorReply = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});
export type ErrorReply = Static<typeof ErrorReply>;

export const Validators = {
  taskEvent: compile(TaskEvent),
  rejection: compile(Rejection),
  cancel: compile(CancelRequest),
  get: compile(GetRequest),
  list: compile(ListRequest),
  runDispatch: compile(RunDispatch),
  runStop: compile(RunStop),
  runStarted: compile(RunStarted),
  runExited: compile(RunExited),
  hostAnnounce: compile(HostAnnounce),
  hostEvent: compile(HostEvent),
  hostRequest: compile(HostRequest),
} as const;
