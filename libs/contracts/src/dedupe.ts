import type { FleetEvent, HostEvent, ScalingEvent, TaskEvent } from './messages.js';

declare const dedupe: unique symbol;

/**
 * A JetStream dedupe id (`Nats-Msg-Id`): the stream drops a second message with the same id inside its duplicate
 * window (120 s). Only the functions of DedupeIds make one, so every sender of a kind of message builds its id the
 * same way: two senders of one fact (a placer and the one that took over, a redelivered batch) send one id.
 */
export type DedupeId = string & { readonly [dedupe]: true };

const id = (text: string): DedupeId => text as DedupeId;

export const DedupeIds = {
  /**
   * A task's state change, `<name>:<version>:<state>` (the README's Subjects table): the row's version only ever
   * grows, so it names one change, however often the change is published again (host-health's outbox sweep).
   */
  event: (e: Pick<TaskEvent, 'name' | 'version' | 'state'>): DedupeId => id(`${e.name}:${e.version}:${e.state}`),
  /** A run sent to its host's agent: one per attempt, whichever placer sends it. */
  run: (name: string, attempt: number): DedupeId => id(`run:${name}:${attempt}`),
  /** The stop of a cancelled task's run. */
  stop: (name: string, attempt: number): DedupeId => id(`stop:${name}:${attempt}`),
  /** The stop of a run a host still holds though the ledger moved on from it (fencing): one per host and attempt. */
  stale: (host: string, name: string, attempt: number): DedupeId => id(`stale:${host}:${name}:${attempt}`),
  /**
   * An agent's report that a run started, `started:<session>:<name>:<attempt>`. `session` is random at each agent
   * process's start and never published elsewhere: the stream's dedupe spans every subject, so an id anyone could
   * make would let another host's agent, reporting first under it on its own subject, have the genuine report
   * dropped as a duplicate. Two agents of one host reporting one run both count; the monitor's compare-and-set keeps
   * the first.
   */
  started: (session: string, name: string, attempt: number): DedupeId => id(`started:${session}:${name}:${attempt}`),
  /** An agent's report that a run ended (or never started, or was lost): one per attempt and agent process, whatever its content. */
  exited: (session: string, name: string, attempt: number): DedupeId => id(`exited:${session}:${name}:${attempt}`),
  /** A host's state change, at the moment host-health decided it. */
  host: (e: Pick<HostEvent, 'host' | 'state' | 'at'>): DedupeId => id(`host:${e.host}:${e.state}:${e.at}`),
  /** A change in what host-health says of the fleet. */
  fleet: (e: Pick<FleetEvent, 'kind' | 'at'>): DedupeId => id(`fleet:${e.kind}:${e.at}`),
  /** An autoscaler decision or outcome: one per provider, kind, host or instance and moment, whichever replica sends it. */
  scaling: (e: Pick<ScalingEvent, 'provider' | 'kind' | 'host' | 'instance' | 'at'>): DedupeId =>
    id(`scaling:${e.provider}:${e.kind}:${e.host ?? e.instance ?? ''}:${e.at}`),
  /** A message set aside: one dead letter per stream message, however often it is set aside. */
  dead: (stream: string, seq: number): DedupeId => id(`dead:${stream}:${seq}`),
  /** The answer to a `templates.put`: one per command, however often it is handled. */
  template: (seq: number): DedupeId => id(`template:${seq}`),
  /** A command's rejection: its stream sequence, or `<seq>:<index>` for one spec of a list. */
  rejection: (key: string | number): DedupeId => id(`reject:${key}`),
} as const;
