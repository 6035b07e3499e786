import { FILES_BUCKET, FILES_STREAM } from './files.js';
import { UNSUCCESSFUL_STATES, type TaskState } from './states.js';
import { Streams, Subjects } from './subjects.js';

/**
 * Who may do what on the bus: one NATS identity per service, one per agent (bound to its host), and the people's
 * (submitter, operator). Each identity's permissions are derived here from the message definitions, so a subject
 * added to Subjects is granted in one place; the generator (libs/bus `identities`) writes them into nats-server's
 * configuration as nkey users, and the attacker suite (test/src/e2e/attacker.test.ts) tries what each may not.
 *
 * The JetStream API subjects below are nats-server's own (`$JS.API.…`, nats-server 2.9 names): only the services
 * that provision Tangerine's streams reach the stream API, and each consumer's identity reaches only its own
 * consumer. Nobody but `admin` may delete or purge a stream.
 */

/** The durable consumers, by the service that reads them. */
export const Durables = {
  intake: 'intake',
  monitor: 'monitor',
  resolver: (state: TaskState): string => `resolver-${state}`,
  agent: (host: string): string => `agent-${host}`,
  /** The notifier's: every event (tasks, hosts, fleet), and the dead letters. */
  notifier: 'notifier',
  notifierDead: 'notifier-dead',
} as const;

/** The JetStream KV bucket of the bus migrations (libs/bus migrations.ts), and its stream. */
export const BUS_MIGRATIONS_BUCKET = 'tangerine_bus_migrations';

