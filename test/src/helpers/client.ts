import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Rejection, TaskEvent, TaskView } from '@tangerine/contracts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What a user does: `nats pub`, `nats req`, and watching the event subjects. */
export class TestClient {
  readonly events: TaskEvent[] = [];
  readonly rejections: Rejection[] = [];

  private constructor(readonly nc: NatsConnection) {}

  static async connect(url: string): Promise<TestClient> {
    const client = new TestClient(await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 }));
    // What a test itself publishes on these subjects (the fuzz suite's garbage) is not an event to keep.
    const parse = <T>(data: Uint8Array): T[] => {
      try {
        return [JSON.parse(dec.decode(data)) as T];
      } catch {
        return [];
      }
    };
    client.nc.subscribe('tasks.events.>', { callback: (_e, m) => { client.events.push(...parse<TaskEvent>(m.data)); } });
    client.nc.subscribe('tasks.rejected', { callback: (_e, m) => { client.rejections.push(...parse<Rejection>(m.data)); } });
    await client.nc.flush();
    return client;
  }

  /** A plain `nats pub tasks.submit '<json>'`: no headers, no reply. */
  submit(spec: unknown): void {
    this.nc.publish('tasks.submit', typeof spec === 'string' ? enc.encode(spec) : enc.encode(JSON.stringify(spec)));
  }

  /**
   * `nats req tasks.submit`, retried until the stream acknowledges it: what a careful user does while NATS may be
   * down. The message id makes a retry of a submission that was stored count once.
   */
  async submitStored(spec: { name: string }, msgId = spec.name): Promise<void> {
    const js = jetstream(this.nc, { timeout: 2000 });
    for (let attempt = 0; ; attempt++) {
      try {
        await js.publish('tasks.submit', enc.encode(JSON.stringify(spec)), { msgID: msgId });
        return;
      } catch (err) {
        if (attempt > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  cancel(name: string): void {
    this.nc.publish('tasks.cancel', enc.encode(JSON.stringify({ name })));
  }

  async request<T>(subject: string, body: unknown): Promise<T> {
    const reply = await this.nc.request(subject, enc.encode(JSON.stringify(body)), { timeout: 5000 });
    return JSON.parse(dec.decode(reply.data)) as T;
  }

  async get(name: string): Promise<TaskView | { error: { code: string; message: string } }> {
    return this.request('tasks.get', { name });
  }

  /** Polls tasks.get until `until` holds for the task. */
  async waitFor(name: string, until: (t: TaskView) => boolean, timeoutMs = 30000): Promise<TaskView> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown = null;
    while (Date.now() < deadline) {
      try {
        const t = await this.get(name);
        last = t;
        if (!('error' in t) && until(t)) return t;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`task ${name}: condition not met within ${timeoutMs} ms; last: ${JSON.stringify(last).slice(0, 1500)}`);
  }

  async waitForState(name: string, state: string, timeoutMs = 30000): Promise<TaskView> {
    return this.waitFor(name, (t) => t.state === state, timeoutMs);
  }

  /**
   * Waits for an event: the ledger's state is visible to tasks.get before the outbox relay has published the event
   * of the change, so a test that reads `events` after `waitForState` must wait for the event it expects.
   */
  async waitForEvent(match: (e: TaskEvent) => boolean, timeoutMs = 15000): Promise<TaskEvent> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.events.find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(this.events.slice(-20)).slice(0, 1500)}`);
  }

  async waitForRejection(match: (r: Rejection) => boolean, timeoutMs = 15000): Promise<Rejection> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.rejections.find(match);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no matching rejection within ${timeoutMs} ms; got ${JSON.stringify(this.rejections).slice(0, 1500)}`);
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => undefined);
  }
}
