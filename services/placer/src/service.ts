import { decode, outgoing, type Outgoing } from '@tangerine/bus';
import { DedupeIds, SLOT_FREEING_STATES, Subjects, type RunDispatch, type TaskEvent } from '@tangerine/contracts';
import {
  failUnreadable, holdLeadership, placeTasks, readReadyTasks, readRunsOnHosts, readStalePlacements, type Placed,
} from '@tangerine/ledger';
import { publishEvents } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import type { Stop } from '@tangerine/runtime';
import { HostView, subscribeAnnouncements } from './hosts.js';
import { UsageView } from './usage.js';

/** Placement is one decision over the whole fleet: one placer acts at a time, the others stand by. */
const PLACER_LOCK = 7_240_002;
/** How often the in-memory slot usage is read again from the ledger. */
const USAGE_REFRESH_MS = 2000;
/**
 * Most ready tasks a pass reads: it looks further than it places, since the oldest tasks may need labels no free
 * host has.
 */
const PAGE = 5000;
/**
 * Most tasks a pass places. What a pass places is held until JetStream has stored its runs and events: a page of
 * 5,000 (10,000 messages, 1–2 s to publish on the 2-core machine) lived long enough to reach V8's old generation,
 * and the placer peaked at 300–390 MB with 10,000 hosts; with 1,000 it peaks at 240–270 MB and places as fast
 * (1,800–3,300/s with 100,000 queued, the machine's two cores saturated by the whole loop).
 */
const PLACE_MAX = 1000;
/** A placement whose run has not started after this long is sent to its agent again. */
const REDISPATCH_AFTER_S = 5;
/** How long the placer remembers that it sent a placement again (once is enough). */
const REDISPATCH_FORGET_MS = 10 * 60_000;

/**
 * placer: ready tasks × live hosts (labels, executor, free slots, cpu/memory) → placed, and the run is sent to
 * that host's agent. Passes are coalesced: one at a time, another right after if something changed meanwhile.
 */
export async function start(ctx: ServiceContext, opts: { usageRefreshMs?: number } = {}): Promise<Stop> {
  const { log } = ctx;
  let running = false;
  let again = false;
  /** Ready tasks were left unplaced by the last pass (or may be: at start, we do not know). */
  let backlog = true;
  const usage = new UsageView(opts.usageRefreshMs ?? USAGE_REFRESH_MS);
  const view = new HostView({ timeoutMs: ctx.config.hostTimeoutMs, now: () => ctx.clock.now().getTime(), onNew: () => nudge() });
  await view.load(ctx.ledger);
  const leadership = holdLeadership({
    connection: ctx.ledger.options, key: PLACER_LOCK, log, onChange: (l) => l && nudge(), application: 'placer-leader',
  });

  /** The messages of the last pass still being published: the next pass does its ledger work meanwhile. */
  let publishing: Promise<void> = Promise.resolve();
  const nudge = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void (async () => {
      // The events of one read from the socket come one callback after another: the pass starts when they all
      // have, at the end of the turn, rather than with the first (and a second pass for the others).
      await new Promise<void>((resolve) => setImmediate(resolve));
      do {
        again = false;
        try {
          if (leadership.isLeader()) {
            const result = await pass(ctx, view, usage, publishing);
            publishing = result.published.catch((err: unknown) => {
              // The redispatch sweep sends a run that never started again; the relay publishes a missing event.
              log.warn({ err }, 'publishing placements failed; the sweeps will send them again');
            });
            backlog = result.backlog;
            again = result.more || again;
          }
        } catch (err) {
          log.warn({ err }, 'placement pass failed; retrying on the next tick');
        }
      } while (again);
      running = false;
    })();
  };

  const stopAnnouncements = subscribeAnnouncements(ctx, view);
  // A run ended and freed its slot (ready: a retry; scheduled: a cron run that ended or was lost). Worth a pass while
  // ready tasks wait for a slot.
  const events = SLOT_FREEING_STATES.map((state) => ctx.bus.nc.subscribe(Subjects.eventsInState(state), {
    callback: (err, msg) => {
      if (err) return;
      try {
        const event = decode(msg.data, Subjects.events);
        const freed = usage.release(event.name, event.attempt);
        if (state === 'ready' || (freed && backlog)) nudge();
      } catch (e) {
        log.warn({ err: e }, 'unreadable event ignored');
      }
    },
  }));
  // A host that starts or stops draining (or goes down) is seen at once, not at the next refresh. The placement's
  // compare-and-set reads the host's state in the ledger anyway: this only spares passes that it would refuse.
  const hostStates = ctx.bus.nc.subscribe(Subjects.hostEvents.wildcard, {
    callback: (err) => {
      if (err || !leadership.isLeader()) return;
      view.refreshDraining(ctx.ledger).then(() => nudge(), (e: unknown) => log.warn({ err: e }, 'reading host states failed'));
    },
  });
  const redispatched = new Map<string, number>();
  let ticks = 0;
  const tick = setInterval(() => {
    nudge();
    if (!leadership.isLeader()) return;
    if (++ticks % 2 === 0) view.refreshDraining(ctx.ledger).catch((err: unknown) => log.warn({ err }, 'reading host states failed'));
    if (ticks % 5 === 0) {
      redispatch(ctx, redispatched).catch((err: unknown) => log.warn({ err }, 'redispatch sweep failed'));
    }
  }, Math.min(1000, ctx.config.heartbeatMs));

  return async () => {
    clearInterval(tick);
    hostStates.unsubscribe();
    for (const sub of events) sub.unsubscribe();
    await stopAnnouncements();
    while (running) await new Promise((r) => setTimeout(r, 10));
    await publishing;
    await leadership.release();
  };
}

