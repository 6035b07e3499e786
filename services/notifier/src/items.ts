import {
  NOTIFY_STATES, ON_HOST_STATES, type DeadLetter, type FleetEvent, type HostEvent, type NotifyState, type ScalingEvent, type TaskEvent,
} from '@tangerine/contracts';
import type { SkippedFire, TaskFacts } from '@tangerine/ledger';

/**
 * What the notifier may tell of (NOTIFY_EVENTS): a task's end (`failed` for good, `blocked`, `cancelled`,
 * `success`), a host lost with the tasks it held (`host_lost`), the fleet fallen silent (`fleet`), and a message set
 * aside as a dead letter (`dead_letter`), a cron fire time skipped past its starting deadline (`cron_skipped`), the
 * autoscaler's trouble (`scaling_error`: a provider error, a launch given up, an orphan) and its every decision
 * (`scaling`: targets, drains, terminations).
 */
export const NOTIFY_KINDS = [...NOTIFY_STATES, 'host_lost', 'cron_skipped', 'fleet', 'dead_letter', 'scaling', 'scaling_error'] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];
/** Successes and cancels are off unless a task's `notify` asks (or NOTIFY_EVENTS lists them). */
export const DEFAULT_NOTIFY: readonly NotifyKind[] = ['failed', 'blocked', 'host_lost', 'cron_skipped', 'fleet', 'dead_letter', 'scaling_error'];

/** What a message says of one event; stored as JSON in the ledger (notification_items.item). */
export type Item =
  | {
    type: 'task'; task: string; state: NotifyState; attempt: number; max_failures: number | null; host: string | null;
    exit_code: number | null; reason: string | null; output_tail: string | null; duration_s: number | null; at: string;
  }
  /** A task a lost host held; `state` is what became of it (ready again, waiting for its next fire time, failed). */
  | { type: 'task_lost'; task: string; state: string; attempt: number; host: string; reason: string | null; at: string }
  | { type: 'host_down'; host: string; state: 'down'; reason: string | null; at: string }
  | { type: 'fire_skipped'; task: string; state: 'skipped_deadline'; fire_time: string; missed_from: string | null; at: string }
  | { type: 'fleet'; kind: FleetEvent['kind']; state: FleetEvent['kind']; silent: number; total: number; reason: string; at: string }
  | { type: 'dead_letter'; consumer: string; stream: string; subject: string; seq: number; state: string; reason: string; at: string }
  | {
    type: 'scaling'; provider: string; kind: ScalingEvent['kind']; state: ScalingEvent['kind']; from: number | null; to: number | null;
    host: string | null; instance: string | null; code: string | null; reason: string; at: string;
  };

/** An event to record: its identity (one message per event, however often it is delivered), its digest key, the item. */
export interface Notifiable {
  key: string;
  group_key: string;
  item: Item;
}

/**
 * The digest key: events of one key that arrive within the grouping window become one message.
 * - a task's end: its state (`failed`, `blocked`, `cancelled`, `success`): "37 tasks failed in 60 s";
 * - a lost host and the tasks it held: `host/<host>`: "host h3 lost: 12 tasks requeued";
 * - cron fire times skipped past their deadline: `cron`;
 * - the fleet: `fleet`; dead letters: `dead/<consumer>`; the autoscaler: `scaling/<provider>` (only it may publish them).
 * Each key is bounded by something a stranger does not choose (4 states, the hosts, the consumers), so a storm of any
 * size gives at most one message per key per window.
 */
export function groupKey(item: Item): string {
  switch (item.type) {
    case 'task': return item.state;
    case 'task_lost':
    case 'host_down': return `host/${item.host}`;
    case 'fire_skipped': return 'cron';
    case 'fleet': return 'fleet';
    case 'dead_letter': return `dead/${item.consumer}`;
    case 'scaling': return `scaling/${item.provider}`;
  }
}

function notifiable(key: string, item: Item): Notifiable {
  return { key, group_key: groupKey(item), item };
}

/** Reasons of a run lost with its host (host-health's `host_lost`, an agent restarted without it: `run_lost`). */
const LOST_RE = /^(host_lost|run_lost)\b/;

/** A task event's run was lost with its host: told in the host's message, whatever became of the task. */
export function isLost(e: TaskEvent): boolean {
  return e.from !== null && ON_HOST_STATES.includes(e.from) && e.reason !== null && LOST_RE.test(e.reason) && e.host !== null;
}

/** Whether a task event may be told at all, before the ledger is asked about its task (most events are not). */
export function mayNotify(e: TaskEvent): boolean {
  return isLost(e) || (NOTIFY_STATES as readonly string[]).includes(e.state);
}

