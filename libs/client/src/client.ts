import { DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient, type JetStreamManager, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import {
  TASK_NAME_PATTERN, isFinished, type HostList, type OutputChunk, type HostsListRequest, type ListRequest, type Rejection, type RunList, type RunOutput,
  type RunsRequest, type TaskEvent, type TaskFile, type TaskList, type TaskState, type TaskView, type TemplateList, type TemplateListRequest,
  type TemplateStored, type TemplateView,
} from '@tangerine/contracts';
import {
  ConnectionClosedError, InvalidReplyError, InvalidRequestError, NoRespondersError, NotStoredError, ServerError, WaitTimeoutError,
  fromNatsError, isTransient,
} from './errors.js';
import { FileStore, type FileSource, type PutFileOptions } from './files.js';
import { OutputJoin, runGoesOn } from './follow.js';
import { LiveQueue, Watch, fromConsumer } from './watch.js';
import {
  Calls, Commands, EVENT_KINDS, EventKinds, LiveOutput, TemplateAnswers, check, errorReply, eventStream, outputStream, taskEventsOf, type Call, type DrainReply,
  type EventKind,
} from './wire.js';

export interface ClientOptions extends ConnectionOptions {
  /** How long a request (get, list, runs, output, hosts, drain) and a command's store (submit, cancel) may take. */
  requestTimeoutMs?: number;
}

/** Where the client stores a command: its stream sequence (what a rejection's `seq` names) and whether it was a repeat. */
export interface Stored {
  stream: string;
  seq: number;
  /** JetStream already held a message with this msg id (within its dedupe window): this one was not stored again. */
  duplicate: boolean;
}

export interface SubmitOptions {
  /**
   * JetStream's dedupe id (`Nats-Msg-Id`): a retry with the same id within the stream's duplicate window is stored
   * once. Default: none (every call is a new submission).
   */
  msgId?: string;
  /** Also wait for the outcome: the task's first state, or the rejection of this submission. */
  wait?: boolean;
  /** How long the wait for the outcome may take (default 10 s). */
  waitMs?: number;
}

/** What a `templates.put` led to: the version that holds its content (`created`: the put wrote it), or its rejection. */
export type TemplateOutcome = { stored: TemplateStored; rejected?: undefined } | { rejected: Rejection; stored?: undefined };

/** What a submission (or a cancel) led to: its rejection, or the first event of the task after it. */
export type Outcome = { rejected: Rejection; event?: undefined } | { event: TaskEvent; rejected?: undefined };

export interface WatchOptions {
  /** Only this task's events (implies kinds `task`). */
  name?: string;
  /** Kinds of event to yield: `task`, `host`, `rejection`, `fleet`. Default: all. */
  kinds?: readonly EventKind[];
  /**
   * Where to start in TANGERINE_EVENTS: `now` (default: the events stored after the call), `first` (the oldest the
   * stream keeps), or a stream sequence (inclusive): pass a yielded event's `seq + 1` to resume after it.
   */
  from?: 'now' | 'first' | number;
}

export interface FollowOptions {
  /** The task is read again at least this often (default 1 s), as in `waitFor`. */
  recheckMs?: number;
  /** Ends the follow (and its wait for the next chunk). */
  signal?: AbortSignal;
  /** Reads of the task and of a run's stored output other than the requests `tasks.get` and `tasks.output`. */
  reads?: {
    task(name: string): Promise<Pick<TaskView, 'attempt' | 'state' | 'host' | 'runs'>>;
    output(name: string, attempt: number): Promise<Pick<RunOutput, 'output'>>;
  };
}

export interface WaitOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /**
   * The task is read again at least this often (default 1 s) even with no event: events are nudges and the ledger
   * is the truth, and some changes have no event of their own (a cron fire skipped, a run's output recorded), or an
   * event may be missed while the connection is down.
   */
  recheckMs?: number;
}

type ListFilter = Omit<ListRequest, 'after'>;
type HostFilter = Omit<HostsListRequest, 'after'>;

