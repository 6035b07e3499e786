import type { TaskEvent } from '@tangerine/contracts';
import { markPublished, type Ledger } from '@tangerine/ledger';
import type { Logger } from '@tangerine/runtime';

/**
 * Records which task events reached the stream, in one statement every two seconds rather than one per batch. A
 * mark lost with a crash only makes the relay publish that state again, which the event's dedupe id makes
 * harmless. Every two seconds, not every second: a task's states within the interval cost one mark (each mark is an
 * update of the task's row with all its indexes: a quarter of the ledger's time in the pipeline benchmark at one
 * mark a second), and the mark still comes well before the relay's 5 s.
 */
export class PublishedMarks {
  private pending: Pick<TaskEvent, 'name' | 'version'>[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly ledger: Ledger, private readonly log: Logger, intervalMs = 2000) {
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
      this.log.warn({ err }, 'recording published events failed; the relay will publish them again');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
