import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { TaskState } from './states.js';
import {
  CancelRequest, DeadLetter, FleetEvent, ScalingEvent, GetRequest, HostAnnounce, HostDrained, HostEvent, HostList, HostRequest, HostsListRequest, ListRequest,
  OutputChunk, OutputRequest, Rejection, RunDispatch, RunExited, RunList, RunOutput, RunsRequest, RunStarted, RunStop, TaskEvent, TaskList, TaskView,
} from './messages.js';
import { TemplateGetRequest, TemplateList, TemplateListRequest, TemplateStored, TemplateView } from './templates.js';
import { compile, type Validator } from './validate.js';

/**
 * A message definition: one subject, the schema of what it carries, and (through the schema) its TypeScript type.
 * Sender and receiver import the same value: the sender publishes a payload of its type on its subject (libs/bus
 * `outgoing`), the receiver parses with it (`decode(data, Subjects.runStarted)`, or `Subjects.runStarted.parse`).
 */
export interface Message<T> extends Validator<T> {
  readonly subject: string;
  readonly schema: TSchema;
}

/** A family of subjects with tokens, such as `tasks.events.<name>.<state>`, each carrying the same message. */
export interface MessageFamily<T, A extends unknown[]> extends Validator<T> {
  /** The wildcard form, for subscriptions and stream subjects. */
  readonly wildcard: string;
  readonly schema: TSchema;
  /** The subject of one member, e.g. to compare with a received message's subject. */
  make(...args: A): string;
  /** One member as a message definition, to publish on. */
  at(...args: A): Message<T>;
  /**
   * The tokens a subject has where the wildcard has `*` (`runs.*.exited` and `runs.h1.exited`: `['h1']`), or null when
   * the wildcard does not take it: what a receiver reads from the subject, such as the host a report came from.
   */
  match(subject: string): string[] | null;
}

/** A request/reply subject: the request's definition, and the schema of its reply. */
export interface Request<T, R> extends Message<T> {
  readonly reply: TSchema;
  /** What an empty (or null) request stands for (`tasks.list` with nothing asked); without it, one is refused. */
  readonly empty?: T;
  /** Phantom field: never set, only carries R. */
  readonly __reply?: R;
}

/** The payload type a definition carries: `TypeOf<typeof Subjects.runStarted>` is RunStarted. */
export type TypeOf<D> = D extends Validator<infer T> ? T : never;

export function defineMessage<S extends TSchema>(subject: string, schema: S): Message<Static<S>> {
  return { subject, schema, ...compile(schema) };
}

export function defineFamily<S extends TSchema, A extends unknown[]>(
  wildcard: string, schema: S, make: (...args: A) => string,
): MessageFamily<Static<S>, A> {
  const validator = compile(schema);
  return {
    wildcard, schema, ...validator, make, at: (...args) => ({ subject: make(...args), schema, ...validator }),
    match: (subject) => wildcardTokens(wildcard, subject),
  };
}

export function defineRequest<S extends TSchema, R extends TSchema>(
  subject: string, schema: S, reply: R, options: { empty?: Static<S> } = {},
): Request<Static<S>, Static<R>> {
  return { ...defineMessage(subject, schema), reply, ...options };
}

/**
 * A task spec, or a JSON list of them. Not a TypeBox check: intake reads it with parseTaskSpec, which judges each
 * spec of a list on its own and gives the field and the rule of the first fault.
 */
const Submission = Type.Unknown({ description: 'a task spec, or a JSON list of task specs' });

