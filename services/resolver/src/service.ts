import { consumeBatches, decode } from '@tangerine/bus';
import { Streams, Subjects, type TaskEvent, type TaskState } from '@tangerine/contracts';
import { blockDependents, sweepWaiting } from '@tangerine/ledger';
import { publishEvents, type ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';

/** The states that end a task without success: its waiting dependents are blocked. */
const BLOCKING: readonly TaskState[] = ['failed', 'blocked', 'cancelled'];
/** The durable that read success events before the monitor released dependents itself; removed if still there. */
const RETIRED_DURABLE = 'resolver-success';

/**
 * resolver: waiting → blocked when a dependency ended without success, driven by events; and the periodic sweep of
 * waiting tasks, which releases (waiting → ready) or blocks whatever an event or a crash left behind. The release
 * that follows a success is the monitor's, in the statement after the success (one hop less on every chain step).
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  await ctx.bus.jsm.consumers.delete(Streams.events.name, RETIRED_DURABLE).catch(() => undefined);
  const stops: Stop[] = [];
  for (const state of BLOCKING) {
    stops.push(await consumeBatches({
      bus: ctx.bus,
      stream: Streams.events.name,
      durable: `resolver-${state}`,
      filter: Subjects.eventsInState(state),
      batchSize: ctx.config.batchSize,
      ackWaitMs: ctx.config.ackWaitMs,
      log: ctx.log,
      metrics: ctx.metrics,
      decode: (m) => decode(m.data, Subjects.events).name,
      handle: async (batch) => announce(ctx, await blockDependents(ctx.ledger, batch.map((d) => d.value))),
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

async function announce(ctx: ServiceContext, events: TaskEvent[]): Promise<void> {
  for (const e of events) {
    ctx.log.info({ task: e.name, attempt: e.attempt, host: e.host, state: e.state, reason: e.reason }, `task ${e.state}`);
  }
  await publishEvents(ctx, events);
}