const enc = new TextEncoder();
const dec = new TextDecoder();
const DEFAULT_TIMEOUT_MS = 5000;
const TASK_NAME = new RegExp(TASK_NAME_PATTERN);

/**
 * A typed client of Tangerine over NATS. Every reply is parsed with the schema of libs/contracts; an error reply
 * throws a ServerError with its code, field and message. See README.md.
 */
export class TangerineClient {
  readonly js: JetStreamClient;
  private jsm: Promise<JetStreamManager> | null = null;
  /** Watches not yet stopped: `close()` stops them, so that no ordered consumer outlives the client. */
  private readonly open = new Set<Watch>();
  readonly requestTimeoutMs: number;
  private readonly files: FileStore;

  private constructor(readonly nc: NatsConnection, private readonly owned: boolean, requestTimeoutMs?: number) {
    this.requestTimeoutMs = requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.js = jetstream(nc, { timeout: this.requestTimeoutMs });
    this.files = new FileStore(this.js, this.requestTimeoutMs);
  }

  /** Connects to NATS: `servers`, and any other nats.js ConnectionOptions (credentials, TLS, reconnect) passed through. */
  static async connect(options: ClientOptions = {}): Promise<TangerineClient> {
    const { requestTimeoutMs, ...nats } = options;
    return new TangerineClient(await connect(nats), true, requestTimeoutMs);
  }

  /** A client over a connection the caller owns: `close()` then leaves it open. */
  static wrap(nc: NatsConnection, options: { requestTimeoutMs?: number } = {}): TangerineClient {
    return new TangerineClient(nc, false, options.requestTimeoutMs);
  }

  /** Closes the connection (if the client opened it), after its pending messages are sent. */
  async close(): Promise<void> {
    for (const w of [...this.open]) w.stop();
    if (this.owned && !this.nc.isClosed()) await this.nc.drain();
  }

  /**
   * Submits one task spec on `tasks.submit` and returns once JetStream stored it. The spec is checked by intake, not
   * here: with `wait`, the rejection (code, field, reason) or the task's first state comes back in `outcome`.
   */
  async submit(spec: unknown, options: SubmitOptions = {}): Promise<Stored & { outcome?: Outcome }> {
    if (options.wait && Array.isArray(spec)) throw new InvalidRequestError('spec', 'spec: wait takes one spec, not a list (watch the names instead)', { subject: Commands.submit });
    const name = nameOf(spec);
    const accepted = (e: TaskEvent): boolean => e.from === null || isFinished(e.from);
    return this.command(Commands.submit, spec, name, accepted, options);
  }

  /**
   * Stores a file for a task's `files` in the object store (bucket `tangerine_files`, named by the sha256 of its
   * bytes) and returns the entry to put in the spec: `{name, sha256, size}`. Bytes, a Readable (or any async iterable
   * of bytes) or a path; a file already stored is not sent again. Store the files first, then submit.
   */
  async putFile(source: FileSource, options: PutFileOptions = {}): Promise<TaskFile> {
    return this.files.put(source, options);
  }

  /** The bytes of a stored file, checked against its sha256. */
  async getFile(sha256: string): Promise<Uint8Array> {
    return this.files.get(sha256);
  }

  /** Cancels a task (`tasks.cancel`); returns once stored. With `wait`: its `cancelled` event, or the rejection. */
  async cancel(name: string, options: SubmitOptions = {}): Promise<Stored & { outcome?: Outcome }> {
    const body = this.checkRequest(Commands.cancel.subject, Commands.cancel.request, { name });
    return this.command(Commands.cancel.subject, body, name, (e) => e.state === 'cancelled', options);
  }

  async get(name: string): Promise<TaskView> {
    return this.call(Calls.get, { name });
  }

  /** One page of tasks by name; pass `next` as `after` for the following page (null after the last). */
  async list(filter: ListRequest = {}): Promise<TaskList> {
    return this.call(Calls.list, filter);
  }