export const SERVICE_ROLES = ['intake', 'resolver', 'placer', 'monitor', 'cron', 'host-health', 'relay', 'api', 'notifier', 'autoscaler'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/**
 * An identity's role. `submitter`: submit and cancel, the read requests, the public events. `operator`: a
 * submitter that may also drain hosts and read dead letters. `tangerine`: every service and the local agent of
 * `npm start`, one process. `admin`: everything, the JetStream API included (stream repairs by hand).
 */
export type Role =
  | { kind: 'service'; service: ServiceRole }
  | { kind: 'agent'; host: string }
  | { kind: 'submitter' }
  | { kind: 'operator' }
  | { kind: 'tangerine'; host: string }
  | { kind: 'admin' };

export interface Permissions {
  publish: { allow: string[]; deny: string[] };
  subscribe: { allow: string[]; deny: string[] };
  /** May answer requests (publish once to a request's reply subject). */
  allowResponses: boolean;
}

/** An identity's name: the inbox prefix and the seed file's name derive from it. */
export function identityName(role: Role): string {
  switch (role.kind) {
    case 'service': return role.service;
    case 'agent': return `agent-${role.host}`;
    default: return role.kind;
  }
}

/**
 * The prefix of an identity's reply subjects (NATS_INBOX_PREFIX); each may subscribe only under its own. People's
 * identities keep NATS's default `_INBOX`, so a stock nats CLI works (`nats --nkey submitter.nk req tasks.list
 * '{}'`); they may read one another's replies, which hold nothing one of them could not ask for. A service's or an
 * agent's prefix is a root of its own (`_INBOX_agent-h1`, not under `_INBOX.`): the dispatches an agent pulls, its
 * specs and secret values, arrive there, and no one else may subscribe to it.
 */
export function inboxPrefix(role: Role): string {
  return role.kind === 'submitter' || role.kind === 'operator' ? '_INBOX' : `_INBOX_${identityName(role)}`;
}

/** What one identity may publish and subscribe to. */
export function permissionsOf(role: Role): Permissions {
  const p = grants(role);
  return {
    publish: { allow: unique(p.pub), deny: unique(p.denyPub) },
    subscribe: { allow: unique(p.sub), deny: unique(p.denySub) },
    allowResponses: p.responds,
  };
}

interface Grants { pub: string[]; sub: string[]; denyPub: string[]; denySub: string[]; responds: boolean }

function grants(role: Role): Grants {
  const g: Grants = { pub: [], sub: [], denyPub: [], denySub: [], responds: false };
  if (role.kind === 'admin') {
    // No allow_responses: publishing to `>` covers replies, and nats-server keeps a map of every reply subject
    // delivered to a client that has it, pruned in passes over the whole map (the pipeline bench's client, admin,
    // took nats-server from 11 to 107 s of CPU and the bench from 450 to 140 tasks/s).
    g.pub.push('>');
    g.sub.push('>');
    return g;
  }
  // Every client asks the JetStream API whether JetStream is there (jetstreamManager) and reads its own replies.
  g.pub.push('$JS.API.INFO');
  g.sub.push(`${inboxPrefix(role)}.>`);
  switch (role.kind) {
    case 'service': serviceGrants(role.service, g); break;
    case 'agent': agentGrants(role.host, g); break;
    case 'submitter': submitterGrants(g); break;
    case 'operator': submitterGrants(g); operatorGrants(g); break;
    case 'tangerine':
      for (const s of SERVICE_ROLES) serviceGrants(s, g);
      agentGrants(role.host, g);
      // One process runs every service: what one of them is denied (the api: the resolver's durable consumers),
      // another of them does.
      g.denyPub.length = 0;
      g.denySub.length = 0;
      break;
  }
  return g;
}

const API = '$JS.API';
const TASK_EVENTS = Subjects.events.wildcard;
/** Subjects every service that changes tasks publishes on. */
const taskChanges = [TASK_EVENTS];

function serviceGrants(service: ServiceRole, g: Grants): void {
  provision(g);
  switch (service) {
    case 'intake':
      consumer(g, Streams.commands.name, Durables.intake, { readStored: true });
      g.pub.push(...taskChanges, Subjects.rejected.subject, Subjects.agentStop.wildcard, Subjects.templateEvents.wildcard);
      break;
    case 'resolver':
      for (const state of UNSUCCESSFUL_STATES) consumer(g, Streams.events.name, Durables.resolver(state), { readStored: true });
      g.pub.push(...taskChanges);
      break;
    case 'placer':
      g.pub.push(...taskChanges, Subjects.agentRun.wildcard);
      g.sub.push(TASK_EVENTS, Subjects.hostEvents.wildcard, announceWildcard());
      break;
    case 'monitor':
      consumer(g, Streams.reports.name, Durables.monitor, { readStored: true });
      g.pub.push(...taskChanges, Subjects.agentStop.wildcard);
      g.sub.push(TASK_EVENTS);
      break;
    case 'cron':
      g.pub.push(...taskChanges);
      break;
    case 'host-health':
      // Retention deletes the objects no kept task names: a deleted marker on the metadata, a purge of the chunks.
      filesReader(g);
      g.pub.push(
        `${API}.STREAM.PURGE.${FILES_STREAM}`, `$O.${FILES_BUCKET}.M.>`,
        // It walks the objects' metadata page by page through an ordered pull consumer of its own.
        `${API}.CONSUMER.MSG.NEXT.${FILES_STREAM}.*`, `${API}.CONSUMER.DELETE.${FILES_STREAM}.*`,
      );
      g.pub.push(...taskChanges, Subjects.hostEvents.wildcard, Subjects.fleetEvents.wildcard, Subjects.agentStop.wildcard);
      g.sub.push(announceWildcard(), Subjects.hostsList.subject, Subjects.hostsDrain.subject, Subjects.hostsUndrain.subject);
      g.responds = true;
      break;
    case 'relay':
      g.pub.push(...taskChanges);
      break;
    case 'notifier':
      // Reads events through its own durable consumers only; it publishes nothing but its consumers' dead letters.
      consumer(g, Streams.events.name, Durables.notifier, { readStored: true });
      consumer(g, Streams.dead.name, Durables.notifierDead, { readStored: true });
      break;
    case 'autoscaler':
      // Reads the ledger; on the bus it only drains and undrains hosts (host-health answers) and tells what it did.
      g.pub.push(Subjects.hostsDrain.subject, Subjects.hostsUndrain.subject, Subjects.scalingEvents.wildcard);
      break;
    case 'api':
      // Stores the files of an HTTP upload before it submits the task.
      filesWriter(g);
      g.sub.push(Subjects.get.subject, Subjects.list.subject, Subjects.runs.subject, Subjects.output.subject);
      g.sub.push(Subjects.templateGet.subject, Subjects.templateList.subject);
      // The HTTP follow of a run's output, and the task's events that end it (the nudges of a read of the ledger).
      g.sub.push(liveOutputWildcard(), TASK_EVENTS);
      orderedReader(g, Streams.output.name, []);
      g.responds = true;
      // The HTTP API writes only through the bus, as a submitter and an operator do: it submits and cancels, asks
      // host-health for the hosts and to drain them, and reads the events stream through ordered consumers of its own.
      g.pub.push(Subjects.submit.subject, Subjects.cancel.subject, Subjects.hostsList.subject, Subjects.hostsDrain.subject, Subjects.hostsUndrain.subject);
      // It puts templates (POST /v1/templates) and hears intake's answer, or the rejection.
      g.pub.push(Subjects.templatePut.subject);
      g.sub.push(Subjects.templateEvents.wildcard, Subjects.rejected.subject);
      orderedReader(g, Streams.events.name, serviceDurablesOfEvents());
      break;
  }
}

/**
 * An agent: its own host's dispatches and stops (its consumer, filtered to `agents.<host>.>`), its own host's reports
 * and announcements, nothing else. It does not provision streams and cannot read stored messages: the dispatch
 * stream holds every host's specs and secret values.
 */
function agentGrants(host: string, g: Grants): void {
  const durable = Durables.agent(host);
  consumer(g, Streams.dispatch.name, durable, { readStored: false, filter: Subjects.agentAll(host) });
  g.pub.push(...reportSubjects(host), announceSubject(host), liveOutputSubject(host));
  // The files of its runs: read, never written or deleted (the digest it checks is the object's name).
  filesReader(g);
}

function submitterGrants(g: Grants): void {
  g.pub.push(
    Subjects.submit.subject, Subjects.cancel.subject,
    Subjects.get.subject, Subjects.list.subject, Subjects.runs.subject, Subjects.output.subject, Subjects.hostsList.subject,
  );
  g.pub.push(Subjects.templatePut.subject, Subjects.templateGet.subject, Subjects.templateList.subject);
  g.sub.push(TASK_EVENTS, Subjects.rejected.subject, Subjects.hostEvents.wildcard, Subjects.fleetEvents.wildcard);
  g.sub.push(Subjects.templateEvents.wildcard, Subjects.scalingEvents.wildcard);
  // `follow`: a running run's output, from its start (the output stream) and live; what tasks.output gives them at its end.
  g.sub.push(liveOutputWildcard());
  orderedReader(g, Streams.output.name, []);
  // `watch` reads the events stream through ordered consumers of its own (names it cannot choose in advance), but
  // never a service's durable one: those are denied by name.
  orderedReader(g, Streams.events.name, serviceDurablesOfEvents());
  // putFile and getFile: store a task's files before submitting it, read them back; never delete one.
  filesWriter(g);
}

function operatorGrants(g: Grants): void {
  g.pub.push(Subjects.hostsDrain.subject, Subjects.hostsUndrain.subject);
  g.sub.push(Subjects.deadLetters.wildcard);
  orderedReader(g, Streams.dead.name, [Durables.notifierDead]);
}

/**
 * Reads objects of the files' bucket (nats.js's ObjectStore `info`, `get`, `list`): the stream's info, its messages
 * by subject (a metadata entry), and ordered push consumers of its own that deliver an object's chunks to its inbox,
 * with their flow control. No publish to `$O.…`: a reader cannot write an object, nor a deleted marker.
 */
function filesReader(g: Grants): void {
  g.pub.push(
    `${API}.STREAM.INFO.${FILES_STREAM}`, `${API}.STREAM.MSG.GET.${FILES_STREAM}`, `${API}.DIRECT.GET.${FILES_STREAM}`,
    `${API}.DIRECT.GET.${FILES_STREAM}.>`, `${API}.CONSUMER.CREATE.${FILES_STREAM}`, `${API}.CONSUMER.CREATE.${FILES_STREAM}.>`,
    `${API}.CONSUMER.INFO.${FILES_STREAM}.*`, `$JS.FC.${FILES_STREAM}.>`,
  );
}

/**
 * Reads and stores objects: publishes chunks and metadata. Not the purge an overwrite of an object would make (nor a
 * delete): the client stores an object only when none of that name is there, and only retention deletes.
 */
function filesWriter(g: Grants): void {
  filesReader(g);
  g.pub.push(`$O.${FILES_BUCKET}.C.>`, `$O.${FILES_BUCKET}.M.>`);
}

/** Creates and updates Tangerine's streams (never deletes one) and applies the bus migrations. */
function provision(g: Grants): void {
  for (const name of [...Object.values(Streams).map((s) => s.name), FILES_STREAM]) {
    g.pub.push(`${API}.STREAM.CREATE.${name}`, `${API}.STREAM.UPDATE.${name}`, `${API}.STREAM.INFO.${name}`);
  }
  const kv = `KV_${BUS_MIGRATIONS_BUCKET}`;
  g.pub.push(
    `${API}.STREAM.CREATE.${kv}`, `${API}.STREAM.INFO.${kv}`, `${API}.STREAM.MSG.GET.${kv}`, `${API}.DIRECT.GET.${kv}`,
    `${API}.DIRECT.GET.${kv}.>`, `$KV.${BUS_MIGRATIONS_BUCKET}.>`,
    // Migration 1 deletes the resolver's retired durable consumer.
    `${API}.CONSUMER.INFO.${Streams.events.name}.resolver-success`, `${API}.CONSUMER.DELETE.${Streams.events.name}.resolver-success`,
  );
}

/**
 * One durable consumer: create or update it, pull and ack, hear its max-deliveries advisories, and publish its dead
 * letters. `filter`: it may create its consumer only with this filter, which the create subject then carries
 * (`CONSUMER.CREATE.<stream>.<durable>.<filter>`, nats-server 2.9's form; the forms without a filter in the subject
 * would let the configuration name any filter): an agent's consumer reads only its own host's subjects.
 * `readStored`: it may also read (and, from a work queue, delete) a stored message of the stream, which setting aside
 * a message delivered too often needs.
 */
function consumer(g: Grants, stream: string, durable: string, opts: { readStored: boolean; filter?: string }): void {
  const create = opts.filter !== undefined
    ? [`${API}.CONSUMER.CREATE.${stream}.${durable}.${opts.filter}`]
    : [`${API}.CONSUMER.CREATE.${stream}.${durable}`, `${API}.CONSUMER.CREATE.${stream}.${durable}.>`, `${API}.CONSUMER.DURABLE.CREATE.${stream}.${durable}`];
  g.pub.push(
    `${API}.STREAM.INFO.${stream}`, `${API}.CONSUMER.INFO.${stream}.${durable}`, ...create,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${durable}`, `$JS.ACK.${stream}.${durable}.>`, Subjects.deadLetters.make(durable),
  );
  if (opts.readStored) g.pub.push(`${API}.STREAM.MSG.GET.${stream}`, `${API}.STREAM.MSG.DELETE.${stream}`);
  g.sub.push(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`);
}

/** The services' durable consumers of the events stream, which no reader of it may touch. */
function serviceDurablesOfEvents(): string[] {
  return [...UNSUCCESSFUL_STATES.map((s) => Durables.resolver(s)), Durables.notifier];
}

/** Ordered (ephemeral) consumers on a stream, for reading it from a point; never the durables named. */
function orderedReader(g: Grants, stream: string, durables: readonly string[]): void {
  g.pub.push(
    `${API}.STREAM.INFO.${stream}`, `${API}.CONSUMER.CREATE.${stream}`, `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.*`, `${API}.CONSUMER.DELETE.${stream}.*`, `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
  );
  for (const d of durables) {
    g.denyPub.push(
      `${API}.CONSUMER.CREATE.${stream}.${d}`, `${API}.CONSUMER.CREATE.${stream}.${d}.>`, `${API}.CONSUMER.INFO.${stream}.${d}`,
      `${API}.CONSUMER.DELETE.${stream}.${d}`, `${API}.CONSUMER.MSG.NEXT.${stream}.${d}`, `$JS.ACK.${stream}.${d}.>`,
    );
  }
}

/** The subjects an agent reports its runs on. */
function reportSubjects(host: string): string[] {
  return [Subjects.runStarted.make(host), Subjects.runExited.make(host)];
}

function liveOutputSubject(host: string): string {
  return Subjects.liveOutputAll(host);
}

/** Every run's live output (`output.>`, not the family's `output.*.*.*`: a subscription to either is then allowed). */
function liveOutputWildcard(): string {
  return Subjects.liveOutputAll('*').replace('*.>', '>');
}

function announceSubject(host: string): string {
  return Subjects.hostAnnounce.make(host);
}

function announceWildcard(): string {
  return Subjects.hostAnnounce.wildcard;
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/**
 * Whether a permission list lets this subject through, as nats-server decides: some allow pattern covers it and no
 * deny pattern does. A subscription's subject may hold wildcards: `tasks.events.>` covers `tasks.events.*.failed`.
 */
export function permits(list: { allow: readonly string[]; deny: readonly string[] }, subject: string): boolean {
  return list.allow.some((p) => covers(p, subject)) && !list.deny.some((p) => covers(p, subject));
}

function covers(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] === '*') {
      if (s[i] === '>') return false;
      continue;
    }
    if (p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}
