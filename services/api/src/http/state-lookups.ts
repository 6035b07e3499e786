import type { TaskState } from '@tangerine/contracts';
import { readStates, type Ledger } from '@tangerine/ledger';

/** Names one statement takes: a submitted list's most (Limits.specsPerMessage) is 1,000, a batch of lookups at most this. */
const MAX_NAMES = 5000;

/**
 * The duplicate check of concurrent submissions, batched: the names asked for in one turn of the event loop are read
 * in one statement. Sixteen clients posting one spec each made sixteen round trips to PostgreSQL per turn, each
 * waiting for a pool connection (6): the check, not the publish, held a request up.
 */
export class StateLookups {
  private queued: { names: readonly string[]; resolve: (m: Map<string, TaskState>) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly ledger: Ledger) {}

  states(names: readonly string[]): Promise<Map<string, TaskState>> {
    if (names.length === 0) return Promise.resolve(new Map());
    return new Promise((resolve, reject) => {
      this.queued.push({ names, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    while (this.queued.length > 0) {
      const batch: typeof this.queued = [];
      let count = 0;
      while (this.queued.length > 0 && (batch.length === 0 || count + this.queued[0]!.names.length <= MAX_NAMES)) {
        const q = this.queued.shift()!;
        batch.push(q);
        count += q.names.length;
      }
      try {
        const found = await readStates(this.ledger, [...new Set(batch.flatMap((q) => q.names))]);
        for (const q of batch) q.resolve(found);
      } catch (err) {
        for (const q of batch) q.reject(err);
      }
    }
  }
}
