import type { TaskEvent } from '@tangerine/contracts';
import type { Ledger } from '../db.js';
import { EVENT_COLUMNS, toEvent, type EventRow } from './event-row.js';

const MARK_CHUNK = 1000;

/**
 * These events are on the stream: one statement per thousand tasks. A row another transaction holds is skipped,
 * never waited for: that transaction is changing it, so its new version gets its own event and mark (and a row
 * left unmarked only costs one harmless publish again). Waiting made the mark of a busy second take a row lock
 * after thousands of others, stalling the pipeline's own updates, or deadlocking with them.
 */
export async function markPublished(ledger: Ledger, events: readonly Pick<TaskEvent, 'name' | 'version'>[]): Promise<void> {
  const newest = new Map<string, number>();
  for (const e of events) newest.set(e.name, Math.max(newest.get(e.name) ?? 0, e.version));
  const names = [...newest.keys()].sort();
  for (let i = 0; i < names.length; i += MARK_CHUNK) {
    const chunk = names.slice(i, i + MARK_CHUNK);
    await ledger.query(
      `UPDATE tasks t SET published_version = v.version
         FROM (SELECT u.name, u.version
                 FROM unnest($1::text[], $2::bigint[]) AS u(name, version)
                 JOIN tasks l ON l.name = u.name AND l.published_version < u.version
                FOR UPDATE OF l SKIP LOCKED) v
        WHERE t.name = v.name`,
      [chunk, chunk.map((n) => newest.get(n)!)],
    );
  }
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
