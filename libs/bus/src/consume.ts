import { AckPolicy, DeliverPolicy, RetentionPolicy, type JsMsg } from '@nats-io/jetstream';
import { backoff, sleep, type Logger, type Metrics, type Stop } from '@tangerine/runtime';
import type { Bus } from './connection.js';
import { deadLetterOf, jsMessageFacts, publishDeadLetter, watchMaxDeliveries } from './dead-letters.js';
import { type Disposition, describeError, disposition } from './disposition.js';
import { isConsumerExists, isConsumerNotFound } from './nats-errors.js';

/**
 * Deliveries of one message before JetStream gives up on it (and says so: see watchMaxDeliveries). An outage does not
 * count, since the message stays in hand while it lasts; only a process that died or hung while holding it does.
 */
export const MAX_DELIVER = 10;
/** A message delivered this often is handled alone: its earlier deliveries may have crashed their process. */
export const SUSPECT_AFTER = 3;
/** Tries of a message (or batch) failing with an error that is not an outage, before it is split or set aside. */
export const MAX_TRIES = 3;

/** Every kind of failure, each a label value of `tangerine_deliveries_failed_total`. */
const DISPOSITIONS: readonly Disposition[] = ['outage', 'retry', 'refuse'];

/** A message and what `decode` read from it. */
export interface Delivered<T> {
  readonly msg: JsMsg;
  readonly value: T;
}

export interface BatchConsumerOptions<T> {
  bus: Bus;
  stream: string;
  durable: string;
  filter?: string;
  /** Most messages handed to `handle` at once. */
  batchSize: number;
  ackWaitMs?: number;
  /**
   * Where a consumer created now starts: `all` (default) the stream's first message; `new` the next one to come (the
   * notifier: a channel is not told of a year of history when the service is first deployed). A consumer that exists
   * keeps its place either way.
   */
  deliver?: 'all' | 'new';
  /** JetStream removes the consumer once no client has read it for this long (a removed host's own consumer). */
  inactiveMs?: number;
  log: Logger;
  metrics?: Metrics;
  /** Reads one message. One it throws for is set aside at once, never retried: it is not what the subject carries. */
  decode(msg: JsMsg): T;
  /**
   * Handles every message of the batch. Resolving acks them all. Throwing an outage keeps them in hand and tries again
   * until the server is back; anything else is tried MAX_TRIES times, then the batch is split in halves, down to the
   * message at fault, which is set aside.
   */
  handle(batch: Delivered<T>[], control: ConsumerControl<T>): Promise<void>;
  /**
   * `batch` (default): the loop acks when `handle` resolves. `manual`: `handle` only hands the messages over and
   * acks each one itself when its work is safe (an agent, once a run has started), so one slow message does not
   * hold back the next batch. JetStream's max_ack_pending still bounds what is in flight.
   */
  ack?: 'batch' | 'manual';
  /**
   * Publishes why a message is set aside, in place of a dead letter (intake answers a command with a rejection).
   * It must be idempotent: the same message may be set aside twice.
   */
  refuse?(facts: MessageFacts, err: unknown): Promise<void>;
}

export interface MessageFacts {
  subject: string;
  seq: number;
  deliveries: number;
  data: Uint8Array;
}

export interface ConsumerControl<T> {
  /** Sets a message aside (manual ack): its reason published, then terminated. */
  setAside(d: Delivered<T>, err: unknown): Promise<void>;
}

/**
 * A durable pull consumer read in micro-batches: whatever arrived while the previous batch was handled is the
 * next batch, so a quiet system answers at once and a busy one batches up to `batchSize` per ledger statement.
 * No message stops it: a bad one is set aside with its reason (a dead letter on `deadletters.<durable>`, or the
 * `refuse` hook's answer), a log line and a metric; an outage waits.
 */