/** Every subject Tangerine uses, with what it carries. The README's "Subjects" table is the user's view of it. */
export const Subjects = {
  /** Public: submit a task spec. Captured by the COMMANDS stream, so a plain `nats pub` is never lost. */
  submit: defineMessage('tasks.submit', Submission),
  /** Public: `{"name"}` cancels a task and stops its container. Captured by the COMMANDS stream. */
  cancel: defineMessage('tasks.cancel', CancelRequest),
  /** Public: a submission or a cancel that was refused, with the field and the rule. */
  rejected: defineMessage('tasks.rejected', Rejection),
  /** Public request/reply: one task with its runs. */
  get: defineRequest('tasks.get', GetRequest, TaskView),
  /** Public request/reply: tasks by name, filterable by state and name prefix, a page at a time. */
  list: defineRequest('tasks.list', ListRequest, TaskList, { empty: {} }),
  /** Public request/reply: a task's runs, newest first, a page at a time, their output cut to its tail. */
  runs: defineRequest('tasks.runs', RunsRequest, RunList),
  /** Public request/reply: the whole output of one run. */
  output: defineRequest('tasks.output', OutputRequest, RunOutput),
  /** Public: every state change, `tasks.events.<name>.<state>`. */
  events: defineFamily('tasks.events.>', TaskEvent, (name: string, state: TaskState) => `tasks.events.${name}.${state}`),
  /** Events of one state for every task, e.g. `tasks.events.*.success`: a subscription or a consumer's filter. */
  eventsInState: (state: TaskState): string => `tasks.events.*.${state}`,
  /** Internal: the placer sends a run to one host's agent, `agents.<host>.run`. */
  agentRun: defineFamily('agents.*.run', RunDispatch, (host: string) => `agents.${host}.run`),
  /** Internal: stop a run on one host (a cancel, or a run the ledger moved on from), `agents.<host>.stop`. */
  agentStop: defineFamily('agents.*.stop', RunStop, (host: string) => `agents.${host}.stop`),
  /** Everything addressed to one host, for its agent's consumer. */
  agentAll: (host: string): string => `agents.${host}.>`,
  /**
   * Internal: the agent of a host started a run, `runs.<host>.started`. The subject's host is the reporter (NATS lets
   * each agent publish only its own host's), and the monitor counts the report only for a run the ledger gave it.
   */
  runStarted: defineFamily('runs.*.started', RunStarted, (host: string) => `runs.${host}.started`),
  /** Internal: a run ended, with its exit code and output tail, `runs.<host>.exited` (the host that ran it). */
  runExited: defineFamily('runs.*.exited', RunExited, (host: string) => `runs.${host}.exited`),
  /**
   * Internal: an agent announces its host (core NATS, every heartbeat interval), `hosts.announce.<host>`; an
   * announcement whose payload names another host than its subject is refused.
   */
  hostAnnounce: defineFamily('hosts.announce.*', HostAnnounce, (host: string) => `hosts.announce.${host}`),
  /** Public: a host went up, draining, down, or was removed, `hosts.events.<host>.<state>`. */
  hostEvents: defineFamily('hosts.events.>', HostEvent, (host: string, state: HostEvent['state']) => `hosts.events.${host}.${state}`),
  /**
   * Public: a running run's output as it comes, `output.<host>.<name>.<attempt>`: published on core NATS (not under
   * `runs.`: no report), and kept a day by TANGERINE_OUTPUT, so a follower hears a run from its start. An agent
   * publishes only its own host's (see identities.ts).
   */
  liveOutput: defineFamily('output.*.*.*', OutputChunk, (host: string, name: string, attempt: number) => `output.${host}.${name}.${attempt}`),
  /** Every live output of one host's runs: what its agent may publish. `liveOutput.make('*', name, attempt)` follows one run. */
  liveOutputAll: (host: string): string => `output.${host}.>`,
  /** Public request/reply: every host with its state, labels, slots and the runs the ledger puts there. */
  hostsList: defineRequest('hosts.list', HostsListRequest, HostList, { empty: {} }),
  /** Public request/reply: `{"host"}`; the placer gives a draining host nothing new. */
  hostsDrain: defineRequest('hosts.drain', HostRequest, HostDrained),
  /** Public request/reply: `{"host"}`; the host takes new runs again. */
  hostsUndrain: defineRequest('hosts.undrain', HostRequest, HostDrained),
  /** Public: the fleet as a whole (host-health suspects the network), `fleet.events.<kind>`. */
  fleetEvents: defineFamily('fleet.events.>', FleetEvent, (kind: FleetEvent['kind']) => `fleet.events.${kind}`),
  /** Public: what the autoscaler decided and what came of it, `scaling.events.<provider>.<kind>`. */
  scalingEvents: defineFamily(
    'scaling.events.>', ScalingEvent, (provider: string, kind: ScalingEvent['kind']) => `scaling.events.${provider}.${kind}`,
  ),
  /** Public: messages set aside because they can never be handled, `deadletters.<consumer>`. */
  deadLetters: defineFamily('deadletters.>', DeadLetter, (consumer: string) => `deadletters.${consumer}`),
  /**
   * Public: store a template `{name, spec, description?}` (a new version unless it equals the latest). Captured by the
   * COMMANDS stream; intake reads it with parseTemplateDefinition, and answers on `templates.events.<name>` or on
   * `tasks.rejected`.
   */
  templatePut: defineMessage('templates.put', Type.Unknown({ description: 'a template definition {name, spec, description?}' })),
  /** Public: a `templates.put` was handled, `templates.events.<name>`. */
  templateEvents: defineFamily('templates.events.>', TemplateStored, (name: string) => `templates.events.${name}`),
  /** Public request/reply: one version of a template (the latest when none is asked). */
  templateGet: defineRequest('templates.get', TemplateGetRequest, TemplateView),
  /** Public request/reply: the latest version of each template, by name, a page at a time. */
  templateList: defineRequest('templates.list', TemplateListRequest, TemplateList, { empty: {} }),
} as const;

