import type { Bus } from '@tangerine/bus';
import type { HostAnnounce } from '@tangerine/contracts';
import { listHosts, type Ledger } from '@tangerine/ledger';
import { listenToAnnouncements } from '@tangerine/platform';
import type { Logger, Metrics, Stop } from '@tangerine/runtime';
import { Fleet } from './scoring.js';

/** What placement takes from a host's announcements: not the runs it lists. */
type Shape = Pick<HostAnnounce, 'host' | 'labels' | 'executors' | 'slots' | 'cpu' | 'memory'>;

interface Known {
  shape: Shape;
  seenAt: number;
}

/**
 * The live host view, held in memory: agents' announcements arrive on core NATS (host-health writes them to the
 * ledger); which hosts are draining comes from the ledger, read again every refresh. Placement reads it as a
 * `Fleet`, built again only when what placement sees changes: a host joins, leaves (silent for the timeout) or comes
 * back, changes its labels, executors, slots, cpu or memory, or starts or stops draining. A heartbeat that changes
 * nothing (nearly all of them: 5,000 a second from 10,000 hosts) costs a comparison.
 */
export class HostView {
  private readonly hosts = new Map<string, Known>();
  private draining = new Set<string>();
  private built: { fleet: Fleet; live: Known[] } | null = null;

  constructor(private readonly opts: { timeoutMs: number; now: () => number; onNew: () => void }) {}

  /** Every host the ledger knows and is not down (at start, before their announcements come), and which drain. */
  async load(ledger: Ledger): Promise<void> {
    const rows = await listHosts(ledger);
    this.setDraining(rows.filter((h) => h.state === 'draining').map((h) => h.id));
    for (const h of rows) {
      if (h.state === 'down' || this.hosts.has(h.id)) continue;
      this.hosts.set(h.id, {
        shape: { host: h.id, labels: h.labels, slots: h.slots, executors: h.executors, cpu: h.cpu, memory: h.memory },
        seenAt: h.last_seen.getTime(),
      });
      this.built = null;
    }
  }

  /**
   * An unchanged host only has its time updated: the announcement itself is dropped at once, so the 5,000 a second
   * of a large fleet die young instead of being kept for a heartbeat interval and filling the old generation.
   */
  /** Which hosts drain, read again every refresh: only those rows, not the whole fleet's (10,000 rows every 2 s). */
  async refreshDraining(ledger: Ledger): Promise<void> {
    this.setDraining((await listHosts(ledger, { state: 'draining' })).map((h) => h.id));
  }

  private setDraining(ids: readonly string[]): void {
    const draining = new Set(ids);
    if (draining.size !== this.draining.size || ids.some((id) => !this.draining.has(id))) this.built = null;
    this.draining = draining;
  }

  see(announce: HostAnnounce): void {
    const now = this.opts.now();
    const known = this.hosts.get(announce.host);
    const revived = !known || now - known.seenAt > this.opts.timeoutMs;
    if (known && !revived && sameShape(known.shape, announce)) {
      known.seenAt = now;
      return;
    }
    const { host, labels, executors, slots, cpu, memory } = announce;
    this.hosts.set(host, { shape: { host, labels, executors, slots, cpu, memory }, seenAt: now });
    this.built = null;
    if (revived || known.shape.slots !== slots) this.opts.onNew();
  }

  /** The live hosts (heard from within the timeout), draining ones left out, indexed for placement. */
  fleet(): Fleet {
    const now = this.opts.now();
    // A host that fell silent since the last build leaves the fleet: a loop over numbers, no allocation.
    if (this.built && this.built.live.some((k) => now - k.seenAt > this.opts.timeoutMs)) this.built = null;
    if (!this.built) {
      const live = [...this.hosts.values()].filter((k) => now - k.seenAt <= this.opts.timeoutMs);
      this.built = {
        live,
        fleet: new Fleet(live.map(({ shape: a }) => ({
          id: a.host, labels: a.labels, executors: a.executors, slots: a.slots, cpu: a.cpu, memory: a.memory,
          draining: this.draining.has(a.host), used: 0, cpuUsed: 0, memoryUsed: 0,
        }))),
      };
    }
    return this.built.fleet;
  }
}

/** Do two announcements of a host offer the same to placement (labels, executors, slots, cpu, memory)? */
function sameShape(a: Shape, b: Shape): boolean {
  if (a.slots !== b.slots || a.cpu !== b.cpu || a.memory !== b.memory) return false;
  if (a.executors.length !== b.executors.length || a.executors.some((e, i) => b.executors[i] !== e)) return false;
  const ak = Object.keys(a.labels);
  if (ak.length !== Object.keys(b.labels).length) return false;
  return ak.every((k) => a.labels[k] === b.labels[k]);
}

/** The genuine announcements into the view; a forged one (its payload names another host) is refused and logged. */
export function subscribeAnnouncements(ctx: { bus: Pick<Bus, 'nc'>; log: Logger; metrics: Metrics }, view: HostView): Stop {
  return listenToAnnouncements(ctx, (announce) => view.see(announce));
}