/** Sends again, once per placer, the runs a dead placer committed but may never have sent. */
async function redispatch(ctx: ServiceContext, done: Map<string, number>): Promise<void> {
  // Forgotten after a while, so a placer that lives for months does not keep every run it ever sent again; a run
  // still not started by then is sent once more, which its dedupe id or its agent makes harmless.
  const now = Date.now();
  for (const [key, at] of done) {
    if (now - at < REDISPATCH_FORGET_MS) break;
    done.delete(key);
  }
  const stale = (await readStalePlacements(ctx.ledger, REDISPATCH_AFTER_S, { secretsKey: ctx.config.secretsKey })).filter((p) => !done.has(`${p.event.name}:${p.event.attempt}`));
  if (stale.length === 0) return;
  const out: Outgoing[] = [];
  const events: TaskEvent[] = [];
  const unreadable: Placed[] = [];
  for (const p of stale) {
    const { event, spec } = p;
    done.set(`${event.name}:${event.attempt}`, now);
    const host = event.host ?? '';
    if (spec === null) {
      unreadable.push(p);
      continue;
    }
    ctx.log.warn({ task: event.name, attempt: event.attempt, host }, 'run placed but not started; sending it again');
    // The placement's event too: its dedupe id drops it if the dead placer did publish it.
    out.push(dispatchMessage({ name: event.name, attempt: event.attempt, host, spec }));
    events.push(event);
  }
  events.push(...await failPlaced(ctx, unreadable));
  await publishEvents(ctx, events, out);
}

/**
 * Placed tasks whose stored spec does not parse are not dispatched (an agent would refuse them: it parses its
 * dispatch with the same schema); they fail with the reason, which frees their slot and blocks their dependents.
 */
async function failPlaced(ctx: ServiceContext, unreadable: readonly Placed[]): Promise<TaskEvent[]> {
  const reasons = unreadable.flatMap(({ event, error }) => {
    if (!error) return [];
    ctx.log.error({ task: event.name, attempt: event.attempt, host: event.host, err: error }, 'task placed, but its stored spec does not parse; it fails');
    return [{ name: event.name, attempt: event.attempt, reason: `${error.code}: ${error.message}` }];
  });
  return failUnreadable(ctx.ledger, reasons);
}

function dispatchMessage(dispatch: RunDispatch): Outgoing {
  return outgoing(Subjects.agentRun.at(dispatch.host), dispatch, DedupeIds.run(dispatch.name, dispatch.attempt));
}

/**
 * One placement pass. `more`: it placed tasks and either filled every free slot it saw, placed as many as a pass
 * may, or read a whole page of ready tasks, so another pass right away may place more (before the page counted, a
 * queue longer than a page waited for the next tick: 100,000 queued tasks went out 5,000 a second); `backlog`: ready
 * tasks are still waiting, so a freed slot is worth a pass.
 *
 * `published` resolves once this pass's runs and events are on their streams. The pass waits for the previous
 * pass's publishing only after its own ledger work, so the two overlap: the ledger and JetStream took about as long
 * as each other for a page of 5,000 (0.6–1.0 s and 1.1–1.8 s on the 2-core machine under the fleet benchmark), and a
 * pass that waited for both placed half as fast.
 */
async function pass(
  ctx: ServiceContext, view: HostView, usage: UsageView, previous: Promise<void>,
): Promise<{ more: boolean; backlog: boolean; published: Promise<void> }> {
  const t0 = performance.now();
  const now = ctx.clock.now().getTime();
  if (usage.stale(now)) usage.replace(await readRunsOnHosts(ctx.ledger), now);
  const fleet = view.fleet();
  const free = fleet.free(usage.loads());
  if (free === 0) return { more: false, backlog: true, published: previous };
  // Look further than the free slots: the oldest tasks may need labels no free host has.
  const page = Math.min(PAGE, Math.max(256, free * 4));
  const ready = await readReadyTasks(ctx.ledger, page);
  if (ready.length === 0) return { more: false, backlog: false, published: previous };
  const placed = await placeTasks(ctx.ledger, fleet.assign(ready, usage.loads(), PLACE_MAX), { secretsKey: ctx.config.secretsKey });
  const out: Outgoing[] = [];
  const events: TaskEvent[] = [];
  const unreadable: Placed[] = [];
  for (const p of placed) {
    const { event, spec } = p;
    const host = event.host ?? '';
    if (spec === null) {
      unreadable.push(p);
      events.push(event);
      continue;
    }
    usage.add({ name: event.name, host, attempt: event.attempt, cpu: spec.cpu, memory: spec.memory });
    ctx.log.info({ task: event.name, attempt: event.attempt, host }, 'task placed');
    out.push(dispatchMessage({ name: event.name, attempt: event.attempt, host, spec }));
    events.push(event);
  }
  if (unreadable.length > 0) events.push(...await failPlaced(ctx, unreadable));
  const t1 = performance.now();
  await previous;
  const t2 = performance.now();
  const published = events.length === 0 ? Promise.resolve() : publishEvents(ctx, events, out).then(() => {
    ctx.log.debug({
      free, ready: ready.length, placed: placed.length, ledger_ms: Math.round(t1 - t0), wait_ms: Math.round(t2 - t1),
      publish_ms: Math.round(performance.now() - t2),
    }, 'placement pass');
  });
  const backlog = ready.length > placed.length || ready.length >= page;
  const more = placed.length > 0 && (placed.length >= Math.min(free, PLACE_MAX) || ready.length >= page);
  return { more, backlog, published };
}
