import { decode, disposition, publishAll, type Outgoing } from '@tangerine/bus';
import { Subjects, Validators, type FleetEvent, type HostEvent, type HostState, type TaskEvent } from '@tangerine/contracts';
import {
  countSilentHosts, findStaleRuns, markHostsDown, pruneHistory, readUnpublished, recordHeartbeats, removeHosts, requeueFromDownHosts,
  requeueLostRuns, type Heartbeat,
} from '@tangerine/ledger';
import { publishEvents, type ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';
import { Evidence } from './evidence.js';
import { HeartbeatBuffer, heldRuns } from './heartbeats.js';
import { decideSilence } from './silence.js';
import { serveHostRequests } from './requests.js';

/** A change whose event is not on the stream after this long is published again. */
const REPUBLISH_AFTER_MS = 5000;
const SWEEP_MS = 1000;

/**
 * host-health: agents' heartbeats → the ledger (one statement per interval); hosts silent for HOST_TIMEOUT go down
 * and their runs are requeued (host_lost), or failed when the task may not restart; an agent that restarted loses
 * the runs it did not take back (run_lost); a host that still runs what the ledger moved elsewhere is told to
 * stop it (fencing). It also publishes again the events of changes whose publisher died after its commit, and
 * prunes the history the ledger no longer keeps (runs, fire records: see `startPruning`).
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
  const sub = ctx.bus.nc.subscribe(Subjects.hostAnnounce.subject, {
    callback: (err, msg) => {
      if (err) return;
      try {
        buffer.add(decode(msg.data, Validators.hostAnnounce), clock.now());
      } catch (e) {
        ctx.metrics.inc('announcements_refused');
        log.warn({ err: e }, 'unreadable host announcement ignored');
      }
    },
  });
  const requests = serveHostRequests(ctx);
  const stopPruning = startPruning(ctx);

  /** A ledger step: its failure closes the evidence until the ledger answers again. */
  const step = async (what: string, fn: () => Promise<void>): Promise<boolean> => {
    try {
      await fn();
      evidence.ledgerAnswered(clock.now().getTime());
      return true;
    } catch (err) {
      if (disposition(err) === 'outage') evidence.ledgerFailed();
      log.warn({ err }, `${what} failed`);
      return false;
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
        let away = false;
        await step('recording heartbeats', () => flush(ctx, beats).catch((err: unknown) => {
          away = disposition(err) === 'outage';
          throw err;
        }));
        if (away) buffer.restore(beats);
      } else if (evidence.ledgerAway) {
        // Only a statement that reached the ledger says it is back.
        await step('reaching the ledger', () => probe(ctx));
      }
      if (!evidence.mayMarkDown(clock.now().getTime(), ctx.bus.connectedSince())) return;
      await step('host sweep', () => sweep(ctx, ticks, silence));
      if (ticks % Math.round(REPUBLISH_AFTER_MS / SWEEP_MS) === 0) {
        await step('republishing events', () => republish(ctx));
      }
    });
  }, Math.min(SWEEP_MS, config.heartbeatMs));

  return async () => {
    clearInterval(timer);
    sub.unsubscribe();
    for (const s of requests) s.unsubscribe();
    await Promise.all([busy, stopPruning()]);
  };
}

/** The time one prune may take; a walk through the tasks that did not reach the last one resumes this soon after. */
const PRUNE_BUDGET_MS = 1000;
const PRUNE_CATCH_UP_MS = 5000;

/**
 * Every PRUNE_INTERVAL, runs and fire records beyond RUNS_KEEP, FIRES_KEEP and HISTORY_RETENTION are deleted, in
 * statements of at most 5,000 rows for at most PRUNE_BUDGET_MS. On its own timer, never in the heartbeat and host
 * sweep above: a long prune does not delay a host's going down. A walk through a large ledger (or the backlog an
 * upgrade finds) goes on where it stopped after PRUNE_CATCH_UP_MS of rest: about a sixth of one ledger connection
 * until it has caught up. Replicas prune side by side: rows another one holds are skipped, never waited for.
 */
