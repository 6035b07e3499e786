import type { TaskEvent } from '@tangerine/contracts';
import { markPublished, type Ledger } from '@tangerine/ledger';
import type { Logger } from '@tangerine/runtime';

/**
 * Records which task events reached the stream, in one statement a second rather than one per batch. A mark lost
 * with a crash only makes host-health publish that state again, which the event's dedupe id makes harmless.
 */
export class PublishedMarks {
  private pending: Pick<TaskEvent, 'name' | 'version'>[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ledger: Ledger, private readonly log: Logger, intervalMs = 1000) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** These events were published (the stream acknowledged them). */
  note(events: readonly TaskEvent[]): void {
    for (const e of events) this.pending.push({ name: e.name, version: e.version });
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await markPublished(this.ledger, batch);
    } catch (err) {
      this.log.warn({ err }, 'recording published events failed; host-health will publish them again');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
