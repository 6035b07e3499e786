import type { ConsumerMessages } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import type { FleetEvent, HostEvent, Rejection, TaskEvent } from '@tangerine/contracts';
import { EventKinds, check, kindOf, type EventKind } from './wire.js';

/** One event as a watch yields it: its kind, its parsed payload, and where it sits in the stream. */
export type WatchEvent = {
  /**
   * Its sequence in TANGERINE_EVENTS: resume a watch after it with `from: seq + 1`. Null for a live watch
   * (core NATS, `client.live`), which has no stream position.
   */
  seq: number | null;
  subject: string;
} & (
  | { kind: 'task'; event: TaskEvent }
  | { kind: 'host'; event: HostEvent }
  | { kind: 'rejection'; event: Rejection }
  | { kind: 'fleet'; event: FleetEvent }
);

interface RawMsg {
  subject: string;
  data: Uint8Array;
  seq: number | null;
}

const dec = new TextDecoder();

/**
 * An async iterator of events; `stop()` ends it (a `for await` over it then returns). Messages of a subject the
 * watch was not asked for are passed over; a message that is not JSON or breaks its kind's schema is counted in
 * `skipped` and passed over (anyone may publish on a public subject).
 */
export class Watch implements AsyncIterable<WatchEvent> {
  /** Messages passed over because they did not match their kind's schema. */
  skipped = 0;
  /** The stream sequence of the last event yielded, or of the position before the first (null for a live watch). */
  lastSeq: number | null;
  private stopped = false;

  /** @internal */
  constructor(
    private readonly source: AsyncIterable<RawMsg>,
    private readonly kinds: ReadonlySet<EventKind>,
    private readonly halt: () => void,
    startSeq: number | null,
  ) {
    this.lastSeq = startSeq === null ? null : startSeq - 1;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.halt();
    for (const f of this.stopHooks) f();
  }

  private readonly stopHooks: (() => void)[] = [];

  /** @internal Called once, when the watch stops. */
  onStop(f: () => void): void {
    this.stopHooks.push(f);
  }

  private iterator: AsyncGenerator<WatchEvent> | null = null;

  /** One iterator per watch: a second `for await` goes on where the first left off. */
  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    this.iterator ??= this.events();
    return this.iterator;
  }

  private async *events(): AsyncGenerator<WatchEvent> {
    if (this.stopped) return;
    try {
      for await (const m of this.source) {
        if (this.stopped) return;
        const event = this.parse(m);
        if (m.seq !== null) this.lastSeq = m.seq;
        if (event) yield event;
      }
    } catch (err) {
      // A watch stopped (or its client closed) ends; any other failure is the caller's to see.
      if (this.stopped) return;
      throw err;
    } finally {
      this.stop();
    }
  }

  private parse(m: RawMsg): WatchEvent | null {
    const kind = kindOf(m.subject);
    if (kind === null || !this.kinds.has(kind)) return null;
    let body: unknown;
    try {
      body = JSON.parse(dec.decode(m.data));
    } catch {
      this.skipped++;
      return null;
    }
    const parsed = check<unknown>(EventKinds[kind].schema, body);
    if (!parsed.ok) {
      this.skipped++;
      return null;
    }
    return { seq: m.seq, subject: m.subject, kind, event: parsed.value } as WatchEvent;
  }
}

/** A JetStream ordered consumer's messages as raw messages with their stream sequence. */
export async function* fromConsumer(messages: ConsumerMessages, mapError: (err: unknown) => Error): AsyncIterable<RawMsg> {
  try {
    for await (const m of messages) yield { subject: m.subject, data: m.data, seq: m.seq };
  } catch (err) {
    throw mapError(err);
  }
}

/**
 * Core NATS subscriptions merged into one bounded queue: what a live watch reads. Bounded like a NATS slow consumer:
 * past `max` queued messages the newest are dropped and counted.
 */
export class LiveQueue implements AsyncIterable<RawMsg> {
  dropped = 0;
  private readonly items: RawMsg[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(private readonly subs: Subscription[] = [], private readonly max = 65_536) {}

  add(sub: Subscription): void {
    this.subs.push(sub);
  }

  push(m: RawMsg): void {
    if (this.closed) return;
    if (this.items.length >= this.max) this.dropped++;
    else this.items.push(m);
    this.notify();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs) s.unsubscribe();
    this.notify();
  }

  /** Waits until a message is queued, the queue closes, or `ms` pass (if given); true when a message is queued. */
  async wait(ms?: number): Promise<boolean> {
    if (this.items.length > 0 || this.closed) return this.items.length > 0;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      if (ms !== undefined) timer = setTimeout(resolve, Math.max(0, ms));
    });
    clearTimeout(timer);
    this.wake = null;
    return this.items.length > 0;
  }

  /** Takes every queued message. */
  take(): RawMsg[] {
    return this.items.splice(0, this.items.length);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RawMsg> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.closed) return;
      await this.wait();
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
