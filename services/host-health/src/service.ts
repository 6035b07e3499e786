import { disposition } from '@tangerine/bus';
import { listenToAnnouncements } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import type { Stop } from '@tangerine/runtime';
import { Evidence } from './evidence.js';
import { flush } from './flush.js';
import { HeartbeatBuffer } from './heartbeats.js';
import { startPruning } from './prune.js';
import { serveHostRequests } from './requests.js';
import { sweep, type SilenceState } from './sweep.js';

const SWEEP_MS = 1000;

/**
 * host-health: agents' heartbeats → the ledger (one statement per interval); hosts silent for HOST_TIMEOUT go down
 * and their runs are requeued (host_lost), or failed when the task may not restart; an agent that restarted loses
 * the runs it did not take back (run_lost); a host that still runs what the ledger moved elsewhere is told to
 * stop it (fencing). It also prunes the history the ledger no longer keeps (runs, fire records: see `startPruning`).
 * Publishing again the events of changes whose publisher died after its commit is the relay's (services/relay).
 * Every decision is a compare-and-set in the ledger, so replicas may run side by side.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const { log, config, clock } = ctx;
  const buffer = new HeartbeatBuffer();
  const evidence = new Evidence(config.hostTimeoutMs, clock.now().getTime());
  const silence: SilenceState = { holdingSince: null };
  // Every replica hears every announcement (no queue group): a replica that cannot write the ledger would otherwise
  // swallow the heartbeats of the hosts that happened to pick it, and the others would take those hosts for lost.
  // `last_seen` only moves forward, so two replicas writing the same heartbeat agree.
  // One whose payload names another host than its subject is refused (logged, counted), never written.
  const stopListening = listenToAnnouncements(ctx, (announce) => buffer.add(announce, clock.now()));
  const requests = serveHostRequests(ctx);
  const stopPruning = startPruning(ctx);

  /** A ledger step; an outage closes the evidence until the ledger answers again. Gives what failed it, or null. */
  const step = async (what: string, fn: () => Promise<void>): Promise<unknown> => {
    try {
      await fn();
      evidence.ledgerAnswered(clock.now().getTime());
      return null;
    } catch (err) {
      if (disposition(err) === 'outage') evidence.ledgerFailed();
      log.warn({ err }, `${what} failed`);
      return err;
    }
  };

  let busy: Promise<void> = Promise.resolve();
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    busy = busy.then(async () => {
      const beats = buffer.take();
      if (beats.length > 0) {
        // Heartbeats that came while the ledger was away are written when it is back, not dropped.
        const failed = await step('recording heartbeats', () => flush(ctx, beats));
        if (failed !== null && disposition(failed) === 'outage') buffer.restore(beats);
      } else if (evidence.ledgerAway) {
        // Only a statement that reached the ledger says it is back.
        await step('reaching the ledger', () => probe(ctx));
      }
      if (!evidence.mayMarkDown(clock.now().getTime(), ctx.bus.connectedSince())) return;
      await step('host sweep', () => sweep(ctx, ticks, silence));
    });
  }, Math.min(SWEEP_MS, config.heartbeatMs));

  return async () => {
    clearInterval(timer);
    await stopListening();
    for (const s of requests) s.unsubscribe();
    await Promise.all([busy, stopPruning()]);
  };
}

async function probe(ctx: ServiceContext): Promise<void> {
  await ctx.ledger.query('SELECT 1');
}

