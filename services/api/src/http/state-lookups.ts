import type { TaskState } from '@tangerine/contracts';
import { readStates, type Ledger } from '@tangerine/ledger';
import { InFlightBatch } from '@tangerine/runtime';

/** Names one statement takes: a submitted list's most (Limits.specsPerMessage) is 1,000, a batch of lookups at most this. */
const MAX_NAMES = 5000;

/**
 * The duplicate check of concurrent submissions, batched: the names asked for while a read is in flight are read
 * together in the next one (two reads at most at once, of the pool's connections). Sixteen clients posting one
 * spec each made sixteen round trips to PostgreSQL per turn, each waiting for a pool connection: the check, not the
 * publish, held a request up.
 */
export class StateLookups {
  private readonly batch: InFlightBatch<readonly string[], Map<string, TaskState>>;

  constructor(ledger: Ledger) {
    this.batch = new InFlightBatch((lists) => readStates(ledger, [...new Set(lists.flat())]), {
      maxItems: MAX_NAMES, maxWeight: MAX_NAMES, weight: (names) => names.length, concurrency: 1,
    });
  }

  states(names: readonly string[]): Promise<Map<string, TaskState>> {
    if (names.length === 0) return Promise.resolve(new Map());
    return this.batch.add(names);
  }
}
