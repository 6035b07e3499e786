import { consumeBatches, decode, type JsMsg } from '@tangerine/bus';
import { Streams, Subjects, Validators, type TaskEvent, type TaskState } from '@tangerine/contracts';
import { blockDependents, releaseDependents, sweepWaiting } from '@tangerine/ledger';
import { publishEvents, type ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';

/** The states that decide a dependent's fate: success releases it, the others block it. */
const DECIDING: readonly TaskState[] = ['success', 'failed', 'blocked', 'cancelled'];

/**
 * resolver: waiting → ready when every dependency succeeded; waiting → blocked when one ended without success.
 * Events drive it; a periodic sweep of waiting tasks catches whatever an event did not bring.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const stops: Stop[] = [];
  for (const state of DECIDING) {
    stops.push(await consumeBatches({
      bus: ctx.bus,
      stream: Streams.events.name,
      durable: `resolver-${state}`,
      filter: Subjects.eventsInState(state),
      batchSize: ctx.config.batchSize,
      ackWaitMs: ctx.config.ackWaitMs,
    log: ctx.log,
      handle: (batch) => handle(ctx, state, batch),
    }));
  }
  const sweep = setInterval(() => {
    void sweepWaiting(ctx.ledger)
      .then((events) => announce(ctx, events))
      .catch((err: unknown) => ctx.log.warn({ err }, 'sweep of waiting tasks failed'));
  }, ctx.config.sweepMs);
  return async () => {
    clearInterval(sweep);
    for (const stop of stops) await stop();
  };
}

async function handle(ctx: ServiceContext, state: TaskState, batch: JsMsg[]): Promise<void> {
  const names = batch.flatMap((m) => {
    try {
      return [decode(m.data, Validators.taskEvent).name];
    } catch (err) {
      ctx.log.error({ err, subject: m.subject }, 'unreadable event ignored');
      return [];
    }
  });
  if (names.length === 0) return;
  const events = state === 'success' ? await releaseDependents(ctx.ledger, names) : await blockDependents(ctx.ledger, names);
  await announce(ctx, events);
}

async function announce(ctx: ServiceContext, events: TaskEvent[]): Promise<void> {
  for (const e of events) {
    ctx.log.info({ task: e.name, attempt: e.attempt, host: e.host, state: e.state, reason: e.reason }, `task ${e.state}`);
  }
  await publishEvents(ctx, events);
}
