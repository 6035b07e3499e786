import { eventMessage, publishAll, type Outgoing } from '@tangerine/bus';
import { Subjects, type RunDispatch } from '@tangerine/contracts';
import { holdLeadership, placeTasks, readHostUsage, readReadyTasks } from '@tangerine/ledger';
import type { ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';
import { HostView, subscribeAnnouncements } from './hosts.js';
import { assign } from './scoring.js';

/** Placement is one decision over the whole fleet: one placer acts at a time, the others stand by. */
const PLACER_LOCK = 7_240_002;
/** Events after which a pass may find work: a task became ready, or a slot freed. */
const NUDGING = ['ready', 'success', 'failed', 'cancelled'] as const;

/**
 * placer: ready tasks × live hosts (labels, executor, free slots, cpu/memory) → placed, and the run is sent to
 * that host's agent. Passes are coalesced: one at a time, another right after if something changed meanwhile.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const { log } = ctx;
  let running = false;
  let again = false;
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
          if (leadership.isLeader()) again = (await pass(ctx, view)) || again;
        } catch (err) {
          log.warn({ err }, 'placement pass failed; retrying on the next tick');
        }
      } while (again);
      running = false;
    })();
  };

  const stopAnnouncements = subscribeAnnouncements(ctx.bus, view, log);
  const events = NUDGING.map((state) => ctx.bus.nc.subscribe(Subjects.eventsInState(state), { callback: () => nudge() }));
  const tick = setInterval(() => {
    nudge();
    view.flush(ctx.ledger).catch((err: unknown) => log.warn({ err }, 'host view flush failed'));
  }, Math.min(1000, ctx.config.heartbeatMs));

  return async () => {
    clearInterval(tick);
    for (const sub of events) sub.unsubscribe();
    await stopAnnouncements();
    while (running) await new Promise((r) => setTimeout(r, 10));
    await leadership.release();
  };
}

/** One placement pass. Returns true when it filled every free slot it saw, so another pass may find more. */
async function pass(ctx: ServiceContext, view: HostView): Promise<boolean> {
  const t0 = performance.now();
  const hosts = view.capacities(await readHostUsage(ctx.ledger));
  const free = hosts.reduce((n, h) => n + (h.draining ? 0 : Math.max(0, h.slots - h.used)), 0);
  if (free === 0) return false;
  // Look further than the free slots: the oldest tasks may need labels no free host has.
  const ready = await readReadyTasks(ctx.ledger, Math.min(5000, Math.max(256, free * 4)));
  if (ready.length === 0) return false;
  const placed = await placeTasks(ctx.ledger, assign(ready, hosts));
  const out: Outgoing[] = [];
  for (const { event, spec } of placed) {
    const host = event.host ?? '';
    ctx.log.info({ task: event.name, attempt: event.attempt, host }, 'task placed');
    const dispatch: RunDispatch = { name: event.name, attempt: event.attempt, host, spec };
    out.push({ subject: Subjects.agentRun.make(host), data: dispatch, msgId: `run:${event.name}:${event.attempt}` });
    out.push(eventMessage(event));
  }
  const t1 = performance.now();
  await publishAll(ctx.bus, out);
  ctx.log.debug({ free, ready: ready.length, placed: placed.length, ledger_ms: Math.round(t1 - t0), publish_ms: Math.round(performance.now() - t1) }, 'placement pass');
  return placed.length > 0 && placed.length >= free;
}
