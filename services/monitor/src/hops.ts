import { Subjects, isTaskState, type TaskEvent, type TaskState } from '@tangerine/contracts';
import type { Stop } from '@tangerine/runtime';
import type { ServiceContext } from './config.js';

/** The hops of a task's way: each named for the state it arrives in. */
export const HOPS = ['ready', 'placed', 'running', 'finished'] as const;
export type Hop = (typeof HOPS)[number];

/** Seconds: from a placement in milliseconds to a queue of an hour. */
export const HOP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** Tasks whose last event is remembered; beyond it the oldest is forgotten (about 100 bytes each: 10 MB at most). */
const REMEMBERED = 100_000;

/** The hop an event of `state` ends, or null for states that end none (waiting, scheduled, blocked, cancelled). */
export function hopOf(state: TaskState): Hop | null {
  switch (state) {
    case 'ready': return 'ready';
    case 'placed': return 'placed';
    case 'running': return 'running';
    case 'success': case 'failed': return 'finished';
    default: return null;
  }
}

type Seen = Pick<TaskEvent, 'name' | 'state' | 'version' | 'at'>;

/**
 * Times each hop from the events alone: the time of an event minus the time of the task's previous one (both the
 * ledger's times of the change). A task submitted straight to `ready` has no ready hop (its first event is that one);
 * an event older than the last one seen of its task (a republished one) times nothing.
 */
export class HopClock {
  private readonly last = new Map<string, { version: number; atMs: number }>();

  constructor(private readonly remembered = REMEMBERED) {}

  see(e: Seen): { hop: Hop; seconds: number } | null {
    const atMs = Date.parse(e.at);
    const prev = this.last.get(e.name);
    if (prev && prev.version >= e.version) return null;
    // Deleted and set again: the map's order is the order of last change, so the first key is the oldest.
    this.last.delete(e.name);
    if (e.state === 'failed' || e.state === 'cancelled' || e.state === 'blocked') {
      // Nothing follows these but a new submission (its own first event).
    } else {
      this.last.set(e.name, { version: e.version, atMs });
      if (this.last.size > this.remembered) this.last.delete(this.last.keys().next().value!);
    }
    const hop = hopOf(e.state);
    if (!prev || hop === null || !Number.isFinite(atMs) || atMs < prev.atMs) return null;
    return { hop, seconds: (atMs - prev.atMs) / 1000 };
  }

  get size(): number {
    return this.last.size;
  }
}

/**
 * The hop histograms (`tangerine_task_hop_seconds{hop}`), observed here, once, from the events: every service that
 * changes a task publishes its event, so one reader sees every hop without a column or a statement more in the
 * ledger. A plain NATS subscription to the events' subjects, not a JetStream consumer: an ordered consumer cost the
 * monitor about 45 µs an event (3.8 s of CPU in the pipeline bench's 20,000 tasks, and nats-server 2.4 s more), and
 * a histogram may miss an event a reconnect drops. Each monitor replica reads every event, so each one shows the
 * whole histogram: take one replica's, do not add them.
 */
export async function observeHops(ctx: ServiceContext): Promise<Stop> {
  const histogram = ctx.metrics.histogram('task_hop_seconds',
    'Seconds from a task\'s previous change to its arrival in the state of the hop (ready, placed, running, finished)', ['hop'], HOP_BUCKETS);
  for (const hop of HOPS) histogram.zero({ hop });
  const clock = new HopClock();
  const decoder = new TextDecoder();
  const sub = ctx.bus.nc.subscribe(Subjects.events.wildcard, {
    callback: (err, m) => {
      if (err) return;
      const e = readEvent(decoder, m.data);
      const timed = e && clock.see(e);
      if (timed) histogram.observe({ hop: timed.hop }, timed.seconds);
    },
  });
  return () => {
    sub.unsubscribe();
    return Promise.resolve();
  };
}

/** Only what the clock needs, checked: an event that does not have it times nothing. */
function readEvent(decoder: { decode(data: Uint8Array): string }, data: Uint8Array): Seen | null {
  try {
    const e = JSON.parse(decoder.decode(data)) as Partial<Seen>;
    if (typeof e.name !== 'string' || !isTaskState(e.state) || typeof e.version !== 'number' || typeof e.at !== 'string') return null;
    return { name: e.name, state: e.state, version: e.version, at: e.at };
  } catch {
    return null;
  }
}
