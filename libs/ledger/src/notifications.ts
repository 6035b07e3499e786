import type { Ledger } from './db.js';

/** An event the notifier will tell of: its identity, its digest key, and what the message says of it. */
export interface NotifiableRow {
  key: string;
  group_key: string;
  item: unknown;
}

/**
 * Records the events of a batch in their open groups, in one statement; an event already recorded (a redelivery, or
 * the same event read by another replica) is left as it is. Returns how many were new.
 */
export async function recordNotifiable(ledger: Ledger, rows: readonly NotifiableRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const done = await ledger.query<{ key: string }>(
    `INSERT INTO notification_items (key, group_key, item)
     SELECT r.key, r.group_key, r.item FROM jsonb_to_recordset($1::jsonb) AS r(key text, group_key text, item jsonb)
     ON CONFLICT (key) DO NOTHING
     RETURNING key`,
    [JSON.stringify(rows)],
  );
  return done.length;
}

/** What the ledger adds to a task's event for its message: its spec's say, and the run the event is about. */
export interface TaskFacts {
  name: string;
  /** The spec's `notify`, or null when it has none. */
  notify: string[] | null;
  max_failures: number | null;
  constraints: Record<string, string> | null;
  /** The run of the event's attempt, when there was one. */
  exit_code: number | null;
  output_tail: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

/**
 * The facts of the tasks named, each at its event's attempt, in one statement. `tailChars`: the end of the run's
 * output kept (the message shows its last lines; a digest of thousands keeps only this much of each).
 */
export async function readTaskFacts(ledger: Ledger, tasks: readonly { name: string; attempt: number }[], tailChars: number): Promise<Map<string, TaskFacts>> {
  if (tasks.length === 0) return new Map();
  const rows = await ledger.query<TaskFacts>(
    `SELECT t.name, t.spec->'notify' AS notify, (t.spec->>'max_failures')::int AS max_failures, t.spec->'constraints' AS constraints,
            r.exit_code, right(r.output, $3) AS output_tail, r.started_at, r.finished_at
       FROM unnest($1::text[], $2::int[]) AS e(name, attempt)
       JOIN tasks t ON t.name = e.name
       LEFT JOIN runs r ON r.task = e.name AND r.attempt = e.attempt`,
    [tasks.map((t) => t.name), tasks.map((t) => t.attempt), tailChars],
  );
  return new Map(rows.map((r) => [r.name, r]));
}

/**
 * Closes every open group whose first event is older than `windowMs` (by the ledger's clock): a pending message is
 * made for it and takes all its open events, however many (a backlog while Slack rate-limits merges into it). One
 * transaction; an event recorded meanwhile opens the next window of its group. Returns the messages made.
 */
export async function closeDueGroups(ledger: Ledger, windowMs: number): Promise<number> {
  const rows = await ledger.query<{ n: string }>(
    `WITH due AS (
       SELECT group_key FROM notification_items WHERE notification IS NULL
        GROUP BY group_key HAVING min(received_at) <= now() - $1::double precision * interval '1 millisecond'
     ), made AS (
       INSERT INTO notifications (group_key) SELECT group_key FROM due ORDER BY group_key RETURNING id, group_key
     ), taken AS (
       UPDATE notification_items i SET notification = made.id FROM made
        WHERE i.group_key = made.group_key AND i.notification IS NULL
       RETURNING i.key
     )
     SELECT (SELECT count(*) FROM made) AS n, (SELECT count(*) FROM taken) AS items`,
    [windowMs],
  );
  return Number(rows[0]?.n ?? 0);
}

export interface PendingNotification {
  id: number;
  group_key: string;
  created_at: Date;
}

/** The messages not sent yet, oldest first. */
export async function readPendingNotifications(ledger: Ledger, limit: number): Promise<PendingNotification[]> {
  const rows = await ledger.query<{ id: string; group_key: string; created_at: Date }>(
    `SELECT id, group_key, created_at FROM notifications WHERE state = 'pending' ORDER BY id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ id: Number(r.id), group_key: r.group_key, created_at: r.created_at }));
}

/** What a message is made of: its first events, how many it has in all, and how many of each `state`. */
export interface NotificationContent {
  items: unknown[];
  total: number;
  /** Events by their item's `state` (a task's state, or what became of a lost host's task). */
  byState: Record<string, number>;
  first_at: Date | null;
  last_at: Date | null;
}

/** The first `limit` events of a message (in the order they came) and the counts of all of them. */
export async function readNotificationContent(ledger: Ledger, id: number, limit: number): Promise<NotificationContent> {
  const [items, counts] = await Promise.all([
    ledger.query<{ item: unknown }>(
      `SELECT item FROM notification_items WHERE notification = $1 ORDER BY received_at, key LIMIT $2`, [id, limit],
    ),
    ledger.query<{ state: string | null; n: string; first_at: Date; last_at: Date }>(
      `SELECT item->>'state' AS state, count(*) AS n, min(received_at) AS first_at, max(received_at) AS last_at
         FROM notification_items WHERE notification = $1 GROUP BY 1`,
      [id],
    ),
  ]);
  const byState: Record<string, number> = {};
  let total = 0;
  let first: Date | null = null;
  let last: Date | null = null;
  for (const c of counts) {
    const n = Number(c.n);
    total += n;
    byState[c.state ?? ''] = (byState[c.state ?? ''] ?? 0) + n;
    if (first === null || c.first_at < first) first = c.first_at;
    if (last === null || c.last_at > last) last = c.last_at;
  }
  return { items: items.map((r) => r.item), total, byState, first_at: first, last_at: last };
}

/** A pending message is done: `sent`, or `refused` with Slack's error string. False when it was not pending. */
export async function finishNotification(ledger: Ledger, id: number, outcome: 'sent' | 'refused', error: string | null = null): Promise<boolean> {
  const rows = await ledger.query(
    `UPDATE notifications SET state = $2, error = $3, sent_at = now() WHERE id = $1 AND state = 'pending' RETURNING id`,
    [id, outcome, error],
  );
  return rows.length > 0;
}

/** Messages done more than `olderThanMs` ago, with their events (their identities are kept that long against redeliveries). */
export async function pruneNotifications(ledger: Ledger, olderThanMs: number): Promise<number> {
  const rows = await ledger.query(
    `DELETE FROM notifications WHERE state <> 'pending' AND sent_at < now() - $1::double precision * interval '1 millisecond' RETURNING id`,
    [olderThanMs],
  );
  return rows.length;
}

/** A cron fire time skipped because it was found past its starting deadline. */
export interface SkippedFire {
  task: string;
  fire_time: Date;
  missed_from: Date | null;
  recorded_at: Date;
  /** Where this row is, to read on after it. */
  position: FiresCursor;
}

/**
 * Where a reading of the skipped fires stopped: the last row's recorded_at, task and fire time, the times as
 * PostgreSQL's text (microseconds: a JavaScript Date keeps milliseconds, and a cursor cut to them reads the same rows
 * again forever).
 */
export interface FiresCursor {
  recorded_at: string;
  task: string;
  fire_time: string;
}

/**
 * Fire times skipped past their deadline after `after`, in (recorded_at, task, fire_time) order (the partial index
 * fires_skipped_deadline answers it): the cursor is a whole row's position, so a page of rows that share one
 * recorded_at (one cron statement records up to 500) is never read again nor skipped. The caller starts each
 * reading a little before where the last one ended: a fire committed late may carry an earlier recorded_at, and
 * recording them again is idempotent.
 */
export async function readSkippedFires(ledger: Ledger, after: FiresCursor, limit: number): Promise<SkippedFire[]> {
  const rows = await ledger.query<Omit<SkippedFire, 'position'> & { recorded_text: string; fire_text: string }>(
    `SELECT task, fire_time, missed_from, recorded_at, recorded_at::text AS recorded_text, fire_time::text AS fire_text FROM fires
      WHERE outcome = 'skipped_deadline' AND (recorded_at, task, fire_time) > ($1::timestamptz, $2::text, $3::timestamptz)
      ORDER BY recorded_at, task, fire_time LIMIT $4`,
    [after.recorded_at, after.task, after.fire_time, limit],
  );
  return rows.map(({ recorded_text, fire_text, ...f }) => ({ ...f, position: { recorded_at: recorded_text, task: f.task, fire_time: fire_text } }));
}
