import { decode, type Bus } from '@tangerine/bus';
import { Subjects, Validators, type HostAnnounce } from '@tangerine/contracts';
import { listHosts, type Ledger } from '@tangerine/ledger';
import type { Logger, Stop } from '@tangerine/runtime';
import type { HostCapacity } from './scoring.js';
import type { HostTotals } from './usage.js';

interface Known {
  announce: HostAnnounce;
  seenAt: number;
}

/**
 * The live host view, held in memory: agents' announcements arrive on core NATS (host-health writes them to the
 * ledger); which hosts are draining comes from the ledger, read again every refresh.
 */
export class HostView {
  private readonly hosts = new Map<string, Known>();
  private draining = new Set<string>();

  constructor(private readonly opts: { timeoutMs: number; now: () => number; onNew: () => void }) {}

  async load(ledger: Ledger): Promise<void> {
    const rows = await listHosts(ledger);
    this.draining = new Set(rows.filter((h) => h.state === 'draining').map((h) => h.id));
    for (const h of rows) {
      if (h.state === 'down' || this.hosts.has(h.id)) continue;
      this.hosts.set(h.id, {
        announce: {
          host: h.id, labels: h.labels, slots: h.slots, executors: h.executors, cpu: h.cpu, memory: h.memory, running: [],
          at: h.last_seen.toISOString(),
        },
        seenAt: h.last_seen.getTime(),
      });
    }
  }

  see(announce: HostAnnounce): void {
    const known = this.hosts.get(announce.host);
    const changed = !known || known.announce.slots !== announce.slots || this.opts.now() - known.seenAt > this.opts.timeoutMs;
    this.hosts.set(announce.host, { announce, seenAt: this.opts.now() });
    if (changed) this.opts.onNew();
  }

  /** Live hosts with what they hold now. */
  capacities(usage: readonly HostTotals[]): HostCapacity[] {
    const used = new Map(usage.map((u) => [u.host, u]));
    const now = this.opts.now();
    return [...this.hosts.values()]
      .filter((h) => now - h.seenAt <= this.opts.timeoutMs)
      .map(({ announce: a }) => ({
        id: a.host, labels: a.labels, executors: a.executors, slots: a.slots, cpu: a.cpu, memory: a.memory, draining: this.draining.has(a.host),
        used: used.get(a.host)?.used ?? 0, cpuUsed: used.get(a.host)?.cpu ?? 0, memoryUsed: used.get(a.host)?.memory ?? 0,
      }));
  }
}

export function subscribeAnnouncements(bus: Bus, view: HostView, log: Logger): Stop {
  const sub = bus.nc.subscribe(Subjects.hostAnnounce.subject, {
    callback: (err, msg) => {
      if (err) return;
      try {
        view.see(decode(msg.data, Validators.hostAnnounce));
      } catch (e) {
        log.warn({ err: e }, 'unreadable host announcement ignored');
      }
    },
  });
  return async () => sub.unsubscribe();
}
