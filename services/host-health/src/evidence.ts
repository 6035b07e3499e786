/**
 * Whether host-health may take a host's silence for evidence that the host is lost. Silence heard by a watcher that
 * itself could not hear the bus or write the ledger is no evidence: it marks nothing down while either is away, nor
 * for HOST_TIMEOUT after it has both again (every live host has announced itself several times by then), as Nomad
 * gives heartbeats a grace period after a leader change. A process that just started counts as having regained both.
 */
export class Evidence {
  /** Since when the ledger has answered, or null since it last failed. */
  private ledgerSince: number | null;

  constructor(private readonly timeoutMs: number, private readonly startedAt: number) {
    this.ledgerSince = startedAt;
  }

  ledgerAnswered(now: number): void {
    this.ledgerSince ??= now;
  }

  ledgerFailed(): void {
    this.ledgerSince = null;
  }

  /** The ledger failed last: it must answer once before the sweep may act. */
  get ledgerAway(): boolean {
    return this.ledgerSince === null;
  }

  /** `busSince`: when this process last (re)connected to NATS, null while it is not connected. */
  mayMarkDown(now: number, busSince: number | null): boolean {
    if (busSince === null || this.ledgerSince === null) return false;
    return now - Math.max(this.startedAt, busSince, this.ledgerSince) >= this.timeoutMs;
  }
}
