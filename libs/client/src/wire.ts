import { Type, type Static } from '@sinclair/typebox';
import {
  ErrorReply, FleetEvent, HostEvent, HostList, HostState, Rejection, RunList, RunOutput, Streams, Subjects, TaskEvent, TaskList,
  TaskView, Validators, compile, isTangerineError, type TaskState, type Validator,
} from '@tangerine/contracts';

/**
 * The one place the client learns subjects and schemas from libs/contracts. Each call names an entry here, never a
 * subject or a schema of its own, so that when contracts joins subjects and schemas into one message definition only
 * this file changes.
 */

/** What `hosts.drain` and `hosts.undrain` reply (host-health answers `{host, state}`; contracts has no schema for it). */
export const DrainReply = Type.Object({ host: Type.String(), state: HostState });
export type DrainReply = Static<typeof DrainReply>;

export interface Call<Req, Rep> {
  readonly subject: string;
  readonly request: Validator<Req>;
  readonly reply: Validator<Rep>;
}

function call<Req, Rep>(subject: string, request: Validator<Req>, reply: Validator<Rep>): Call<Req, Rep> {
  return { subject, request, reply };
}

export const Calls = {
  get: call(Subjects.get.subject, Validators.get, compile(TaskView)),
  list: call(Subjects.list.subject, Validators.list, compile(TaskList)),
  runs: call(Subjects.runs.subject, Validators.runs, compile(RunList)),
  output: call(Subjects.output.subject, Validators.output, compile(RunOutput)),
  hostsList: call(Subjects.hostsList.subject, Validators.hostsList, compile(HostList)),
  drain: call(Subjects.hostsDrain.subject, Validators.hostRequest, compile(DrainReply)),
  undrain: call(Subjects.hostsUndrain.subject, Validators.hostRequest, compile(DrainReply)),
} as const;

export const Commands = {
  submit: Subjects.submit.subject,
  cancel: { subject: Subjects.cancel.subject, request: Validators.cancel },
} as const;

export const errorReply = compile(ErrorReply);

/** The kinds of event the TANGERINE_EVENTS stream carries, with the subjects and the schema of each. */
export const EventKinds = {
  task: { wildcard: Subjects.events.wildcard, schema: Validators.taskEvent as Validator<TaskEvent> },
  host: { wildcard: Subjects.hostEvents.wildcard, schema: Validators.hostEvent as Validator<HostEvent> },
  rejection: { wildcard: Subjects.rejected.subject, schema: Validators.rejection as Validator<Rejection> },
  fleet: { wildcard: Subjects.fleetEvents.wildcard, schema: Validators.fleetEvent as Validator<FleetEvent> },
} as const;
export type EventKind = keyof typeof EventKinds;
export const EVENT_KINDS = Object.keys(EventKinds) as EventKind[];

export const eventStream = Streams.events.name;

/** Every event of one task: `tasks.events.<name>.*`. */
export function taskEventsOf(name: string): string {
  // The family's template with a wildcard for the state token.
  return Subjects.events.make(name, '*' as TaskState);
}

/** The kind of an event by its subject, or null for a subject of none (the stream holds only these four). */
export function kindOf(subject: string): EventKind | null {
  for (const kind of EVENT_KINDS) if (subjectMatches(EventKinds[kind].wildcard, subject)) return kind;
  return null;
}

/** NATS subject matching: `*` is one token, `>` one or more at the end. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Parses a value with a schema: the value typed, or `{ field, message }` of its first fault. */
export function check<T>(schema: Validator<T>, value: unknown): { ok: true; value: T } | { ok: false; field: string; message: string } {
  if (schema.check(value)) return { ok: true, value };
  try {
    schema.parse(value);
  } catch (err) {
    if (isTangerineError(err)) return { ok: false, field: err.field ?? 'value', message: err.message };
    throw err;
  }
  return { ok: true, value: value as T };
}
