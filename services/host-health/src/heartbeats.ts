import type { HostAnnounce } from '@tangerine/contracts';
import type { Heartbeat } from '@tangerine/ledger';

/**
 * Announcements that arrived since the last flush: the newest per host goes to the ledger, and every run any of
 * them lists is checked against the ledger (fencing), whichever announcement listed it.
 */
export class HeartbeatBuffer {
  private latest = new Map<string, Heartbeat>();

  add(announce: HostAnnounce, seenAt: Date): void {
    this.latest.set(announce.host, { announce, seenAt });
  }

  /** Puts back what could not be written, unless a newer heartbeat of the host came meanwhile. */
  restore(beats: readonly Heartbeat[]): void {
    for (const b of beats) if (!this.latest.has(b.announce.host)) this.latest.set(b.announce.host, b);
  }

  take(): Heartbeat[] {
    const beats = [...this.latest.values()];
    this.latest = new Map();
    return beats;
  }
}

/** The runs the hosts of these heartbeats hold, for fencing. */
export function heldRuns(beats: readonly Heartbeat[]): { host: string; name: string; attempt: number }[] {
  return beats.flatMap((b) => b.announce.running.map((r) => ({ host: b.announce.host, name: r.name, attempt: r.attempt })));
}