  /** Every task matching `filter`, page after page (`limit` is the page size, at most Limits.pageItems). */
  async *listAll(filter: ListFilter = {}): AsyncGenerator<TaskView> {
    let after: string | null | undefined;
    do {
      const page = await this.list({ ...filter, ...(after ? { after } : {}) });
      yield* page.tasks;
      after = page.next;
    } while (after);
  }

  /** A task's runs, newest first; pass `next` as `before` for older ones. */
  async runs(name: string, page: Omit<RunsRequest, 'name'> = {}): Promise<RunList> {
    return this.call(Calls.runs, { name, ...page });
  }

  /** The whole output the ledger holds for one run (its last 64 KiB). */
  async output(name: string, attempt: number): Promise<RunOutput> {
    return this.call(Calls.output, { name, attempt });
  }

  /**
   * A run's output as it comes, from its start: the chunks its agent publishes while it runs
   * (`output.<host>.<name>.<attempt>`), read through an ordered consumer of the output stream (TANGERINE_OUTPUT keeps
   * them a day), so a follower that joins a run already printing hears it from its first line and then live, as
   * `docker logs -f` does. In order, each character once (by offset), ending when the run is over (its task leaves
   * `placed`/`running` for this attempt) and every chunk stored before that was read. A run already ended yields its
   * stored output (the ledger's last 64 KiB) as one chunk; what the stream no longer holds (past its limits) is
   * completed from the stored output when that is possible. A chunk's `skipped` says output was left out before it
   * (the run printed more than its agent sends live, 64 Ki characters a second). Against services without the
   * output stream it hears only what is published after the call, and a late joiner gets the output whole at the end.
   * The task is read again on each of its events and at least every `recheckMs` (1 s). Stop early with `break`, or
   * with `signal` (which also ends a wait for the next chunk: the iterator then returns). `reads`: where the task and
   * the stored output are read (default: `tasks.get` and `tasks.output`), for a caller that reads the ledger itself.
   */
  async *follow(name: string, attempt: number, options: FollowOptions = {}): AsyncGenerator<OutputChunk> {
    if (!TASK_NAME.test(name)) throw new InvalidRequestError('name', `name: must match ${TASK_NAME_PATTERN} (got ${JSON.stringify(name)})`);
    if (!Number.isSafeInteger(attempt) || attempt < 1) throw new InvalidRequestError('attempt', `attempt: must be a whole number of at least 1 (got ${attempt})`);
    const recheckMs = options.recheckMs ?? 1000;
    const queue = this.subscribe([taskEventsOf(name)]);
    const signal = options.signal;
    const abort = (): void => queue.close();
    signal?.addEventListener('abort', abort, { once: true });
    const source = await this.outputSource(name, attempt, queue);
    const join = new OutputJoin();
    let host = '';
    let late = false;
    const heard = function* (this: void): Generator<OutputChunk> {
      for (const m of queue.take()) {
        const chunk = readChunk(m.subject, m.data, name, attempt);
        if (chunk === null) continue;
        host = chunk.host;
        // Only without the stream: the first chunk heard starts after output printed before this call, which nothing
        // kept; the output comes whole, from the ledger, at the run's end, rather than live without its beginning.
        if (!source.fromStart && !late && join.next === 0 && chunk.offset > (chunk.skipped ?? 0)) late = true;
        if (late) continue;
        const next = join.add(chunk);
        if (next) yield next;
      }
    };
    try {
      for (;;) {
        if (signal?.aborted) return;
        const view = await (options.reads?.task ?? ((n: string) => this.get(n)))(name);
        if (!runGoesOn(view, attempt)) {
          await source.caughtUp();
          yield* heard();
          const stored = await (options.reads?.output ?? ((n: string, a: number) => this.output(n, a)))(name, attempt).then((o) => o.output, (err: unknown) => {
            if (err instanceof ServerError && err.code === 'not_found') return '';
            throw err;
          });
          const rest = join.rest(stored);
          const run = view.runs?.find((r) => r.attempt === attempt);
          if (rest) yield { name, attempt, host: host || run?.host || view.host || '', ...rest, at: run?.finished_at ?? new Date().toISOString() };
          return;
        }
        yield* heard();
        await queue.wait(recheckMs);
      }
    } finally {
      signal?.removeEventListener('abort', abort);
      source.stop();
      queue.close();
    }
  }

