import { readUnpublished } from '@tangerine/ledger';
import { publishEvents } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import { repeat, type Stop } from '@tangerine/runtime';

/**
 * A change whose event is not on the stream after this long is published again. Every publisher notes its events
 * within 2 s (PublishedMarks), so 5 s leaves room for a busy ledger without republishing what did arrive.
 */
export const REPUBLISH_AFTER_MS = 5000;

/**
 * relay: the outbox relay. A service commits a task's change to the ledger, then publishes its event; one that died
 * in between leaves the change without its event (the row's published_version is behind its version). Every
 * REPUBLISH_AFTER_MS the relay reads such changes older than that (1,000 at most, oldest first) and publishes their
 * current state. Replicas may run side by side: an event's dedupe id (name, version, state) makes JetStream drop a
 * second copy, and the mark only moves forward.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  return repeat(() => republish(ctx), REPUBLISH_AFTER_MS, (err) => ctx.log.warn({ err }, 'republishing events failed; trying again'));
}

async function republish(ctx: ServiceContext): Promise<void> {
  const missing = await readUnpublished(ctx.ledger, ctx.clock.now(), REPUBLISH_AFTER_MS);
  if (missing.length === 0) return;
  for (const e of missing) ctx.log.warn({ task: e.name, attempt: e.attempt, host: e.host, state: e.state }, 'event missing from the stream; publishing it again');
  await publishEvents(ctx, missing);
  ctx.metrics.inc('events_republished', missing.length);
}
