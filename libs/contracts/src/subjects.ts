import type { TaskState } from './states.js';
import type {
  CancelRequest, DeadLetter, FleetEvent, GetRequest, HostAnnounce, HostEvent, HostRequest, HostsListRequest, ListRequest, OutputRequest, Rejection,
  RunDispatch, RunExited, RunsRequest, RunStarted, RunStop, TaskEvent,
} from './messages.js';

/** A subject that carries its message type, imported by sender and receiver alike. */
export interface Subject<T> {
  readonly subject: string;
  /** Phantom field: never set, only carries T. */
  readonly __type?: T;
}

export function defineSubject<T>(subject: string): Subject<T> {
  return { subject };
}

/** A family of subjects with tokens, such as `tasks.events.<name>.<state>`. */
export interface SubjectFamily<T, A extends unknown[]> {
  /** The wildcard form, for subscriptions and stream subjects. */
  readonly wildcard: string;
  make(...args: A): string;
  readonly __type?: T;
}

export function defineFamily<T, A extends unknown[]>(wildcard: string, make: (...args: A) => string): SubjectFamily<T, A> {
  return { wildcard, make };
}

export const Subjects = {
  /** Public: submit a task spec. Captured by the COMMANDS stream, so a plain `nats pub` is never lost. */
  submit: defineSubject<unknown>('tasks.submit'),
  /** Public: `{"name"}` cancels a task and stops its container. Captured by the COMMANDS stream. */
  cancel: defineSubject<CancelRequest>('tasks.cancel'),
  /** Public: a submission or a cancel that was refused, with the field and the rule. */
  rejected: defineSubject<Rejection>('tasks.rejected'),
  /** Public request/reply: one task with its runs. */
  get: defineSubject<GetRequest>('tasks.get'),
  /** Public request/reply: tasks by name, filterable by state and name prefix, a page at a time. */
  list: defineSubject<ListRequest>('tasks.list'),
  /** Public request/reply: a task's runs, newest first, a page at a time, their output cut to its tail. */
  runs: defineSubject<RunsRequest>('tasks.runs'),
  /** Public request/reply: the whole output of one run. */
  output: defineSubject<OutputRequest>('tasks.output'),
  /** Public: every state change, `tasks.events.<name>.<state>`. */
  events: defineFamily<TaskEvent, [name: string, state: TaskState]>('tasks.events.>', (name, state) => `tasks.events.${name}.${state}`),
  /** Events of one state for every task, e.g. `tasks.events.*.success`. */
  eventsInState: (state: TaskState): string => `tasks.events.*.${state}`,
  /** Internal: the placer sends a run to one host's agent. */
  agentRun: defineFamily<RunDispatch, [host: string]>('agents.*.run', (host) => `agents.${host}.run`),
  /** Internal: stop a run (cancel). */
  agentStop: defineFamily<RunStop, [host: string]>('agents.*.stop', (host) => `agents.${host}.stop`),
  /** Everything addressed to one host, for its agent's consumer. */
  agentAll: (host: string): string => `agents.${host}.>`,
  /** Internal: an agent started a run. */
  runStarted: defineSubject<RunStarted>('runs.started'),
  /** Internal: a run ended, with its exit code and output tail. */
  runExited: defineSubject<RunExited>('runs.exited'),
  /** Internal: agents announce themselves (core NATS, every heartbeat interval). */
  hostAnnounce: defineSubject<HostAnnounce>('hosts.announce'),
  /** Public: a host went up, draining, down, or was removed, `hosts.events.<host>.<state>`. */
  hostEvents: defineFamily<HostEvent, [host: string, state: string]>('hosts.events.>', (host, state) => `hosts.events.${host}.${state}`),
  /** Public request/reply: every host with its state, labels, slots and the runs the ledger puts there. */
  hostsList: defineSubject<HostsListRequest>('hosts.list'),
  /** Public request/reply: `{"host"}`; the placer gives a draining host nothing new. */
  hostsDrain: defineSubject<HostRequest>('hosts.drain'),
  hostsUndrain: defineSubject<HostRequest>('hosts.undrain'),
  /** Public: the fleet as a whole (host-health suspects the network), `fleet.events.<kind>`. */
  fleetEvents: defineFamily<FleetEvent, [kind: FleetEvent['kind']]>('fleet.events.>', (kind) => `fleet.events.${kind}`),
  /** Public: messages set aside because they can never be handled, `deadletters.<consumer>`. */
  deadLetters: defineFamily<DeadLetter, [consumer: string]>('deadletters.>', (consumer) => `deadletters.${consumer}`),
} as const;

/** JetStream streams and the subjects each captures. */
export const Streams = {
  commands: { name: 'TANGERINE_COMMANDS', subjects: ['tasks.submit', 'tasks.cancel'] },
  events: { name: 'TANGERINE_EVENTS', subjects: ['tasks.events.>', 'tasks.rejected', 'hosts.events.>', 'fleet.events.>'] },
  dispatch: { name: 'TANGERINE_DISPATCH', subjects: ['agents.>'] },
  reports: { name: 'TANGERINE_REPORTS', subjects: ['runs.>'] },
  dead: { name: 'TANGERINE_DEAD', subjects: ['deadletters.>'] },
} as const;
