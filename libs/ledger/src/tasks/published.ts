import type { TaskEvent } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-row.js';

/** These events are on the stream: one statement for any number of them. */
export async function markPublished(ledger: Ledger, events: readonly Pick<TaskEvent, 'name' | 'version'>[]): Promise<void> {
  if (events.length === 0) return;
  const newest = new Map<string, number>();
  for (const e of events) newest.set(e.name, Math.max(newest.get(e.name) ?? 0, e.version));
  await ledger.query(
    `UPDATE tasks t SET published_version = v.version
       FROM unnest($1::text[], $2::bigint[]) AS v(name, version)
      WHERE t.name = v.name AND t.published_version < v.version`,
    [[...newest.keys()], [...newest.values()]],
  );
}

/**
 * Tasks changed more than `olderThanMs` ago whose event never reached the stream (the service died between its
 * commit and its publish): their current state, to publish again. The dedupe id drops a copy that did arrive.
 */
export async function readUnpublished(ledger: Ledger, now: Date, olderThanMs: number, limit = 1000): Promise<TaskEvent[]> {
  const rows = await ledger.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM tasks t
      WHERE t.published_version < t.version AND t.updated_at < $1
      ORDER BY t.updated_at LIMIT $2`,
    [new Date(now.getTime() - olderThanMs), limit],
  );
  return rows.map((r) => toEvent(r, null));
}
