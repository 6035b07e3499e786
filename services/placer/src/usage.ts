import type { RunOnHost } from '@tangerine/ledger';

export interface HostTotals {
  host: string;
  used: number;
  cpu: number;
  memory: number;
}

/**
 * What each host holds, kept in memory so a placement pass costs two statements, not three: filled from the
 * ledger (at start and every `maxAgeMs`, which also repairs a missed event), grown by our own placements,
 * shrunk by the events of runs that ended. A run is released only by an event of its attempt or a later one,
 * so a late event of an earlier attempt cannot free the slot of the current one.
 */
export class UsageView {
  private readonly runs = new Map<string, RunOnHost>();
  private refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxAgeMs: number) {}

  stale(now: number): boolean {
    return now - this.refreshedAt >= this.maxAgeMs;
  }

  replace(runs: readonly RunOnHost[], now: number): void {
    this.runs.clear();
    for (const r of runs) this.runs.set(r.name, r);
    this.refreshedAt = now;
  }

  add(run: RunOnHost): void {
    this.runs.set(run.name, run);
  }

  /** The run of `name` ended at `attempt`: its slot is free, unless the task has since been placed again. */
  release(name: string, attempt: number): boolean {
    const run = this.runs.get(name);
    if (!run || run.attempt > attempt) return false;
    this.runs.delete(name);
    return true;
  }

  totals(): HostTotals[] {
    const byHost = new Map<string, HostTotals>();
    for (const r of this.runs.values()) {
      const t = byHost.get(r.host) ?? { host: r.host, used: 0, cpu: 0, memory: 0 };
      t.used += 1;
      t.cpu += r.cpu ?? 0;
      t.memory += r.memory ?? 0;
      byHost.set(r.host, t);
    }
    return [...byHost.values()];
  }
}