/** Every subject under the first token of this one: `agents.*.run` → `agents.>`. */
function under(subject: string): string {
  return `${subject.slice(0, subject.indexOf('.'))}.>`;
}

/**
 * JetStream streams and the subjects each captures. Dispatch and reports take every subject under their prefix, not
 * only the defined ones: a message on another (an old agent's, a typo) is still stored, and its consumer sets it
 * aside with a dead letter instead of its sender being told that no stream took it.
 */
export const Streams = {
  commands: { name: 'TANGERINE_COMMANDS', subjects: [Subjects.submit.subject, Subjects.cancel.subject, Subjects.templatePut.subject] },
  events: {
    name: 'TANGERINE_EVENTS',
    subjects: [
      Subjects.events.wildcard, Subjects.rejected.subject, Subjects.hostEvents.wildcard, Subjects.fleetEvents.wildcard,
      Subjects.templateEvents.wildcard, Subjects.scalingEvents.wildcard,
    ],
  },
  dispatch: { name: 'TANGERINE_DISPATCH', subjects: [under(Subjects.agentRun.wildcard)] },
  reports: { name: 'TANGERINE_REPORTS', subjects: [under(Subjects.runStarted.wildcard)] },
  dead: { name: 'TANGERINE_DEAD', subjects: [Subjects.deadLetters.wildcard] },
  /** Runs' live output as their agents publish it (core NATS): kept a while, so a follower hears a run from its start. */
  output: { name: 'TANGERINE_OUTPUT', subjects: [Subjects.liveOutputAll('*').replace('*.>', '>')] },
} as const;

/**
 * The tokens of `subject` where `filter` has `*`, in order, or null when the filter does not take the subject (a
 * `>` takes the rest without giving it).
 */
export function wildcardTokens(filter: string, subject: string): string[] | null {
  if (!subjectMatches(filter, subject)) return null;
  const s = subject.split('.');
  return filter.split('.').flatMap((t, i) => (t === '*' ? [s[i]!] : []));
}

/** Whether a NATS subject filter (`*` one token, `>` the rest) takes a subject. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}
