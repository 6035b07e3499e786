import { AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { isTangerineError } from '@tangerine/contracts';
import { backoff, sleep, type Logger, type Stop } from '@tangerine/runtime';
import type { Bus } from './connection.js';
import { isNotFound } from './streams.js';

export interface BatchConsumerOptions {
  bus: Bus;
  stream: string;
  durable: string;
  filter?: string;
  /** Most messages handed to `handle` at once. */
  batchSize: number;
  ackWaitMs?: number;
  log: Logger;
  /**
   * Handles every message of the batch. Resolving acks them all; throwing naks them all for redelivery
   * with backoff. A message that can never succeed (bad input) must be dealt with inside: a rejection, then ack.
   */
  handle(batch: JsMsg[]): Promise<void>;
  /**
   * `batch` (default): the loop acks when `handle` resolves. `manual`: `handle` only hands the messages over and
   * acks each one itself when its work is safe (an agent, once a run has started), so one slow message does not
   * hold back the next batch. JetStream's max_ack_pending still bounds what is in flight.
   */
  ack?: 'batch' | 'manual';
  /** Told of a message that can never be handled, before it is terminated (intake answers with a rejection). */
  refuse?(message: JsMsg, err: unknown): Promise<void>;
}

/**
 * A durable pull consumer read in micro-batches: whatever arrived while the previous batch was handled is the
 * next batch, so a quiet system answers at once and a busy one batches up to `batchSize` per ledger statement.
 */
export async function consumeBatches(opts: BatchConsumerOptions): Promise<Stop> {
  const { bus, stream, durable, log } = opts;
  const ackWaitMs = opts.ackWaitMs ?? 30000;
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ackWaitMs * 1_000_000,
    max_ack_pending: Math.max(1000, opts.batchSize * 4),
    max_deliver: -1,
    ...(opts.filter ? { filter_subject: opts.filter } : {}),
  };
  await ensureConsumer(bus, stream, config);
  const buffer: JsMsg[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  let closing = false;
  let current: Awaited<ReturnType<Awaited<ReturnType<Bus['js']['consumers']['get']>>['consume']>> | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  // The pull loop outlives NATS restarts: when the subscription ends or fails, it is opened again (with backoff),
  // so a consumer never stops for good while its service runs.
  const pump = (async () => {
    for (let attempt = 0; !closing; attempt++) {
      try {
        const consumer = await bus.js.consumers.get(stream, durable);
        // A short pull expiry: the server keeps sending to a crashed client's open pull request until it expires,
        // and each message sent there waits ack_wait before redelivery.
        current = await consumer.consume({ max_messages: Math.max(100, opts.batchSize * 2), expires: 5000 });
        if (closing) break;
        for await (const m of current) {
          attempt = 0;
          buffer.push(m);
          notify();
        }
        if (closing) break;
        log.warn({ durable }, 'consumer ended; reading again');
      } catch (err) {
        if (closing) break;
        log.warn({ err, durable }, 'consumer failed; reading again');
        await ensureConsumer(bus, stream, config).catch(() => undefined);
      }
      await sleep(backoff(attempt, 200, 5000));
    }
  })().finally(() => { ended = true; notify(); });

  let failures = 0;
  /**
   * Handles a batch. A passing outage (ledger or NATS away) naks it all for redelivery with backoff. Anything
   * else is a message that can never succeed: the batch is split so the others go through, and the one at fault
   * is terminated with the reason, never redelivered forever (no stalled consumer).
   */
  const settle = async (batch: JsMsg[]): Promise<void> => {
    try {
      const t0 = performance.now();
      await opts.handle(batch);
      if (opts.ack !== 'manual') for (const m of batch) m.ack();
      log.debug({ durable, size: batch.length, ms: Math.round(performance.now() - t0), buffered: buffer.length }, 'batch handled');
      failures = 0;
    } catch (err) {
      if (isPassing(err)) {
        failures += 1;
        const delay = backoff(failures, 200, 10000);
        log.error({ err, durable, size: batch.length, retry_in_ms: delay }, 'batch failed; redelivering');
        for (const m of batch) m.nak(delay);
      } else if (batch.length > 1) {
        log.warn({ err, durable, size: batch.length }, 'batch refused; handling its messages one by one');
        for (const m of batch) await settle([m]);
      } else {
        const m = batch[0]!;
        log.error({ err, durable, subject: m.subject, seq: m.seq }, 'message can never be handled; terminating it');
        await opts.refuse?.(m, err).catch((e: unknown) => log.warn({ err: e, durable, seq: m.seq }, 'refusal not published'));
        m.term(String((err as Error)?.message ?? err).slice(0, 200));
      }
    }
  };

  const worker = (async () => {
    for (;;) {
      if (buffer.length === 0) {
        if (ended) return;
        await new Promise<void>((resolve) => { wake = resolve; });
        // The messages of one read from the socket reach the buffer a microtask apart, and the first one wakes us:
        // taken at once, it went alone and the rest made a second batch (a second statement). The end of the turn
        // has them all.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      const batch = buffer.splice(0, opts.batchSize);
      // A slow batch (a busy ledger) must not be redelivered while it is still being handled.
      const keepAlive = setInterval(() => { for (const m of batch) m.working(); }, ackWaitMs / 3);
      try {
        await settle(batch);
      } finally {
        clearInterval(keepAlive);
      }
    }
  })();

  return async () => {
    closing = true;
    await current?.close().catch(() => undefined);
    ended = true;
    notify();
    await pump;
    await worker;
  };
}

/**
 * Is this a passing outage, worth a redelivery? Coded errors say so themselves. PostgreSQL's data, integrity and
 * syntax errors (SQLSTATE classes 22, 23, 42) come back every time: those are not. Anything unknown is treated as
 * passing: redelivering is safe, every handler being idempotent.
 */
export function isPassing(err: unknown): boolean {
  if (isTangerineError(err)) return err.retryable;
  const code = (err as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && /^(22|23|42)[0-9A-Z]{3}$/.test(code));
}

async function ensureConsumer(bus: Bus, stream: string, config: Parameters<Bus['jsm']['consumers']['add']>[1]): Promise<void> {
  const name = config.durable_name ?? '';
  try {
    await bus.jsm.consumers.info(stream, name);
    const { durable_name: _d, deliver_policy: _p, ...update } = config;
    await bus.jsm.consumers.update(stream, name, update);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    try {
      await bus.jsm.consumers.add(stream, config);
    } catch (addErr) {
      if (!/already|in use/i.test(String(addErr))) throw addErr;
    }
  }
}
