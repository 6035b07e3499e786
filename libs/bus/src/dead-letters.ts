import type { JsMsg } from '@nats-io/jetstream';
import { DedupeIds, Subjects, isTangerineError, type DeadLetter } from '@tangerine/contracts';
import type { Logger } from '@tangerine/runtime';
import type { Bus } from './connection.js';
import { decodeText, redactPayload } from './codec.js';
import { describeError } from './disposition.js';
import { outgoing, publishAll } from './publish.js';

/** What a dead letter says of a message that came through a consumer. */
export function deadLetterOf(
  where: { stream: string; consumer: string },
  msg: { subject: string; seq: number; deliveries: number; data: Uint8Array },
  err: unknown,
  now: Date,
): DeadLetter {
  return {
    stream: where.stream, consumer: where.consumer, subject: msg.subject, seq: msg.seq, deliveries: msg.deliveries,
    code: isTangerineError(err) ? err.code : 'unprocessable', reason: describeError(err),
    payload: redactPayload(decodeText(msg.data)), bytes: msg.data.length, at: now.toISOString(),
  };
}

/** One dead letter per stream message, however often it is set aside (a redelivery, two replicas). */
export async function publishDeadLetter(bus: Pick<Bus, 'publisher'>, letter: DeadLetter): Promise<void> {
  await publishAll(bus, [outgoing(Subjects.deadLetters.at(letter.consumer), letter, DedupeIds.dead(letter.stream, letter.seq))]);
}

export function jsMessageFacts(m: JsMsg): { subject: string; seq: number; deliveries: number; data: Uint8Array } {
  return { subject: m.subject, seq: m.seq, deliveries: m.info.deliveryCount, data: m.data };
}

interface MaxDeliveriesAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

/** The advisory as nats-server sends it, or null: read, not cast (it decides which message is removed). */
function readAdvisory(text: string): Pick<MaxDeliveriesAdvisory, 'stream_seq' | 'deliveries'> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const a = value as Partial<Record<keyof MaxDeliveriesAdvisory, unknown>> | null;
  if (typeof a !== 'object' || a === null || !Number.isSafeInteger(a.stream_seq) || !Number.isSafeInteger(a.deliveries)) return null;
  return { stream_seq: a.stream_seq as number, deliveries: a.deliveries as number };
}

/**
 * A message delivered MAX_DELIVER times without an answer crashed (or hung) its handler each time: JetStream stops
 * delivering it and says so with an advisory. Whoever hears it first (a queue group of the consumer's processes)
 * sets the message aside as any other, with `setAside`, and removes it from a work-queue stream, so it is neither
 * lost silently nor left in a work queue forever.
 */
export function watchMaxDeliveries(
  bus: Bus, where: { stream: string; consumer: string; workQueue: boolean }, log: Logger,
  setAside: (msg: { subject: string; seq: number; deliveries: number; data: Uint8Array }, err: Error) => Promise<void>,
): () => void {
  const { stream, consumer } = where;
  const sub = bus.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${consumer}`, {
    queue: `tangerine-dead-${consumer}`,
    callback: (err, m) => {
      if (err) return;
      void (async () => {
        const advisory = readAdvisory(decodeText(m.data));
        if (!advisory) {
          log.warn({ stream, consumer }, 'a max-deliveries advisory that does not parse: ignored');
          return;
        }
        // null when no message has that sequence (JetStream's 10037): another process set it aside and removed it.
        // Any other error (NATS away) is logged below, and JetStream's next advisory or redelivery tries again.
        const stored = await bus.jsm.streams.getMessage(stream, { seq: advisory.stream_seq });
        if (!stored) return;
        const reason = new Error(`delivered ${advisory.deliveries} times without an answer: its handler crashed or hung on it each time`);
        await setAside({ subject: stored.subject, seq: stored.seq, deliveries: advisory.deliveries, data: stored.data }, reason);
        // A work queue would keep it forever; a log (the events) keeps it for its other readers.
        if (where.workQueue) await bus.jsm.streams.deleteMessage(stream, advisory.stream_seq).catch(() => undefined);
      })().catch((e: unknown) => log.warn({ err: e, stream, consumer }, 'a message over its deliveries could not be set aside'));
    },
  });
  return () => sub.unsubscribe();
}