/**
 * A task event → what to record, or null. A task's own `notify` replaces the task states of NOTIFY_EVENTS for it
 * (`["success", "failed"]`, or `[]` for none); a run lost with its host is told with the host when `host_lost` is on.
 */
export function fromTaskEvent(e: TaskEvent, facts: TaskFacts | undefined, kinds: readonly NotifyKind[]): Notifiable | null {
  const key = `task/${e.name}/${e.version}`;
  if (isLost(e)) {
    if (!kinds.includes('host_lost')) return null;
    return notifiable(key, { type: 'task_lost', task: e.name, state: e.state, attempt: e.attempt, host: e.host!, reason: e.reason, at: e.at });
  }
  if (!(NOTIFY_STATES as readonly string[]).includes(e.state)) return null;
  const state = e.state as NotifyState;
  const wanted: readonly string[] = facts?.notify ?? kinds;
  if (!wanted.includes(state)) return null;
  const ran = facts?.started_at && facts.finished_at ? (facts.finished_at.getTime() - facts.started_at.getTime()) / 1000 : null;
  return notifiable(key, {
    type: 'task', task: e.name, state, attempt: e.attempt, max_failures: facts?.max_failures ?? null, host: e.host,
    exit_code: e.exit_code ?? facts?.exit_code ?? null, reason: e.reason,
    // A blocked or cancelled task's last run is not what it is told for.
    output_tail: state === 'failed' || state === 'success' ? facts?.output_tail ?? null : null,
    duration_s: state === 'failed' || state === 'success' ? ran : null, at: e.at,
  });
}

/** A host marked down → its message (the tasks it held join it); other host changes are not told. */
export function fromHostEvent(e: HostEvent, kinds: readonly NotifyKind[]): Notifiable | null {
  if (e.state !== 'down' || !kinds.includes('host_lost')) return null;
  return notifiable(`host/${e.host}/down/${e.at}`, { type: 'host_down', host: e.host, state: 'down', reason: e.reason, at: e.at });
}

export function fromFleetEvent(e: FleetEvent, kinds: readonly NotifyKind[]): Notifiable | null {
  if (!kinds.includes('fleet')) return null;
  return notifiable(`fleet/${e.kind}/${e.at}`, { type: 'fleet', kind: e.kind, state: e.kind, silent: e.silent, total: e.total, reason: e.reason, at: e.at });
}

/**
 * A dead letter → its message. `own`: the notifier's own consumers, whose dead letters are not told (a message the
 * notifier cannot handle must not feed on itself); they are logged.
 */
export function fromDeadLetter(d: DeadLetter, kinds: readonly NotifyKind[], own: readonly string[]): Notifiable | null {
  if (!kinds.includes('dead_letter') || own.includes(d.consumer)) return null;
  return notifiable(`dead/${d.stream}/${d.consumer}/${d.seq}`, {
    type: 'dead_letter', consumer: d.consumer, stream: d.stream, subject: d.subject, seq: d.seq, state: d.code, reason: d.reason, at: d.at,
  });
}

/** What needs a person of the autoscaler's events: a provider's error, a launch given up, a host whose instance is gone. */
const SCALING_ERRORS: ReadonlySet<ScalingEvent['kind']> = new Set(['error', 'given_up', 'orphan']);

/** An autoscaler event → its message under `scaling/<provider>`: its trouble with `scaling_error`, the rest with `scaling`. */
export function fromScalingEvent(e: ScalingEvent, kinds: readonly NotifyKind[]): Notifiable | null {
  if (!kinds.includes(SCALING_ERRORS.has(e.kind) ? 'scaling_error' : 'scaling')) return null;
  return notifiable(`scaling/${e.provider}/${e.kind}/${e.host ?? e.instance ?? ''}/${e.at}`, {
    type: 'scaling', provider: e.provider, kind: e.kind, state: e.kind, from: e.from ?? null, to: e.to ?? null, host: e.host ?? null,
    instance: e.instance ?? null, code: e.code ?? null, reason: e.reason, at: e.at,
  });
}

/** A fire time the cron service skipped past its starting deadline → its message, under `cron`. */
export function fromSkippedFire(f: SkippedFire, kinds: readonly NotifyKind[]): Notifiable | null {
  if (!kinds.includes('cron_skipped')) return null;
  const fire = f.fire_time.toISOString();
  return notifiable(`fire/${f.task}/${fire}`, {
    type: 'fire_skipped', task: f.task, state: 'skipped_deadline', fire_time: fire, missed_from: f.missed_from?.toISOString() ?? null,
    at: f.recorded_at.toISOString(),
  });
}
