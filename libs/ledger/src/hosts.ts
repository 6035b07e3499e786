import { Limits, ON_HOST_STATES, type HostAnnounce, type HostState, type HostView } from '@tangerine/contracts';
import type { Ledger } from './db.js';
import { sqlStates } from './tasks/states-sql.js';

export interface HostRow {
  id: string;
  labels: Record<string, string>;
  slots: number;
  executors: string[];
  cpu: number;
  memory: number;
  state: HostState;
  boot: string | null;
  first_seen: Date;
  last_seen: Date;
}

export interface Heartbeat {
  announce: HostAnnounce;
  /** When it arrived, by the receiver's clock: hosts' clocks are never compared with each other. */
  seenAt: Date;
}

export interface HeartbeatResult {
  id: string;
  /** The state before: null for a new host, `down` for one that came back. */
  from: HostState | null;
  state: HostState;
  /** The agent's incarnation changed (it restarted): the runs it did not take back are lost. */
  rebooted: boolean;
}

/**
 * Many heartbeats, one statement: a large fleet costs one write per interval. A host that was down is up again;
 * `last_seen` never goes back (two receivers may write out of order).
 *
 * The rows as they were come from the outer query's own read of `hosts`, through its primary key: every part of a
 * statement reads the same snapshot, taken before the upsert. An earlier form read them in a CTE and joined the
 * three CTEs (input, old rows, upserted rows) together; once PostgreSQL switched to the prepared statement's generic
 * plan (from the sixth call on), which takes `unnest` for 100 rows, those joins became nested loops over CTE scans:
 * 10,000 heartbeats went from 0.2 s to 4.4 s a statement (measured with the fleet benchmark). Index lookups stay
 * linear whatever the estimate: 10,000 heartbeats take about 0.1 s.
 */
export async function recordHeartbeats(ledger: Ledger, beats: readonly Heartbeat[]): Promise<HeartbeatResult[]> {
  if (beats.length === 0) return [];
  const latest = new Map<string, Heartbeat>();
  for (const b of beats) latest.set(b.announce.host, b);
  const list = [...latest.values()];
  return ledger.query<HeartbeatResult>(
    `WITH up AS (
       INSERT INTO hosts AS h (id, labels, slots, executors, cpu, memory, last_seen, boot)
       SELECT id, labels, slots, string_to_array(executors, ','), cpu, memory, seen, boot
         FROM unnest($1::text[], $2::jsonb[], $3::int[], $4::text[], $5::real[], $6::int[], $7::timestamptz[], $8::text[])
           AS v(id, labels, slots, executors, cpu, memory, seen, boot)
       ON CONFLICT (id) DO UPDATE SET labels = EXCLUDED.labels, slots = EXCLUDED.slots, executors = EXCLUDED.executors,
         cpu = EXCLUDED.cpu, memory = EXCLUDED.memory, last_seen = greatest(h.last_seen, EXCLUDED.last_seen),
         boot = coalesce(EXCLUDED.boot, h.boot),
         state = CASE WHEN h.state = 'down' THEN 'up' ELSE h.state END, down_since = NULL
       RETURNING h.id, h.state, h.boot
     )
     -- old: the statement's snapshot, before this upsert (a new boot differs from the old one only if one was sent).
     SELECT up.id, old.state AS from, up.state, (old.boot IS NOT NULL AND up.boot IS DISTINCT FROM old.boot) AS rebooted
       FROM up LEFT JOIN hosts old ON old.id = up.id`,
    [
      list.map((b) => b.announce.host), list.map((b) => JSON.stringify(b.announce.labels)), list.map((b) => b.announce.slots),
      list.map((b) => b.announce.executors.join(',')), list.map((b) => b.announce.cpu), list.map((b) => b.announce.memory),
      list.map((b) => b.seenAt), list.map((b) => b.announce.boot ?? null),
    ],
  );
}

/** Hosts not heard from since `cutoff` go down: a compare-and-set, so of several host-health replicas one acts. */
export async function markHostsDown(ledger: Ledger, cutoff: Date, now: Date): Promise<{ id: string; from: HostState }[]> {
  return ledger.query(
    `WITH old AS (
       SELECT id, state FROM hosts WHERE state <> 'down' AND last_seen < $1 ORDER BY id FOR UPDATE SKIP LOCKED
     )
     UPDATE hosts h SET state = 'down', down_since = $2 FROM old
      WHERE h.id = old.id AND h.state <> 'down' AND h.last_seen < $1
     RETURNING h.id, old.state AS from`,
    [cutoff, now],
  );
}

/**
 * Of the hosts up or draining, how many have been silent since `cutoff`: the share host-health weighs before it marks
 * any down. One scan of `hosts` (10,000 rows: about 2 ms).
 */
