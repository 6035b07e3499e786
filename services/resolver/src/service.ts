import { decode } from '@tangerine/bus';
import { Durables, Streams, Subjects, UNSUCCESSFUL_STATES } from '@tangerine/contracts';
import { blockDependents, sweepWaiting } from '@tangerine/ledger';
import { announce, consumeService } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import type { Stop } from '@tangerine/runtime';


/**
 * resolver: waiting → blocked when a dependency ended without success, driven by events; and the periodic sweep of
 * waiting tasks, which releases (waiting → ready) or blocks whatever an event or a crash left behind. The release
 * that follows a success is the monitor's, in the statement after the success (one hop less on every chain step).
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const stops: Stop[] = [];
  for (const state of UNSUCCESSFUL_STATES) {
    stops.push(await consumeService(ctx, {
      stream: Streams.events.name,
      durable: Durables.resolver(state),
      filter: Subjects.eventsInState(state),
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
