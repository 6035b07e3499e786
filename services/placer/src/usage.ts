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
 * so a late event of an earlier attempt cannot free the slot of the current one. The totals per host are kept as
 * runs come and go, so a pass reads them without adding up every run (tens of thousands in a large fleet).
 */
export class UsageView {
  private readonly runs = new Map<string, RunOnHost>();
  private readonly byHost = new Map<string, HostTotals>();
  private refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxAgeMs: number) {}

  stale(now: number): boolean {
    return now - this.refreshedAt >= this.maxAgeMs;
  }

  replace(runs: readonly RunOnHost[], now: number): void {
    this.runs.clear();
    this.byHost.clear();
    for (const r of runs) this.add(r);
    this.refreshedAt = now;
  }

  add(run: RunOnHost): void {
    const before = this.runs.get(run.name);
    if (before) this.count(before, -1);
    this.runs.set(run.name, run);
    this.count(run, 1);
  }

  /** The run of `name` ended at `attempt`: its slot is free, unless the task has since been placed again. */
  release(name: string, attempt: number): boolean {
    const run = this.runs.get(name);
    if (!run || run.attempt > attempt) return false;
    this.runs.delete(name);
    this.count(run, -1);
    return true;
  }

  totals(): HostTotals[] {
    return [...this.byHost.values()];
  }

  /** The totals by host id, kept up to date (not a copy). */
  loads(): ReadonlyMap<string, HostTotals> {
    return this.byHost;
  }

  private count(run: RunOnHost, sign: 1 | -1): void {
    let t = this.byHost.get(run.host);
    if (!t) {
      t = { host: run.host, used: 0, cpu: 0, memory: 0 };
      this.byHost.set(run.host, t);
    }
    t.used += sign;
    t.cpu += sign * (run.cpu ?? 0);
    t.memory += sign * (run.memory ?? 0);
    // Sums of fractions of a core need not come back to exactly 0: an empty host starts again from 0.
    if (t.used <= 0) this.byHost.delete(run.host);
  }
}
