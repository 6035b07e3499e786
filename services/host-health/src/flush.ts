import { disposition, stopMessage, type Outgoing } from '@tangerine/bus';
import { DedupeIds, type HostEvent, type TaskEvent } from '@tangerine/contracts';
import { findStaleRuns, recordHeartbeats, requeueLostRuns, type Heartbeat } from '@tangerine/ledger';
import type { ServiceContext } from './config.js';
import { announce, hostEvent } from './announce.js';
import { heldRuns } from './heartbeats.js';

/**
 * Heartbeats → the ledger, in one statement: a host new or back is `up`; an agent that restarted loses the runs it
 * did not take back (run_lost); a host that still runs what the ledger moved on from is told to stop it (fencing).
 */
export async function flush(ctx: ServiceContext, beats: Heartbeat[]): Promise<void> {
  const results = await record(ctx, beats);
  const hostEvents: HostEvent[] = [];
  const taskEvents: TaskEvent[] = [];
  for (const r of results) {
    if (r.from === null || r.from === 'down') hostEvents.push(hostEvent(ctx, r.id, r.state, r.from, r.from === null ? 'first heartbeat' : 'heard from again'));
    if (!r.rebooted) continue;
    const beat = beats.find((b) => b.announce.host === r.id)!;
    const lost = await requeueLostRuns(ctx.ledger, r.id, new Date(beat.announce.boot!), beat.announce.running);
    ctx.log.info({ host: r.id, lost: lost.length }, 'agent restarted');
    taskEvents.push(...lost);
  }
  const stale = await findStaleRuns(ctx.ledger, heldRuns(beats));
  const stops: Outgoing[] = stale.map((s) => {
    ctx.log.warn({ task: s.name, attempt: s.attempt, host: s.host, reason: s.reason }, 'stopping a stale run');
    return stopMessage(s, `stale: ${s.reason}`, DedupeIds.stale(s.host, s.name, s.attempt));
  });
  await announce(ctx, hostEvents, taskEvents, stops);
}

/**
 * One statement for every heartbeat. Should one announcement break it (a value the ledger refuses), each is written
 * alone and that one dropped: one bad announcement must not keep every host's heartbeat out of the ledger, which
 * would have them all taken for lost.
 */
async function record(ctx: ServiceContext, beats: Heartbeat[]): Promise<Awaited<ReturnType<typeof recordHeartbeats>>> {
  try {
    return await recordHeartbeats(ctx.ledger, beats);
  } catch (err) {
    if (disposition(err) === 'outage' || beats.length === 1) throw err;
    const results: Awaited<ReturnType<typeof recordHeartbeats>> = [];
    for (const b of beats) {
      try {
        results.push(...(await recordHeartbeats(ctx.ledger, [b])));
      } catch (e) {
        if (disposition(e) === 'outage') throw e;
        ctx.log.warn({ err: e, host: b.announce.host }, 'heartbeat refused by the ledger; dropped');
      }
    }
    return results;
  }
}

