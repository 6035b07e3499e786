import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Streams } from '@tangerine/contracts';

const SECOND_NS = 1_000_000_000;
const DAY_NS = 86400 * SECOND_NS;

/**
 * Commands, dispatches and reports are work queues: a message is kept until its one consumer acks it, so a
 * `nats pub tasks.submit` sent while intake is down waits for intake. Events are a log that anyone may read.
 */
const CONFIGS: (Partial<StreamConfig> & { name: string })[] = [
  { ...Streams.commands, subjects: [...Streams.commands.subjects], retention: RetentionPolicy.Workqueue, max_age: 30 * DAY_NS },
  { ...Streams.dispatch, subjects: [...Streams.dispatch.subjects], retention: RetentionPolicy.Workqueue, max_age: 7 * DAY_NS },
  { ...Streams.reports, subjects: [...Streams.reports.subjects], retention: RetentionPolicy.Workqueue, max_age: 7 * DAY_NS },
  {
    ...Streams.events, subjects: [...Streams.events.subjects], retention: RetentionPolicy.Limits,
    max_age: 7 * DAY_NS, max_bytes: 2 * 1024 ** 3, discard: DiscardPolicy.Old,
  },
  // Dead letters are for people to read: kept a month, and the oldest go first when it fills.
  {
    ...Streams.dead, subjects: [...Streams.dead.subjects], retention: RetentionPolicy.Limits,
    max_age: 30 * DAY_NS, max_bytes: 256 * 1024 ** 2, discard: DiscardPolicy.Old,
  },
];

/** Creates the streams, or brings an existing one's subjects up to date. Safe when several services start at once. */
export async function ensureStreams(jsm: JetStreamManager): Promise<void> {
  for (const config of CONFIGS) {
    const full = { storage: StorageType.File, duplicate_window: 120 * SECOND_NS, ...config };
    try {
      await jsm.streams.info(full.name);
      await jsm.streams.update(full.name, { subjects: full.subjects });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await jsm.streams.add(full);
      } catch (addErr) {
        // Another process created it between our look and our add.
        if (!String(addErr).includes('already in use')) throw addErr;
      }
    }
  }
}

export function isNotFound(err: unknown): boolean {
  return /not found/i.test(String((err as Error)?.message ?? err));
}