export async function consumeBatches<T>(opts: BatchConsumerOptions<T>): Promise<Stop> {
  const { bus, stream, durable, log } = opts;
  const ackWaitMs = opts.ackWaitMs ?? 30000;
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: opts.deliver === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    ack_wait: ackWaitMs * 1_000_000,
    max_ack_pending: Math.max(1000, opts.batchSize * 4),
    max_deliver: MAX_DELIVER,
    ...(opts.inactiveMs ? { inactive_threshold: opts.inactiveMs * 1_000_000 } : {}),
    ...(opts.filter ? { filter_subject: opts.filter } : {}),
  };
  await ensureConsumer(bus, stream, config);
  const closed = new AbortController();
  // Shown at 0 from the start, so that a rate over them means something before the first failure.
  opts.metrics?.inc('messages_set_aside', 0, { durable });
  for (const kind of DISPOSITIONS) opts.metrics?.inc('deliveries_failed', 0, { durable, kind });

  /** Publishes why, then terminates: never redelivered. If the reason cannot be published, the message stays. */
  const setAside = async (facts: MessageFacts, err: unknown): Promise<boolean> => {
    const reason = describeError(err);
    log.error({ durable, subject: facts.subject, seq: facts.seq, deliveries: facts.deliveries, reason }, 'message set aside: it can never be handled');
    opts.metrics?.inc('messages_set_aside', 1, { durable });
    try {
      if (opts.refuse) await opts.refuse(facts, err);
      else await publishDeadLetter(bus, deadLetterOf({ stream, consumer: durable }, facts, err, new Date()));
      return true;
    } catch (e) {
      log.warn({ err: e, durable, seq: facts.seq }, 'the reason could not be published; the message is kept');
      return false;
    }
  };
  const setAsideMsg = async (m: JsMsg, err: unknown): Promise<void> => {
    // No reason on the term: nats-server 2.9 reads "+TERM <reason>" as no ack at all (the message came back every
    // ack_wait until max_deliver); the reason is in the dead letter.
    if (await setAside(jsMessageFacts(m), err)) m.term();
    else m.nak(5000);
  };
  const control: ConsumerControl<T> = { setAside: (d, err) => setAsideMsg(d.msg, err) };
  const workQueue = (await bus.jsm.streams.info(stream)).config.retention === RetentionPolicy.Workqueue;
  const unwatch = watchMaxDeliveries(bus, { stream, consumer: durable, workQueue }, log, async (facts, err) => {
    if (!(await setAside(facts, err))) throw new Error('reason not published');
  });

  /**
   * Handles a batch until it is settled. Outages are waited out in hand (the keep-alive stops a redelivery); other
   * errors are tried MAX_TRIES times, then the batch is halved and each half settled on its own: a poison message is
   * isolated in log2(batch) rounds while the rest go through.
   */
  const settle = async (batch: Delivered<T>[]): Promise<void> => {
    let tries = 1;
    let outages = 0;
    for (;;) {
      try {
        const t0 = performance.now();
        await opts.handle(batch, control);
        if (opts.ack !== 'manual') for (const d of batch) d.msg.ack();
        log.debug({ durable, size: batch.length, ms: Math.round(performance.now() - t0) }, 'batch handled');
        return;
      } catch (err) {
        if (closed.signal.aborted) {
          for (const d of batch) d.msg.nak();
          return;
        }
        const kind = disposition(err);
        opts.metrics?.inc('deliveries_failed', batch.length, { durable, kind });
        if (kind === 'outage') {
          outages += 1;
          const delay = backoff(outages, 200, 5000);
          if (outages === 1 || outages % 20 === 0) log.warn({ err, durable, size: batch.length, outages, retry_in_ms: delay }, 'batch waits for an outage to pass');
          await sleep(delay, closed.signal);
          continue;
        }
        if (kind === 'retry' && tries < MAX_TRIES) {
          log.warn({ err, durable, size: batch.length, tries }, 'batch failed; trying it again');
          await sleep(backoff(tries, 100, 2000), closed.signal);
          tries += 1;
          continue;
        }
        if (batch.length > 1) {
          const half = Math.ceil(batch.length / 2);
          log.warn({ err, durable, size: batch.length }, 'batch failed every try; splitting it to find the message at fault');
          await settle(batch.slice(0, half));
          await settle(batch.slice(half));
          return;
        }
        await setAsideMsg(batch[0]!.msg, err);
        return;
      }
    }
  };

  /** Decodes the messages (setting aside what cannot be read), then handles the batch; suspects go alone. */
  const receive = async (messages: JsMsg[]): Promise<void> => {
    const fresh: Delivered<T>[] = [];
    const suspects: Delivered<T>[] = [];
    for (const msg of messages) {
      let value: T;
      try {
        value = opts.decode(msg);
      } catch (err) {
        await setAsideMsg(msg, err);
        continue;
      }
      (msg.info.deliveryCount >= SUSPECT_AFTER ? suspects : fresh).push({ msg, value });
    }
    if (fresh.length > 0) await settle(fresh);
    for (const d of suspects) await settle([d]);
  };

  const buffer: JsMsg[] = [];
  let wake: (() => void) | null = null;
  let ended = false;
  let current: Awaited<ReturnType<Awaited<ReturnType<Bus['js']['consumers']['get']>>['consume']>> | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  // The pull loop outlives NATS restarts: when the subscription ends or fails, it is opened again (with backoff),
  // so a consumer never stops for good while its service runs.
  const pump = (async () => {
    for (let attempt = 0; !closed.signal.aborted; attempt++) {
      try {
        const consumer = await bus.js.consumers.get(stream, durable);
        // A short pull expiry: the server keeps sending to a crashed client's open pull request until it expires,
        // and each message sent there waits ack_wait before redelivery.
        current = await consumer.consume({ max_messages: Math.max(100, opts.batchSize * 2), expires: 5000 });
        if (closed.signal.aborted) break;
        for await (const m of current) {
          attempt = 0;
          buffer.push(m);
          notify();
        }
        if (closed.signal.aborted) break;
        log.warn({ durable }, 'consumer ended; reading again');
      } catch (err) {
        if (closed.signal.aborted) break;
        log.warn({ err, durable }, 'consumer failed; reading again');
        await ensureConsumer(bus, stream, config).catch(() => undefined);
      }
      await sleep(backoff(attempt, 200, 5000), closed.signal);
    }
  })().finally(() => { ended = true; notify(); });

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
      // A slow batch (a busy ledger, an outage waited out) must not be redelivered while it is still in hand. The
      // same keep-alive would hide a handler that never ends: one in hand a minute is said, every minute.
      const since = Date.now();
      let said = since;
      const keepAlive = setInterval(() => {
        for (const m of batch) m.working();
        if (Date.now() - said >= 60_000) {
          said = Date.now();
          log.warn({ durable, size: batch.length, in_hand_s: Math.round((said - since) / 1000) }, 'a batch is still in hand');
        }
      }, ackWaitMs / 3);
      try {
        await receive(batch);
      } catch (err) {
        // Only a bug of this loop gets here; the messages are redelivered after ack_wait.
        log.error({ err, durable }, 'consumer loop failed on a batch');
      } finally {
        clearInterval(keepAlive);
      }
    }
  })();

  return async () => {
    closed.abort();
    unwatch();
    await current?.close().catch(() => undefined);
    ended = true;
    notify();
    await pump;
    await worker;
  };
}

async function ensureConsumer(bus: Bus, stream: string, config: Parameters<Bus['jsm']['consumers']['add']>[1]): Promise<void> {
  const name = config.durable_name ?? '';
  try {
    await bus.jsm.consumers.info(stream, name);
    const { durable_name: _d, deliver_policy: _p, ...update } = config;
    await bus.jsm.consumers.update(stream, name, update);
  } catch (err) {
    if (!isConsumerNotFound(err)) throw err;
    try {
      await bus.jsm.consumers.add(stream, config);
    } catch (addErr) {
      if (!isConsumerExists(addErr)) throw addErr;
    }
  }
}