  /**
   * Where a follow's chunks come from, pushed into `queue`: an ordered consumer of the output stream from its first
   * chunk of this run (`fromStart`), or, when the services have no such stream (older ones) or this identity may not
   * read it, a core subscription from now. `caughtUp` resolves once every chunk stored so far was queued.
   */
  private async outputSource(name: string, attempt: number, queue: LiveQueue): Promise<{ fromStart: boolean; caughtUp(): Promise<void>; stop(): void }> {
    const subject = LiveOutput.of(name, attempt);
    try {
      const consumer = await this.js.consumers.get(outputStream, { filter_subjects: subject, deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume({ max_messages: 256 });
      let last = 0;
      void (async () => {
        try {
          for await (const m of messages) {
            last = m.seq;
            queue.push({ subject: m.subject, data: m.data, seq: m.seq });
          }
        } catch {
          // Ended by stop(), or the connection closed: the follow ends with the stored output.
        }
      })();
      return {
        fromStart: true,
        caughtUp: async () => {
          // The consumer has handed over every chunk the stream holds when none is pending and the last it delivered
          // was queued. Bounded: a stream that keeps not catching up (a flood of output) is left at 5 s.
          const deadline = Date.now() + 5000;
          for (;;) {
            const info = await consumer.info().catch(() => null);
            if (info === null || (info.num_pending === 0 && last >= info.delivered.stream_seq) || Date.now() > deadline) return;
            await new Promise((r) => setTimeout(r, 20));
          }
        },
        stop: () => void messages.stop(),
      };
    } catch {
      queue.add(this.nc.subscribe(subject, { callback: (err, m) => { if (!err) queue.push({ subject: m.subject, data: m.data, seq: null }); } }));
      // A round trip: every chunk the server sent before this is in the queue after it.
      return { fromStart: false, caughtUp: () => this.nc.flush(), stop: () => undefined };
    }
  }

  /** One page of hosts by id; pass `next` as `after` for the following page. */
  async hosts(filter: HostsListRequest = {}): Promise<HostList> {
    return this.call(Calls.hostsList, filter);
  }

  async *hostsAll(filter: HostFilter = {}): AsyncGenerator<HostList['hosts'][number]> {
    let after: string | null | undefined;
    do {
      const page = await this.hosts({ ...filter, ...(after ? { after } : {}) });
      yield* page.hosts;
      after = page.next;
    } while (after);
  }

  /** The placer gives a draining host nothing new; its runs go on. */
  async drain(host: string): Promise<DrainReply> {
    return this.call(Calls.drain, { host });
  }

  async undrain(host: string): Promise<DrainReply> {
    return this.call(Calls.undrain, { host });
  }

  /**
   * Stores a template `{name, spec, description?}` on `templates.put`; returns once JetStream stored it. Intake
   * checks it: with `wait`, `outcome` is `{ stored }` (the version now holding this content, `created` false when it
   * equals the latest version, so a put repeated changes nothing) or `{ rejected }` naming the field and the rule.
   */
  async putTemplate(definition: unknown, options: SubmitOptions = {}): Promise<Stored & { outcome?: TemplateOutcome }> {
    const name = nameOf(definition);
    const waitMs = options.waitMs ?? 10_000;
    // Subscribed before the publish, so the answer cannot come before the client listens.
    const answers = options.wait ? this.subscribe([TemplateAnswers.of(name), TemplateAnswers.rejected.subject]) : null;
    try {
      const stored = await this.store(Commands.templatePut, definition, options.msgId);
      if (!answers || stored.duplicate) return stored;
      const deadline = Date.now() + waitMs;
      for (;;) {
        for (const m of answers.take()) {
          const outcome = templateOutcome(m.subject, m.data, stored.seq);
          if (outcome) return { ...stored, outcome };
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new WaitTimeoutError(`${Commands.templatePut}: no outcome of stored message ${stored.seq} within ${waitMs} ms`, stored, { subject: Commands.templatePut });
        await answers.wait(left);
      }
    } finally {
      answers?.close();
    }
  }

  /** One version of a template (the latest without `version`); a ServerError `template_not_found` when there is none. */
  async getTemplate(name: string, version?: number): Promise<TemplateView> {
    return this.call(Calls.templateGet, version === undefined ? { name } : { name, version });
  }

  /** One page of templates by name (the latest version of each); pass `next` as `after` for the following page. */
  async listTemplates(page: TemplateListRequest = {}): Promise<TemplateList> {
    return this.call(Calls.templateList, page);
  }

  /** Every template, page after page. */
  async *templatesAll(page: Omit<TemplateListRequest, 'after'> = {}): AsyncGenerator<TemplateView> {
    let after: string | null | undefined;
    do {
      const list = await this.listTemplates({ ...page, ...(after ? { after } : {}) });
      yield* list.templates;
      after = list.next;
    } while (after);
  }

  /**
   * Events from the TANGERINE_EVENTS stream, through an ordered consumer of its own (ephemeral: the server forgets it
   * when the watch stops). With `from: 'now'` every event stored after this call returns is yielded; with a sequence,
   * every event from there, none missed and in order, so a watch can be resumed where another stopped.
   */
  async watch(options: WatchOptions = {}): Promise<Watch> {
    const kinds = kindsOf(options);
    let start: number | null = null;
    const opts: Partial<OrderedConsumerOptions> = {};
    if (options.from === 'first') {
      opts.deliver_policy = DeliverPolicy.All;
    } else {
      start = typeof options.from === 'number' ? options.from : await this.lastSeq() + 1;
      if (!Number.isInteger(start) || start < 1) throw new InvalidRequestError('from', `from: must be a stream sequence >= 1 (got ${String(options.from)})`);
      opts.deliver_policy = DeliverPolicy.StartSequence;
      opts.opt_start_seq = start;
    }
    // One filter subject at most: nats-server 2.9 (Debian's) has no filter_subjects on ordered consumers.
    const filter = options.name !== undefined ? taskEventsOf(options.name) : kinds.size === 1 ? EventKinds[[...kinds][0]!].wildcard : null;
    if (filter !== null) opts.filter_subjects = filter;
    try {
      const consumer = await this.js.consumers.get(eventStream, opts);
      const messages = await consumer.consume({ max_messages: 256 });
      return this.track(new Watch(fromConsumer(messages, (e) => this.natsError(e, eventStream)), kinds, () => void messages.stop(), start));
    } catch (err) {
      throw this.natsError(err, eventStream);
    }
  }

  /**
   * Events as they are published, through core NATS subscriptions: no stream position, nothing stored on the server,
   * nothing delivered while the connection is down. What `nats sub tasks.events.>` sees.
   */
  live(options: Omit<WatchOptions, 'from'> = {}): Watch {
    const kinds = kindsOf(options);
    const subjects = options.name !== undefined ? [taskEventsOf(options.name)] : [...kinds].map((k) => EventKinds[k].wildcard);
    const queue = this.subscribe(subjects);
    return this.track(new Watch(queue, kinds, () => queue.close(), null));
  }

  private track(watch: Watch): Watch {
    this.open.add(watch);
    watch.onStop(() => this.open.delete(watch));
    return watch;
  }

  /**
   * Resolves with the task's view once `until` holds for it. The task is read at once and again on each of its events
   * (so no event-driven change is waited out by a timer), and at least every `recheckMs`. A task not found yet, a
   * timeout or a service away is waited out; any other error is thrown.
   */
  async waitFor(name: string, until: (t: TaskView) => boolean, options: WaitOptions = {}): Promise<TaskView> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const recheckMs = options.recheckMs ?? 1000;
    const deadline = Date.now() + timeoutMs;
    // Subscribed before the first read, so an event of any change after that read is seen.
    const nudges = this.subscribe([taskEventsOf(name)]);
    let last: unknown = null;
    try {
      for (;;) {
        try {
          const view = await this.get(name);
          last = view;
          if (until(view)) return view;
        } catch (err) {
          if (!(isTransient(err) || (err instanceof ServerError && err.code === 'not_found'))) throw err;
          last = err;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new WaitTimeoutError(`task ${name}: condition not met within ${timeoutMs} ms; last: ${describe(last)}`, last, { subject: Calls.get.subject });
        }
        await nudges.wait(Math.min(recheckMs, left));
        nudges.take();
      }
    } finally {
      nudges.close();
    }
  }

  async waitForState(name: string, state: TaskState | readonly TaskState[], options: WaitOptions = {}): Promise<TaskView> {
    const states: readonly TaskState[] = typeof state === 'string' ? [state] : state;
    return this.waitFor(name, (t) => states.includes(t.state), options);
  }

  /** The stream sequence of the newest event stored: `watch({ from: lastSeq + 1 })` starts right after it. */
  async lastSeq(): Promise<number> {
    try {
      this.jsm ??= jetstreamManager(this.nc, { timeout: this.requestTimeoutMs });
      const info = await (await this.jsm).streams.info(eventStream);
      return info.state.last_seq;
    } catch (err) {
      this.jsm = null;
      throw this.natsError(err, eventStream);
    }
  }

  private async command(subject: string, body: unknown, name: string | null, matches: (e: TaskEvent) => boolean, options: SubmitOptions): Promise<Stored & { outcome?: Outcome }> {
    const waitMs = options.waitMs ?? 10_000;
    // Subscribed before the publish, so the outcome cannot come before the client listens.
    const outcomes = options.wait ? this.subscribe([EventKinds.rejection.wildcard, ...(name !== null ? [taskEventsOf(name)] : [])]) : null;
    try {
      const stored = await this.store(subject, body, options.msgId);
      if (!outcomes || stored.duplicate) return stored;
      const watch = new Watch(outcomes, new Set(['rejection', 'task'] as const), () => outcomes.close(), null);
      const timer = setTimeout(() => watch.stop(), waitMs);
      try {
        for await (const e of watch) {
          if (e.kind === 'rejection' && (e.event.seq === stored.seq || (e.event.seq === null && name !== null && e.event.name === name))) {
            return { ...stored, outcome: { rejected: e.event } };
          }
          if (e.kind === 'task' && matches(e.event)) return { ...stored, outcome: { event: e.event } };
        }
      } finally {
        clearTimeout(timer);
      }
      throw new WaitTimeoutError(`${subject}: no outcome of stored message ${stored.seq} within ${waitMs} ms`, stored, { subject });
    } finally {
      outcomes?.close();
    }
  }

  private async store(subject: string, body: unknown, msgId: string | undefined): Promise<Stored> {
    const data = typeof body === 'string' ? enc.encode(body) : enc.encode(JSON.stringify(body));
    try {
      const ack = await this.js.publish(subject, data, { ...(msgId !== undefined ? { msgID: msgId } : {}), timeout: this.requestTimeoutMs });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      const e = this.natsError(err, subject);
      if (e instanceof NoRespondersError) throw new NotStoredError('no stream captures this subject (is Tangerine running?)', { subject, cause: err });
      if (err instanceof JetStreamApiError) throw new NotStoredError(`${err.message} (JetStream code ${err.code})`, { subject, cause: err });
      throw e;
    }
  }

  private async call<Req, Rep>(c: Call<Req, Rep>, body: Req): Promise<Rep> {
    const req = this.checkRequest(c.subject, c.request, body);
    let data: Uint8Array;
    try {
      data = (await this.nc.request(c.subject, enc.encode(JSON.stringify(req)), { timeout: this.requestTimeoutMs })).data;
    } catch (err) {
      throw this.natsError(err, c.subject);
    }
    return parseReply(c, data);
  }

  private checkRequest<T>(subject: string, schema: Call<T, unknown>['request'], body: unknown): T {
    const r = check(schema, body);
    if (!r.ok) throw new InvalidRequestError(r.field, r.message, { subject });
    return r.value;
  }

  private subscribe(subjects: readonly string[]): LiveQueue {
    if (this.nc.isClosed()) throw new ConnectionClosedError({ subject: subjects[0] });
    const queue = new LiveQueue();
    for (const subject of subjects) {
      queue.add(this.nc.subscribe(subject, { callback: (err, m) => { if (!err) queue.push({ subject: m.subject, data: m.data, seq: null }); } }));
    }
    return queue;
  }

  private natsError(err: unknown, subject: string): Error {
    if (this.nc.isClosed() && !(err instanceof JetStreamApiError)) return new ConnectionClosedError({ subject, cause: err });
    return fromNatsError(err, subject, this.requestTimeoutMs);
  }
}

/** Parses a reply: the typed value, or a ServerError for an error reply, or an InvalidReplyError. */
export function parseReply<Rep>(c: Pick<Call<unknown, Rep>, 'subject' | 'reply'>, data: Uint8Array): Rep {
  let body: unknown;
  try {
    body = JSON.parse(dec.decode(data));
  } catch {
    throw new InvalidReplyError('reply', `is not JSON (${data.length} bytes)`, { subject: c.subject });
  }
  if (body !== null && typeof body === 'object' && 'error' in body) {
    const e = check(errorReply, body);
    if (!e.ok) throw new InvalidReplyError(e.field, e.message, { subject: c.subject });
    throw new ServerError(e.value.error, { subject: c.subject });
  }
  const r = check(c.reply, body);
  if (!r.ok) throw new InvalidReplyError(r.field, r.message, { subject: c.subject });
  return r.value;
}

/** The answer to the put stored as `seq`, if this message is it: its template event, or its rejection. */
function templateOutcome(subject: string, data: Uint8Array, seq: number): TemplateOutcome | null {
  let body: unknown;
  try {
    body = JSON.parse(dec.decode(data));
  } catch {
    return null;
  }
  if (subject === TemplateAnswers.rejected.subject) {
    const r = check(TemplateAnswers.rejected, body);
    return r.ok && r.value.seq === seq ? { rejected: r.value } : null;
  }
  const e = check(TemplateAnswers.stored, body);
  return e.ok && e.value.seq === seq ? { stored: e.value } : null;
}

function kindsOf(options: Omit<WatchOptions, 'from'>): Set<EventKind> {
  if (options.name !== undefined) return new Set(['task']);
  const kinds = options.kinds ?? EVENT_KINDS;
  for (const k of kinds) if (!EVENT_KINDS.includes(k)) throw new InvalidRequestError('kinds', `kinds: must be among ${EVENT_KINDS.join(', ')} (got ${JSON.stringify(k)})`);
  return new Set(kinds);
}

function nameOf(spec: unknown): string | null {
  const name = spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? (spec as { name?: unknown }).name : undefined;
  return typeof name === 'string' && TASK_NAME.test(name) ? name : null;
}

function describe(v: unknown): string {
  const text = v instanceof Error ? `${v.name}: ${v.message}` : JSON.stringify(v);
  return (text ?? String(v)).slice(0, 1500);
}


/** A chunk of this run's output from a message, or null for anything else (another run's, a payload not a chunk). */
function readChunk(subject: string, data: Uint8Array, name: string, attempt: number): OutputChunk | null {
  if (LiveOutput.chunk.match(subject) === null) return null;
  let body: unknown;
  try {
    body = JSON.parse(dec.decode(data));
  } catch {
    return null;
  }
  const parsed = check(LiveOutput.chunk, body);
  return parsed.ok && parsed.value.name === name && parsed.value.attempt === attempt ? parsed.value : null;
}
