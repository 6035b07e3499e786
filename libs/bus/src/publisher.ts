import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { OutageError } from '@tangerine/contracts';
import { TurnBatch } from '@tangerine/runtime';
import { jetStreamCode } from './nats-errors.js';

const decoder = new TextDecoder();

interface Outgoing {
  id: number;
  subject: string;
  data: Uint8Array;
  msgId: string;
}

interface Waiting {
  resolve(): void;
  reject(err: Error): void;
  subject: string;
  sentAt: number;
}

/**
 * JetStream publishes with their dedupe id (`Nats-Msg-Id`), sent as plain publishes whose acks come back to one
 * subscription of the connection. The client's `js.publish` makes a request object, a timer and an Error with a
 * stack trace for each message: at thousands of events a second that was a seventh of a service's CPU. Here a
 * publish costs a map entry, and one timer per connection fails the ones unanswered after `timeoutMs`. What one
 * turn of the event loop publishes leaves in one socket write.
 */
export class JetStreamPublisher {
  private readonly prefix: string;
  private readonly waiting = new Map<number, Waiting>();
  private readonly sub: Subscription;
  private readonly sweep: NodeJS.Timeout;
  private readonly outgoing = new TurnBatch<Outgoing>((batch) => this.send(batch));
  private next = 0;

  /**
   * `inboxPrefix`: where the acks come, by default the connection's own (NATS_INBOX_PREFIX), as nats.js's requests
   * and JetStream consumers take it: an identity may subscribe only under its own prefix.
   */
  constructor(private readonly nc: NatsConnection, private readonly timeoutMs = 10000, inboxPrefix = inboxPrefixOf(nc)) {
    this.prefix = createInbox(inboxPrefix);
    this.sub = nc.subscribe(`${this.prefix}.*`, { callback: (_err, m) => this.answered(m) });
    this.sweep = setInterval(() => this.expire(performance.now()), Math.min(1000, timeoutMs));
    this.sweep.unref();
  }

  /** Resolves once the stream stored the message (or dropped it as a duplicate); rejects with a retryable error. */
  publish(subject: string, data: Uint8Array, msgId: string): Promise<void> {
    const id = this.next++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, subject, sentAt: performance.now() });
      this.outgoing.add({ id, subject, data, msgId });
    });
  }

  private send(batch: readonly Outgoing[]): void {
    for (const { id, subject, data, msgId } of batch) {
      const h = headers();
      h.set('Nats-Msg-Id', msgId);
      try {
        this.nc.publish(subject, data, { reply: `${this.prefix}.${id}`, headers: h });
      } catch (cause) {
        const w = this.waiting.get(id);
        this.waiting.delete(id);
        w?.reject(new OutageError('bus_unavailable', `publish to ${subject} failed`, { cause }));
      }
    }
  }

  close(): void {
    clearInterval(this.sweep);
    this.sub.unsubscribe();
    this.expire(Number.POSITIVE_INFINITY);
  }

  /** The stream's answer: a PubAck, a JetStream error, or a 503 status when no stream captures the subject. */
  private answered(m: Msg): void {
    const id = Number(m.subject.slice(this.prefix.length + 1));
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    const problem = ackProblem(m);
    if (problem === null) w.resolve();
    else w.reject(new OutageError('bus_unavailable', `publish to ${w.subject} was not stored: ${problem}`));
  }

  /** Entries are in send order, so the scan stops at the first one still inside its time. */
  private expire(now: number): void {
    for (const [id, w] of this.waiting) {
      if (now - w.sentAt < this.timeoutMs) break;
      this.waiting.delete(id);
      w.reject(new OutageError('bus_unavailable', `publish to ${w.subject}: no answer from the stream within ${this.timeoutMs} ms`));
    }
  }
}

/** The connection's inbox prefix: nats.js keeps its options on the connection (its JetStream consumers read it there). */
function inboxPrefixOf(nc: NatsConnection): string {
  return (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix ?? '_INBOX';
}

/** Null for a stored message; otherwise what went wrong, in words, with JetStream's err_code when it gave one. */
export function ackProblem(m: Pick<Msg, 'data' | 'headers'>): string | null {
  const status = m.headers?.code ?? 0;
  if (status >= 300) return `status ${status}${m.headers?.description ? ` ${m.headers.description}` : ''}`;
  if (m.data.length === 0) return 'empty answer';
  try {
    const ack = JSON.parse(decoder.decode(m.data)) as { error?: { description?: unknown }; stream?: unknown } | null;
    if (ack?.error) {
      const code = jetStreamCode(ack.error);
      return `${typeof ack.error.description === 'string' ? ack.error.description : 'error'}${code === null ? '' : ` (JetStream ${code})`}`;
    }
    return typeof ack?.stream === 'string' ? null : 'not a publish ack';
  } catch {
    return 'not a publish ack';
  }
}