export async function countSilentHosts(ledger: Ledger, cutoff: Date): Promise<{ silent: number; total: number }> {
  const [row] = await ledger.query<{ silent: number; total: number }>(
    `SELECT count(*) FILTER (WHERE last_seen < $1)::int AS silent, count(*)::int AS total FROM hosts WHERE state <> 'down'`,
    [cutoff],
  );
  return row ?? { silent: 0, total: 0 };
}

/** Hosts down since before `cutoff` are forgotten. */
export async function removeHosts(ledger: Ledger, cutoff: Date): Promise<string[]> {
  const rows = await ledger.query<{ id: string }>(
    `DELETE FROM hosts WHERE state = 'down' AND down_since < $1
        AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.host = hosts.id AND t.state IN ${sqlStates(ON_HOST_STATES)})
     RETURNING id`,
    [cutoff],
  );
  return rows.map((r) => r.id);
}

/** hosts.drain / hosts.undrain: null when no such host; a host that is down stays down. */
export async function setDraining(ledger: Ledger, id: string, draining: boolean): Promise<{ from: HostState; state: HostState } | null> {
  const [row] = await ledger.query<{ from: HostState; state: HostState }>(
    `WITH old AS (SELECT id, state FROM hosts WHERE id = $1 FOR UPDATE)
     UPDATE hosts h SET state = CASE WHEN h.state = 'down' THEN 'down' WHEN $2 THEN 'draining' ELSE 'up' END
       FROM old WHERE h.id = old.id
     RETURNING old.state AS from, h.state`,
    [id, draining],
  );
  return row ?? null;
}

/** Every host, or those in one state (the placer reads the draining ones every refresh, not the whole fleet). */
export async function listHosts(ledger: Ledger, filter: { state?: HostState } = {}): Promise<HostRow[]> {
  const columns = 'id, labels, slots, executors, cpu, memory, state, boot, first_seen, last_seen';
  if (filter.state === undefined) return ledger.query<HostRow>(`SELECT ${columns} FROM hosts ORDER BY id`);
  return ledger.query<HostRow>(`SELECT ${columns} FROM hosts WHERE state = $1 ORDER BY id`, [filter.state]);
}

/**
 * hosts.list: a page of hosts by id (at most `limit`, plus one more when there is one), each with the runs the ledger
 * puts there: the first Limits.runsPerHost by name, and their count.
 */
export async function viewHosts(
  ledger: Ledger, page: { state?: HostState; after?: string; limit: number } = { limit: 100_000 },
): Promise<HostView[]> {
  const rows = await ledger.query<HostRow & { running: { name: string; attempt: number }[]; running_count: number }>(
    `SELECT h.id, h.labels, h.slots, h.executors, h.state, h.first_seen, h.last_seen,
            coalesce((SELECT json_agg(json_build_object('name', r.name, 'attempt', r.attempt) ORDER BY r.name)
                        FROM (SELECT name, attempt FROM tasks t WHERE t.host = h.id AND t.state IN ${sqlStates(ON_HOST_STATES)}
                               ORDER BY name LIMIT $4) r), '[]') AS running,
            (SELECT count(*)::int FROM tasks t WHERE t.host = h.id AND t.state IN ${sqlStates(ON_HOST_STATES)}) AS running_count
       FROM hosts h
      WHERE ($1::text IS NULL OR h.state = $1) AND ($2::text IS NULL OR h.id > $2)
      ORDER BY h.id LIMIT $3`,
    [page.state ?? null, page.after ?? null, page.limit + 1, Limits.runsPerHost],
  );
  return rows.map((r) => ({
    host: r.id, state: r.state, labels: r.labels, slots: r.slots, executors: r.executors, running: r.running,
    running_count: r.running_count, last_seen: r.last_seen.toISOString(), first_seen: r.first_seen.toISOString(),
  }));
}

export interface StaleRun {
  host: string;
  name: string;
  attempt: number;
  /** Why the host should not be running it: the task moved on. */
  reason: string;
}

/**
 * Fencing: of the runs hosts say they hold, those the ledger no longer puts there (another attempt, another host,
 * or a state that holds no slot). Their agents are told to stop them.
 */
export async function findStaleRuns(ledger: Ledger, runs: readonly { host: string; name: string; attempt: number }[]): Promise<StaleRun[]> {
  if (runs.length === 0) return [];
  return ledger.query<StaleRun>(
    `SELECT v.host, v.name, v.attempt,
            CASE WHEN t.name IS NULL THEN 'the task no longer exists'
                 ELSE 'the task is ' || t.state || ' with attempt ' || t.attempt || coalesce(' on ' || t.host, '') END AS reason
       FROM unnest($1::text[], $2::text[], $3::int[]) AS v(host, name, attempt)
       LEFT JOIN tasks t ON t.name = v.name
      WHERE t.name IS NULL OR t.attempt <> v.attempt OR t.host IS DISTINCT FROM v.host OR t.state NOT IN ${sqlStates(ON_HOST_STATES)}`,
    [runs.map((r) => r.host), runs.map((r) => r.name), runs.map((r) => r.attempt)],
  );
}
