import { decode, type Outgoing } from '@tangerine/bus';
import { Subjects, Validators, type RunDispatch, type TaskEvent } from '@tangerine/contracts';
import { holdLeadership, placeTasks, readReadyTasks, readRunsOnHosts, readStalePlacements } from '@tangerine/ledger';
import { publishEvents, type ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';
import { HostView, subscribeAnnouncements } from './hosts.js';
import { assign } from './scoring.js';
import { UsageView } from './usage.js';

/** Placement is one decision over the whole fleet: one placer acts at a time, the others stand by. */
const PLACER_LOCK = 7_240_002;
/** A run ended and freed its slot (ready: a retry). Worth a pass while ready tasks wait for a slot. */
const FREEING = ['success', 'failed', 'cancelled', 'ready'] as const;
/** How often the in-memory slot usage is read again from the ledger. */
const USAGE_REFRESH_MS = 2000;
/** A placement whose run has not started after this long is sent to its agent again. */
const REDISPATCH_AFTER_S = 5;

/**
 * placer: ready tasks × live hosts (labels, executor, free slots, cpu/memory) → placed, and the run is sent to
 * that host's agent. Passes are coalesced: one at a time, another right after if something changed meanwhile.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const { log } = ctx;
  let running = false;
  let again = false;
  /** Ready tasks were left unplaced by the last pass (or may be: at start, we do not know). */
  let backlog = true;
  const usage = new UsageView(USAGE_REFRESH_MS);
  const view = new HostView({ timeoutMs: ctx.config.hostTimeoutMs, now: () => ctx.clock.now().getTime(), onNew: () => nudge() });
  await view.load(ctx.ledger);
  const leadership = holdLeadership({ databaseUrl: ctx.config.databaseUrl, key: PLACER_LOCK, log, onChange: (l) => l && nudge() });

  const nudge = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void (async () => {
      do {
        again = false;
        try {
          if (leadership.isLeader()) {
            const result = await pass(ctx, view, usage);
            backlog = result.backlog;
            again = result.full || again;
          }
        } catch (err) {
          log.warn({ err }, 'placement pass failed; retrying on the next tick');
        }
      } while (again);
      running = false;
    })();
  };

  const stopAnnouncements = subscribeAnnouncements(ctx.bus, view, log);
  const events = FREEING.map((state) => ctx.bus.nc.subscribe(Subjects.eventsInState(state), {
    callback: (err, msg) => {
      if (err) return;
      try {
        const event = decode(msg.data, Validators.taskEvent);
        const freed = usage.release(event.name, event.attempt);
        if (state === 'ready' || (freed && backlog)) nudge();
      } catch (e) {
        log.warn({ err: e }, 'unreadable event ignored');
      }
    },
  }));
  const redispatched = new Set<string>();
  let ticks = 0;
  const tick = setInterval(() => {
    nudge();
    if (!leadership.isLeader()) return;
    if (++ticks % 2 === 0) view.load(ctx.ledger).catch((err: unknown) => log.warn({ err }, 'reading host states failed'));
    if (ticks % 5 === 0) {
      redispatch(ctx, redispatched).catch((err: unknown) => log.warn({ err }, 'redispatch sweep failed'));
    }
  }, Math.min(1000, ctx.config.heartbeatMs));

  return async () => {
    clearInterval(tick);
    for (const sub of events) sub.unsubscribe();
    await stopAnnouncements();
    while (running) await new Promise((r) => setTimeout(r, 10));
    await leadership.release();
  };
}

/** Sends again, once per placer, the runs a dead placer committed but may never have sent. */
async function redispatch(ctx: ServiceContext, done: Set<string>): Promise<void> {
  const stale = (await readStalePlacements(ctx.ledger, REDISPATCH_AFTER_S)).filter((p) => !done.has(`${p.event.name}:${p.event.attempt}`));
  if (stale.length === 0) return;
  const out: Outgoing[] = [];
  const events: TaskEvent[] = [];
  for (const { event, spec } of stale) {
    done.add(`${event.name}:${event.attempt}`);
    const host = event.host ?? '';
    ctx.log.warn({ task: event.name, attempt: event.attempt, host }, 'run placed but not started; sending it again');
    // The placement's event too: its dedupe id drops it if the dead placer did publish it.
    out.push(dispatchMessage({ name: event.name, attempt: event.attempt, host, spec }));
    events.push(event);
  }
  await publishEvents(ctx, events, out);
}

function dispatchMessage(dispatch: RunDispatch): Outgoing {
  return { subject: Subjects.agentRun.make(dispatch.host), data: dispatch, msgId: `run:${dispatch.name}:${dispatch.attempt}` };
}

/**
 * One placement pass. `full`: it filled every free slot it saw, so another pass may find more; `backlog`:
 * ready tasks are still waiting, so a freed slot is worth a pass.
 */
async function pass(ctx: ServiceContext, view: HostView, usage: UsageView): Promise<{ full: boolean; backlog: boolean }> {
  const t0 = performance.now();
  const now = ctx.clock.now().getTime();
  if (usage.stale(now)) usage.replace(await readRunsOnHosts(ctx.ledger), now);
  const hosts = view.capacities(usage.totals());
  const free = hosts.reduce((n, h) => n + (h.draining ? 0 : Math.max(0, h.slots - h.used)), 0);
  if (free === 0) return { full: false, backlog: true };
  // Look further than the free slots: the oldest tasks may need labels no free host has.
  const ready = await readReadyTasks(ctx.ledger, Math.min(5000, Math.max(256, free * 4)));
  if (ready.length === 0) return { full: false, backlog: false };
  const placed = await placeTasks(ctx.ledger, assign(ready, hosts));
  const out: Outgoing[] = [];
  const events: TaskEvent[] = [];
  for (const { event, spec } of placed) {
    const host = event.host ?? '';
    usage.add({ name: event.name, host, attempt: event.attempt, cpu: spec.cpu, memory: spec.memory });
    ctx.log.info({ task: event.name, attempt: event.attempt, host }, 'task placed');
    out.push(dispatchMessage({ name: event.name, attempt: event.attempt, host, spec }));
    events.push(event);
  }
  const t1 = performance.now();
  await publishEvents(ctx, events, out);
  ctx.log.debug({ free, ready: ready.length, placed: placed.length, ledger_ms: Math.round(t1 - t0), publish_ms: Math.round(performance.now() - t1) }, 'placement pass');
  return { full: placed.length > 0 && placed.length >= free, backlog: ready.length > placed.length };
}
