import { decode, publishAll, type Outgoing } from '@tangerine/bus';
import { Subjects, Validators, type HostEvent, type HostState, type TaskEvent } from '@tangerine/contracts';
import {
  findStaleRuns, markHostsDown, pruneHistory, readUnpublished, recordHeartbeats, removeHosts, requeueFromDownHosts,
  requeueLostRuns, type Heartbeat,
} from '@tangerine/ledger';
import { publishEvents, type ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';
import { HeartbeatBuffer, heldRuns } from './heartbeats.js';
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
  const startedAt = clock.now().getTime();
  const sub = ctx.bus.nc.subscribe(Subjects.hostAnnounce.subject, {
    queue: 'tangerine-host-health',
    callback: (err, msg) => {
      if (err) return;
      try {
        buffer.add(decode(msg.data, Validators.hostAnnounce), clock.now());
      } catch (e) {
        log.warn({ err: e }, 'unreadable host announcement ignored');
      }
    },
  });
  const requests = serveHostRequests(ctx);
  const stopPruning = startPruning(ctx);

  let busy: Promise<void> = Promise.resolve();
  let ticks = 0;
  const timer = setInterval(() => {
    ticks += 1;
    busy = busy.then(async () => {
      await flush(ctx, buffer.take()).catch((err: unknown) => log.warn({ err }, 'recording heartbeats failed'));
      // Right after a start, last_seen may be old only because no replica was recording: give agents a timeout.
      if (clock.now().getTime() - startedAt < config.hostTimeoutMs) return;
      await sweep(ctx, ticks).catch((err: unknown) => log.warn({ err }, 'host sweep failed'));
      if (ticks % Math.round(REPUBLISH_AFTER_MS / SWEEP_MS) === 0) {
        await republish(ctx).catch((err: unknown) => log.warn({ err }, 'republishing events failed'));
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
  if (beats.length === 0) return;
  const results = await recordHeartbeats(ctx.ledger, beats);
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

/** The requeue of runs on down hosts also runs every this many sweeps when no host went down, as a safety net. */
const REQUEUE_EVERY = 5;

async function sweep(ctx: ServiceContext, tick: number): Promise<void> {
  const now = ctx.clock.now();
  const down = await markHostsDown(ctx.ledger, new Date(now.getTime() - ctx.config.hostTimeoutMs), now);
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