function startPruning(ctx: ServiceContext): Stop {
  const { config, log } = ctx;
  if (config.pruneIntervalMs === 0) return async () => undefined;
  const policy = { runsKeep: config.runsKeep, historyMs: config.historyRetentionMs, firesKeep: config.firesKeep };
  let stopped = false;
  let resume = '';
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const schedule = (ms: number): void => {
    if (!stopped) timer = setTimeout(() => { running = prune(); }, ms);
  };
  const prune = async (): Promise<void> => {
    let next = config.pruneIntervalMs;
    try {
      const r = await pruneHistory(ctx.ledger, policy, { now: ctx.clock.now(), budgetMs: PRUNE_BUDGET_MS, after: resume });
      resume = r.resume ?? '';
      if (r.resume !== null) next = Math.min(next, PRUNE_CATCH_UP_MS);
      ctx.metrics.inc('pruned_runs', r.runs);
      ctx.metrics.inc('pruned_fires', r.fires);
      if (r.runs + r.fires > 0) {
        log.info({ runs: r.runs, fires: r.fires, statements: r.statements, complete: r.resume === null }, 'history pruned');
      }
    } catch (err) {
      log.warn({ err }, 'pruning history failed');
    }
    schedule(next);
  };
  schedule(config.pruneIntervalMs);
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}

async function flush(ctx: ServiceContext, beats: Heartbeat[]): Promise<void> {
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
    return {
      subject: Subjects.agentStop.make(s.host), data: { name: s.name, attempt: s.attempt, reason: `stale: ${s.reason}` },
      msgId: `stale:${s.host}:${s.name}:${s.attempt}`,
    };
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

async function probe(ctx: ServiceContext): Promise<void> {
  await ctx.ledger.query('SELECT 1');
}

/** The requeue of runs on down hosts also runs every this many sweeps when no host went down, as a safety net. */
const REQUEUE_EVERY = 5;

interface SilenceState {
  holdingSince: number | null;
}

async function sweep(ctx: ServiceContext, tick: number, silence: SilenceState): Promise<void> {
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
  await publishAll(ctx.bus, [{ subject: Subjects.fleetEvents.make(kind), data: event, msgId: `fleet:${kind}:${event.at}` }]);
}

async function republish(ctx: ServiceContext): Promise<void> {
  const missing = await readUnpublished(ctx.ledger, ctx.clock.now(), REPUBLISH_AFTER_MS);
  if (missing.length === 0) return;
  for (const e of missing) ctx.log.warn({ task: e.name, attempt: e.attempt, host: e.host, state: e.state }, 'event missing from the stream; publishing it again');
  await publishEvents(ctx, missing);
}

function hostEvent(ctx: ServiceContext, host: string, state: HostEvent['state'], from: HostState | null, reason: string): HostEvent {
  return { host, state, from, reason, at: ctx.clock.now().toISOString() };
}

async function announce(ctx: ServiceContext, hosts: HostEvent[], tasks: TaskEvent[], others: Outgoing[]): Promise<void> {
  for (const h of hosts) {
    const line = { host: h.host, state: h.state, from: h.from, reason: h.reason };
    if (h.state === 'down' || h.state === 'removed') ctx.log.warn(line, `host ${h.state}`);
    else ctx.log.info(line, `host ${h.state}`);
  }
  for (const e of tasks) ctx.log.warn({ task: e.name, attempt: e.attempt, host: e.host, state: e.state, reason: e.reason }, `task ${e.state}`);
  const hostMessages: Outgoing[] = hosts.map((h) => ({
    subject: Subjects.hostEvents.make(h.host, h.state), data: h, msgId: `host:${h.host}:${h.state}:${h.at}`,
  }));
  if (tasks.length > 0) await publishEvents(ctx, tasks, [...others, ...hostMessages]);
  else if (others.length + hostMessages.length > 0) await publishAll(ctx.bus, [...others, ...hostMessages]);
}

