import {
  ErrorReply, HostDrained, HostList, RunList, RunOutput, Streams, Subjects, TaskList, TaskView, TemplateList, TemplateView, compile,
  isTangerineError, subjectMatches, type TaskState, type Validator,
} from '@tangerine/contracts';

/**
 * The one place the client learns subjects and schemas from libs/contracts' message definitions: each call names an
 * entry here, never a subject or a schema of its own.
 */

/** What `hosts.drain` and `hosts.undrain` reply: `{host, state}`. */
export const DrainReply = HostDrained;
export type DrainReply = HostDrained;

export interface Call<Req, Rep> {
  readonly subject: string;
  readonly request: Validator<Req>;
  readonly reply: Validator<Rep>;
}

function call<Req, Rep>(subject: string, request: Validator<Req>, reply: Validator<Rep>): Call<Req, Rep> {
  return { subject, request, reply };
}

export const Calls = {
  get: call(Subjects.get.subject, Subjects.get, compile(TaskView)),
  list: call(Subjects.list.subject, Subjects.list, compile(TaskList)),
  runs: call(Subjects.runs.subject, Subjects.runs, compile(RunList)),
  output: call(Subjects.output.subject, Subjects.output, compile(RunOutput)),
  hostsList: call(Subjects.hostsList.subject, Subjects.hostsList, compile(HostList)),
  drain: call(Subjects.hostsDrain.subject, Subjects.hostsDrain, compile(HostDrained)),
  undrain: call(Subjects.hostsUndrain.subject, Subjects.hostsUndrain, compile(HostDrained)),
  templateGet: call(Subjects.templateGet.subject, Subjects.templateGet, compile(TemplateView)),
  templateList: call(Subjects.templateList.subject, Subjects.templateList, compile(TemplateList)),
} as const;

export const Commands = {
  submit: Subjects.submit.subject,
  cancel: { subject: Subjects.cancel.subject, request: Subjects.cancel },
  templatePut: Subjects.templatePut.subject,
} as const;

/** What answers a `templates.put`: `templates.events.<name>` (the wildcard when the name is unknown), or a rejection. */
export const TemplateAnswers = {
  stored: Subjects.templateEvents,
  rejected: Subjects.rejected,
  of: (name: string | null): string => (name === null ? Subjects.templateEvents.wildcard : Subjects.templateEvents.make(name)),
} as const;

/** A run's live output: `output.*.<name>.<attempt>` (whichever host runs it), and the schema of its chunks. */
export const LiveOutput = {
  chunk: Subjects.liveOutput,
  of: (name: string, attempt: number): string => Subjects.liveOutput.make('*', name, attempt),
} as const;

export const errorReply = compile(ErrorReply);

/** The kinds of event the TANGERINE_EVENTS stream carries, with the subjects and the schema of each. */
export const EventKinds = {
  task: { wildcard: Subjects.events.wildcard, schema: Subjects.events },
  host: { wildcard: Subjects.hostEvents.wildcard, schema: Subjects.hostEvents },
  rejection: { wildcard: Subjects.rejected.subject, schema: Subjects.rejected },
  fleet: { wildcard: Subjects.fleetEvents.wildcard, schema: Subjects.fleetEvents },
} as const;
export type EventKind = keyof typeof EventKinds;
export const EVENT_KINDS = Object.keys(EventKinds) as EventKind[];

export const eventStream = Streams.events.name;
/** Where runs' live output is kept while they run (a follower reads it from the start). */
export const outputStream = Streams.output.name;

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

export { subjectMatches };

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
