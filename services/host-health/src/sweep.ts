import { outgoing, publishAll } from '@tangerine/bus';
import { DedupeIds, Subjects, type FleetEvent } from '@tangerine/contracts';
import { countSilentHosts, markHostsDown, removeHosts, requeueFromDownHosts } from '@tangerine/ledger';
import type { ServiceContext } from './config.js';
import { announce, hostEvent } from './announce.js';
import { decideSilence } from './silence.js';

/** The requeue of runs on down hosts also runs every this many sweeps when no host went down, as a safety net. */
const REQUEUE_EVERY = 5;

export interface SilenceState {
  holdingSince: number | null;
}

/**
 * Hosts silent for HOST_TIMEOUT go down and their runs are requeued, unless most hosts fell silent at once (see
 * silence.ts); hosts down for HOST_REMOVE_AFTER are removed. Called only while host-health has evidence (evidence.ts).
 */
export async function sweep(ctx: ServiceContext, tick: number, silence: SilenceState): Promise<void> {
  const now = ctx.clock.now();
  const cutoff = new Date(now.getTime() - ctx.config.hostTimeoutMs);
  // Hosts that fell silent together are not all past the timeout in the same sweep (their last heartbeats were up
  // to an interval apart): silence is weighed from half the timeout on, so the first of them is not taken for lost
  // alone, a sweep before the others.
  const counts = await countSilentHosts(ctx.ledger, new Date(now.getTime() - ctx.config.hostTimeoutMs / 2));
  const decision = decideSilence(
    { share: ctx.config.hostSilenceShare, minHosts: SILENCE_MIN_HOSTS, holdMs: ctx.config.hostSilenceHoldMs },
    { ...counts, now: now.getTime(), holdingSince: silence.holdingSince },
  );
  silence.holdingSince = decision.holdingSince;
  if (decision.event) await announceSilence(ctx, decision.event, counts, now);
  if (decision.action === 'hold') return;
  const down = counts.silent === 0 ? [] : await markHostsDown(ctx.ledger, cutoff, now);
  const hostEvents = down.map((d) => hostEvent(ctx, d.id, 'down', d.from, `no heartbeat for ${ctx.config.hostTimeoutMs / 1000} s`));
  // At once for hosts that just went down. Every REQUEUE_EVERY sweeps it also picks up what a placement raced onto a
  // host as it went down, and what a crashed replica left: the statement joins every placed and running task with
  // its host, 70 ms a sweep with 8,000 runs on 10,000 hosts (the fleet benchmark), too much to pay every second for
  // what is nearly always nothing.
  const taskEvents = down.length > 0 || tick % REQUEUE_EVERY === 0 ? await requeueFromDownHosts(ctx.ledger) : [];
  const removed = await removeHosts(ctx.ledger, new Date(now.getTime() - ctx.config.hostRemoveAfterMs));
  hostEvents.push(...removed.map((id) => hostEvent(ctx, id, 'removed', 'down', `down for ${ctx.config.hostRemoveAfterMs / 1000} s`)));
  await announce(ctx, hostEvents, taskEvents, []);
}

/** Fewer hosts than this are never held for: one of two silent is a lost host, not a partition. */
const SILENCE_MIN_HOSTS = 3;

async function announceSilence(
  ctx: ServiceContext, kind: FleetEvent['kind'], counts: { silent: number; total: number }, now: Date,
): Promise<void> {
  const holdS = ctx.config.hostSilenceHoldMs / 1000;
  const reason = kind === 'silence_suspected'
    ? `${counts.silent} of ${counts.total} hosts fell silent at once: the network is suspected, no host is marked down for up to ${holdS} s`
    : counts.silent / Math.max(1, counts.total) >= ctx.config.hostSilenceShare
      ? `held for ${holdS} s: the ${counts.silent} silent hosts are taken for lost`
      : `${counts.silent} of ${counts.total} hosts silent now`;
  const event: FleetEvent = { kind, ...counts, reason, at: now.toISOString() };
  if (kind === 'silence_suspected') ctx.log.error({ silent: counts.silent, total: counts.total }, reason);
  else ctx.log.warn({ silent: counts.silent, total: counts.total }, reason);
  await publishAll(ctx.bus, [outgoing(Subjects.fleetEvents.at(kind), event, DedupeIds.fleet(event))]);
}

