import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import { ServerError, TangerineClient, type Watch, type WatchEvent } from '@tangerine/client';
import { Subjects, type Rejection, type TaskEvent, type TaskView } from '@tangerine/contracts';

const enc = new TextEncoder();
const dec = new TextDecoder();

type Waiter<T> = { match: (x: T) => boolean; resolve: (x: T) => void };

/**
 * What a user does, on libs/client: `nats pub`, `nats req`, and watching the event subjects. `submit` and `cancel`
 * stay plain core-NATS publishes (what `nats pub` sends: no headers, no reply); everything else goes through the
 * client, so every reply the suites read is parsed with its schema.
 */
export class TestClient {
  /** Every task event and rejection published since connect (live: core NATS, as `nats sub` sees them). */
  readonly events: TaskEvent[] = [];
  readonly rejections: Rejection[] = [];
  private readonly eventWaiters = new Set<Waiter<TaskEvent>>();
  private readonly rejectionWaiters = new Set<Waiter<Rejection>>();
  private readonly watches: Watch[] = [];
  /** For `submitStored`: a shorter store timeout, retried. */
  private readonly storing: TangerineClient;

  private constructor(readonly client: TangerineClient) {
    this.storing = TangerineClient.wrap(client.nc, { requestTimeoutMs: 2000 });
  }

  get nc(): NatsConnection {
    return this.client.nc;
  }

  static async connect(url: string, options: Partial<ConnectionOptions> = {}): Promise<TestClient> {
    const c = new TestClient(await TangerineClient.connect({ servers: url, name: 'test-client', maxReconnectAttempts: -1, reconnectTimeWait: 200, requestTimeoutMs: 5000, ...options }));
    // What a test itself publishes on these subjects (the fuzz suite's garbage) breaks the schema and is not kept.
    c.collect(c.client.live({ kinds: ['task'] }), (e) => e.kind === 'task' && c.add(c.events, c.eventWaiters, e.event));
    c.collect(c.client.live({ kinds: ['rejection'] }), (e) => e.kind === 'rejection' && c.add(c.rejections, c.rejectionWaiters, e.event));
    await c.nc.flush();
    return c;
  }

  /** A plain `nats pub tasks.submit '<json>'`: no headers, no reply. */
  submit(spec: unknown): void {
    this.nc.publish(Subjects.submit.subject, typeof spec === 'string' ? enc.encode(spec) : enc.encode(JSON.stringify(spec)));
  }

  /**
   * `nats req tasks.submit`, retried until the stream acknowledges it: what a careful user does while NATS may be
   * down. The message id makes a retry of a submission that was stored count once.
   */
  async submitStored(spec: { name: string }, msgId = spec.name): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.storing.submit(spec, { msgId });
        return;
      } catch (err) {
        if (attempt > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** A plain `nats pub tasks.cancel '{"name": …}'`. */
  cancel(name: string): void {
    this.nc.publish(Subjects.cancel.subject, enc.encode(JSON.stringify({ name })));
  }

  /** A raw `nats req`: any subject, any body, the reply's JSON as it came (an error reply included). */
  async request<T>(subject: string, body: unknown): Promise<T> {
    const reply = await this.nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: this.client.requestTimeoutMs });
    return JSON.parse(dec.decode(reply.data)) as T;
  }

  /** The task, parsed, or the error reply as `{error}` (what `nats req tasks.get` prints). */
  async get(name: string): Promise<TaskView | { error: { code: string; message: string; field?: string } }> {
    try {
      return await this.client.get(name);
    } catch (err) {
      if (!(err instanceof ServerError)) throw err;
      return { error: { code: err.code, message: err.message, ...(err.field !== undefined ? { field: err.field } : {}) } };
    }
  }

  /** Resolves once `until` holds for the task: read again on each of its events, and every 250 ms besides. */
  async waitFor(name: string, until: (t: TaskView) => boolean, timeoutMs = 30000): Promise<TaskView> {
    return this.client.waitFor(name, until, { timeoutMs, recheckMs: 250 });
  }

  async waitForState(name: string, state: string, timeoutMs = 30000): Promise<TaskView> {
    return this.waitFor(name, (t) => t.state === state, timeoutMs);
  }

  /**
   * Waits for an event: the ledger's state is visible to tasks.get before the outbox relay has published the event
   * of the change, so a test that reads `events` after `waitForState` must wait for the event it expects.
   */
  async waitForEvent(match: (e: TaskEvent) => boolean, timeoutMs = 15000): Promise<TaskEvent> {
    return this.waitIn(this.events, this.eventWaiters, match, timeoutMs, 'event');
  }

  async waitForRejection(match: (r: Rejection) => boolean, timeoutMs = 15000): Promise<Rejection> {
    return this.waitIn(this.rejections, this.rejectionWaiters, match, timeoutMs, 'rejection');
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.stop();
    await this.client.close().catch(() => undefined);
  }

  private collect(watch: Watch, take: (e: WatchEvent) => unknown): void {
    this.watches.push(watch);
    void (async () => {
      for await (const e of watch) take(e);
    })();
  }

  private add<T>(list: T[], waiters: Set<Waiter<T>>, x: T): void {
    list.push(x);
    for (const w of waiters) {
      if (!w.match(x)) continue;
      waiters.delete(w);
      w.resolve(x);
    }
  }

  private async waitIn<T>(list: readonly T[], waiters: Set<Waiter<T>>, match: (x: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    const found = list.find(match);
    if (found !== undefined) return found;
    let timer: NodeJS.Timeout | undefined;
    let waiter: Waiter<T> | undefined;
    try {
      return await new Promise<T>((resolve, reject) => {
        waiter = { match, resolve };
        waiters.add(waiter);
        timer = setTimeout(() => reject(new Error(`no matching ${what} within ${timeoutMs} ms; got ${JSON.stringify(list.slice(-20)).slice(0, 1500)}`)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      if (waiter) waiters.delete(waiter);
    }
  }
}
