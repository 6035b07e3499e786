import { readUnpublished } from '@tangerine/ledger';
import { publishEvents } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import { repeat, type Stop } from '@tangerine/runtime';

/**
 * relay: the outbox relay. A service commits a task's change to the ledger, then publishes its event; one that died
 * in between leaves the change without its event (the row's published_version is behind its version). Every
 * REPUBLISH_AFTER (30 s) the relay reads such changes older than that (1,000 at most, oldest first) and publishes their
 * current state. Replicas may run side by side: an event's dedupe id (name, version, state) makes JetStream drop a
 * second copy, and the mark only moves forward.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  return repeat(() => republish(ctx), ctx.config.republishAfterMs, (err) => ctx.log.warn({ err }, 'republishing events failed; trying again'));
}

async function republish(ctx: ServiceContext): Promise<void> {
  const missing = await readUnpublished(ctx.ledger, ctx.clock.now(), ctx.config.republishAfterMs);
  if (missing.length === 0) return;
  for (const e of missing) ctx.log.warn({ task: e.name, attempt: e.attempt, host: e.host, state: e.state }, 'event missing from the stream; publishing it again');
  await publishEvents(ctx, missing);
  ctx.metrics.inc('events_republished', missing.length);
}
