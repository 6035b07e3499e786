import { Type, type Static } from '@sinclair/typebox';
import { Limits } from './limits.js';
import { TaskName, TaskSpec } from './spec.js';
import { NAME_PATTERN } from './names.js';
import { TASK_STATES, type TaskState } from './states.js';

const State = Type.Union(TASK_STATES.map((s) => Type.Literal(s)), { description: TASK_STATES.join(', ') }) as unknown as ReturnType<typeof Type.Unsafe<TaskState>>;
const Timestamp = Type.String({ description: 'ISO 8601 time' });
const HostId = Type.String({ pattern: NAME_PATTERN, description: 'a host id' });

/** A state change, published on `tasks.events.<name>.<state>` with the dedupe id `<name>:<version>:<state>` (DedupeIds.event). */
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
  /**
   * The stream sequence of the command refused: what a `nats req tasks.submit` got in its publish ack (`seq`), so a
   * client matches its rejection without relying on the name. Null when not known.
   */
  seq: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
  /** For a spec of a JSON list (the batch form): its index in the list; null otherwise. */
  index: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  at: Timestamp,
});
export type Rejection = Static<typeof Rejection>;

export const CancelRequest = Type.Object({ name: TaskName }, { additionalProperties: false });
export type CancelRequest = Static<typeof CancelRequest>;
export const GetRequest = Type.Object({ name: TaskName }, { additionalProperties: false });
export type GetRequest = Static<typeof GetRequest>;
const Cursor = Type.String({ maxLength: 200 });
/** A page's size: at most Limits.pageItems are returned, whatever is asked (and fewer when the page is full in bytes). */
const PageLimit = Type.Integer({ minimum: 1, maximum: 1_000_000 });

export const ListRequest = Type.Object(
  {
    state: Type.Optional(State),
    /** Tasks whose name starts with this. */
    prefix: Type.Optional(Type.String({ maxLength: 100 })),
    limit: Type.Optional(PageLimit),
    /** Names sorting after this one: pass the reply's `next` to get the next page. */
    after: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
export type ListRequest = Static<typeof ListRequest>;

/** `tasks.runs`: a task's runs, newest first, a page at a time. */
export const RunsRequest = Type.Object(
  {
    name: TaskName,
    /** Runs with an attempt below this one: pass the reply's `next`. */
    before: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Optional(PageLimit),
  },
  { additionalProperties: false },
);
export type RunsRequest = Static<typeof RunsRequest>;

/** `tasks.output`: one run's whole stored output (its last 64 KiB). */
export const OutputRequest = Type.Object({ name: TaskName, attempt: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
export type OutputRequest = Static<typeof OutputRequest>;

export const HostsListRequest = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('up'), Type.Literal('draining'), Type.Literal('down')], { description: '"up", "draining" or "down"' })),
    limit: Type.Optional(PageLimit),
    /** Host ids sorting after this one: pass the reply's `next`. */
    after: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);
export type HostsListRequest = Static<typeof HostsListRequest>;

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
  /** The host told to stop it: an agent ignores a stop that names another host than its own. */
  host: HostId,
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
  reason: Type.Union([Type.String({ maxLength: 4096 }), Type.Null()]),
  /** The last 64 KiB of stdout and stderr. */
  output: Type.String({ maxLength: Limits.outputBytes }),
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
  labels: Type.Record(Type.String({ maxLength: 63 }), Type.String({ maxLength: 256 }), { maxProperties: Limits.constraints }),
  /** Runs this host takes at once. */
  slots: Type.Integer({ minimum: 0, maximum: 100_000 }),
  executors: Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 }),
  /** CPU cores and memory (MiB) the host offers to reservations. */
  cpu: Type.Number({ minimum: 0 }),
  memory: Type.Integer({ minimum: 0 }),
  /** Every run the agent holds (starting, running, or ended and not yet reported): what the ledger is checked against. */
  running: Type.Array(Type.Object({ name: TaskName, attempt: Type.Integer() }), { maxItems: 100_000 }),
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

/** What `hosts.drain` and `hosts.undrain` reply: the host's state now. */
export const HostDrained = Type.Object({ host: HostId, state: HostState });
export type HostDrained = Static<typeof HostDrained>;

/** What `hosts.list` replies for each host. */
export const HostView = Type.Object({
  host: HostId,
  state: HostState,
  labels: Type.Record(Type.String(), Type.String()),
  slots: Type.Integer(),
  executors: Type.Array(Type.String()),
  /** Runs the ledger has placed or running there (the first 1,000 by name; `running_count` counts them all). */
  running: Type.Array(Type.Object({ name: TaskName, attempt: Type.Integer() })),
  running_count: Type.Integer(),
  last_seen: Timestamp,
  first_seen: Timestamp,
});
export type HostView = Static<typeof HostView>;

export const RunView = Type.Object({
  attempt: Type.Integer(),
  host: Type.Union([Type.String(), Type.Null()]),
  exit_code: Type.Union([Type.Integer(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  /** The output's tail: its last 4,096 characters in tasks.get and tasks.runs, all of it in tasks.output. */
  output: Type.String(),
  /** Characters of output the ledger holds for the run (its last 64 KiB); more than `output` has when cut. */
  output_chars: Type.Integer({ minimum: 0 }),
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
/**
 * The EC2 instance launched for a task with `instance` (its latest), as job-scheduler's `/status` showed its `aws`
 * part: the instance id (null until EC2 answered the launch), EC2's state (`launching` before that), its addresses.
 */
export const TaskInstanceView = Type.Object({
  instance_id: Type.Union([Type.String(), Type.Null()]),
  state: Type.String(),
  type: Type.String(),
  spot: Type.Boolean(),
  /** The host id its agent announces. */
  host: Type.String(),
  address: Type.Union([Type.String(), Type.Null()]),
  private_address: Type.Union([Type.String(), Type.Null()]),
  dns_name: Type.Union([Type.String(), Type.Null()]),
  /** The AWS error code of the last failed call for it (InsufficientInstanceCapacity, …); null after a success. */
  error_code: Type.Union([Type.String(), Type.Null()]),
  /** Why it was ended (terminated: the task ended; lost: EC2 ended it); null while it serves the task. */
  reason: Type.Union([Type.String(), Type.Null()]),
  asked_at: Timestamp,
  launched_at: Type.Union([Timestamp, Type.Null()]),
  ended_at: Type.Union([Timestamp, Type.Null()]),
});
export type TaskInstanceView = Static<typeof TaskInstanceView>;

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
  /** A ready task waiting out its retry backoff: the moment its next attempt may be placed; null otherwise. */
  retry_at: Type.Union([Timestamp, Type.Null()]),
  /** The latest runs, newest first (tasks.get only; `tasks.runs` pages the older ones). */
  runs: Type.Optional(Type.Array(RunView)),
  /** How many runs the ledger holds for the task (tasks.get only). */
  runs_total: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The latest 20 fire times of a cron or scheduled task, newest first (tasks.get only). */
  fires: Type.Optional(Type.Array(FireView)),
  /** Its own EC2 instance, for a task with `instance` that has had one (tasks.get only). */
  instance: Type.Optional(TaskInstanceView),
  /** The template the spec named (its name), merged into `spec`; null for a spec that named none. */
  template: Type.Union([Type.String(), Type.Null()]),
  /** The version of that template that was merged (the latest when the spec named no version). */
  template_version: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
});
export type TaskView = Static<typeof TaskView>;

/** `tasks.list`: a page of tasks by name; `next` is the cursor of the next page, null after the last. */
export const TaskList = Type.Object({ tasks: Type.Array(TaskView), next: Type.Union([Type.String(), Type.Null()]) });
export type TaskList = Static<typeof TaskList>;

/** `tasks.runs`: a page of runs, newest first; `next` is the `before` of the next page, null after the last. */
export const RunList = Type.Object({ name: TaskName, runs: Type.Array(RunView), next: Type.Union([Type.Integer(), Type.Null()]) });
export type RunList = Static<typeof RunList>;

/** `tasks.output`: the whole output the ledger holds for one run. */
export const RunOutput = Type.Object({ name: TaskName, attempt: Type.Integer(), output: Type.String() });
export type RunOutput = Static<typeof RunOutput>;

/**
 * `output.<host>.<name>.<attempt>` (core NATS, kept a day by TANGERINE_OUTPUT): a piece of a running run's output, as
 * the agent reads it, at most every 250 ms. The ledger keeps the run's last 64 KiB at its end.
 */
export const OutputChunk = Type.Object({
  name: TaskName,
  attempt: Type.Integer({ minimum: 1 }),
  host: HostId,
  /** Characters of the run's output before this chunk's data, those skipped included. */
  offset: Type.Integer({ minimum: 0 }),
  /** The output that follows, at most Limits.outputChunkChars characters. */
  data: Type.String({ maxLength: Limits.outputChunkChars }),
  /** Characters of output left out just before `data` (the run printed more than the agent sends in a second). */
  skipped: Type.Optional(Type.Integer({ minimum: 0 })),
  /** When the agent read it. */
  at: Timestamp,
});
export type OutputChunk = Static<typeof OutputChunk>;

/** `hosts.list`: a page of hosts by id. */
export const HostList = Type.Object({ hosts: Type.Array(HostView), next: Type.Union([Type.String(), Type.Null()]) });
export type HostList = Static<typeof HostList>;

/**
 * A message set aside because it can never be handled: it did not match its schema, or it failed every try, or it
 * was delivered so many times without an answer that its handler must be crashing on it. Published on
 * `deadletters.<consumer>` and kept in the stream TANGERINE_DEAD.
 */
export const DeadLetter = Type.Object({
  /** The stream and the durable consumer the message came through. */
  stream: Type.String(),
  consumer: Type.String(),
  subject: Type.String(),
  /** Its sequence in `stream`. */
  seq: Type.Integer({ minimum: 1 }),
  /** How many times JetStream delivered it. */
  deliveries: Type.Integer({ minimum: 0 }),
  /** `invalid_message`, `unprocessable`, or the code of the error it failed with. */
  code: Type.String(),
  reason: Type.String(),
  /** The payload, its env values hidden, shortened to 512 characters. */
  payload: Type.String(),
  /** Its size in bytes. */
  bytes: Type.Integer({ minimum: 0 }),
  at: Timestamp,
});
export type DeadLetter = Static<typeof DeadLetter>;

/**
 * What host-health says of the fleet as a whole, on `fleet.events.<kind>`: `silence_suspected` when so many hosts
 * fell silent at once that it points to the network rather than to the hosts (none of them is marked down while it
 * lasts, up to HOST_SILENCE_HOLD), `silence_cleared` when that ends.
 */
export const FleetEvent = Type.Object({
  kind: Type.Union([Type.Literal('silence_suspected'), Type.Literal('silence_cleared')]),
  /** Hosts silent for half of HOST_TIMEOUT or more, and hosts up or draining in all. */
  silent: Type.Integer({ minimum: 0 }),
  total: Type.Integer({ minimum: 0 }),
  reason: Type.String(),
  at: Timestamp,
});
export type FleetEvent = Static<typeof FleetEvent>;

/** What the autoscaler decided or what came of it, `scaling.events.<provider>.<kind>` (services/autoscaler README). */
export const ScalingEventKind = Type.Union([
  Type.Literal('target'), Type.Literal('drain'), Type.Literal('undrain'), Type.Literal('terminate'), Type.Literal('given_up'),
  Type.Literal('orphan'), Type.Literal('error'), Type.Literal('reconciled'), Type.Literal('launch'),
], { description: '"target", "drain", "undrain", "terminate", "given_up", "orphan", "error", "reconciled" or "launch"' });
export type ScalingEventKind = Static<typeof ScalingEventKind>;

/**
 * One autoscaler decision or outcome: `target` (the capacity asked of the provider, from → to), `drain` (an idle host
 * drained for scale-down), `undrain` (that drain undone: the host took a task, or work came back), `terminate` (a drained,
 * empty host's instance terminated), `given_up` (an instance asked for that never joined), `orphan` (a host still listed
 * whose instance is gone), `error` (the provider failed, with its own code: scaling backs off), `reconciled` (a record put
 * right at start), `launch` (an instance launched for one task: provider `task-instance`, whose `terminate` is that
 * instance terminated once its task ended, or a stray one swept).
 */
export const ScalingEvent = Type.Object({
  provider: Type.String({ minLength: 1, maxLength: 64 }),
  kind: ScalingEventKind,
  from: Type.Optional(Type.Integer({ minimum: 0 })),
  to: Type.Optional(Type.Integer({ minimum: 0 })),
  host: Type.Optional(HostId),
  instance: Type.Optional(Type.String({ maxLength: 256 })),
  /** The provider's own error code (an AWS code such as RequestLimitExceeded), for `error`. */
  code: Type.Optional(Type.String({ maxLength: 128 })),
  reason: Type.String({ maxLength: 1000 }),
  at: Timestamp,
});
export type ScalingEvent = Static<typeof ScalingEvent>;

export const ErrorReply = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
});
export type ErrorReply = Static<typeof ErrorReply>;

/** Ready tasks waiting for a host, grouped by the host labels they need (`constraints`, `{}` for none). */
export const ReadyByLabels = Type.Object({ constraints: Type.Record(Type.String(), Type.String()), count: Type.Integer({ minimum: 0 }) });
export type ReadyByLabels = Static<typeof ReadyByLabels>;

/** Runs that ended in one minute: `succeeded` with exit code 0, `failed` otherwise (killed, lost, timed out too). */
export const MinuteCount = Type.Object({ minute: Timestamp, succeeded: Type.Integer({ minimum: 0 }), failed: Type.Integer({ minimum: 0 }) });
export type MinuteCount = Static<typeof MinuteCount>;

/** `GET /v1/overview`: the queue at a glance, what the status page's first view shows. */
/** One provider the autoscaler scales: the capacity it asked for, and what its last evaluation saw. */
export const ScalingSummary = Type.Object({
  provider: Type.String(),
  /** The target the autoscaler last set. */
  desired: Type.Integer({ minimum: 0 }),
  /** Instances the provider has, joined or not; `starting`: of them, not joined yet; `draining`: drained to go. */
  actual: Type.Integer({ minimum: 0 }),
  starting: Type.Integer({ minimum: 0 }),
  draining: Type.Integer({ minimum: 0 }),
  /** When the last evaluation saw them; null before the first one. */
  seen_at: Type.Union([Timestamp, Type.Null()]),
});
export type ScalingSummary = Static<typeof ScalingSummary>;

export const Overview = Type.Object({
  /** Tasks per state, every state present. */
  counts: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  /** The largest groups first, at most Limits.overviewLabelSets of them. */
  ready_by_labels: Type.Array(ReadyByLabels),
  /** The last hour's ended runs per minute, oldest first, every minute present (60 of them). */
  minutes: Type.Array(MinuteCount),
  /** The autoscaler's providers (none when no autoscaler runs). */
  scaling: Type.Array(ScalingSummary),
  at: Timestamp,
});
export type Overview = Static<typeof Overview>;

/** One task of a workflow graph; `state` null for a dependency named but not submitted. */
export const GraphNode = Type.Object({ name: Type.String(), state: Type.Union([State, Type.Null()]) });
export type GraphNode = Static<typeof GraphNode>;
/** `to` depends on `from`: `from` runs first. */
export const GraphEdge = Type.Object({ from: Type.String(), to: Type.String() });
export type GraphEdge = Static<typeof GraphEdge>;

/** `GET /v1/tasks/<name>/graph`: the task's workflow, every task upstream and downstream of it. */
export const TaskGraph = Type.Object({
  name: TaskName,
  nodes: Type.Array(GraphNode),
  edges: Type.Array(GraphEdge),
  /** More tasks than Limits.graphNodes are connected: the nodes are the nearest ones, breadth first. */
  truncated: Type.Boolean(),
});
export type TaskGraph = Static<typeof TaskGraph>;

/** A task with a start still to come: a cron task's next fire time, or a `schedule_at` task's start. */
export const UpcomingTask = Type.Object({
  name: TaskName,
  state: State,
  next_run_at: Timestamp,
  cron: Type.Union([Type.String(), Type.Null()]),
  timezone: Type.Union([Type.String(), Type.Null()]),
  schedule_at: Type.Union([Type.String(), Type.Null()]),
});
export type UpcomingTask = Static<typeof UpcomingTask>;

/** `GET /v1/schedule`: tasks by their next start, soonest first, up to `until`. */
export const Schedule = Type.Object({ tasks: Type.Array(UpcomingTask), until: Timestamp, truncated: Type.Boolean() });
export type Schedule = Static<typeof Schedule>;

export const ScheduleRequest = Type.Object({
  /** Hours ahead to look, 1 to 720 (30 days); 24 unless given. */
  hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 720 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
}, { additionalProperties: false });
export type ScheduleRequest = Static<typeof ScheduleRequest>;
