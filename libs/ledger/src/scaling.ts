import { ON_HOST_STATES, TaskState, type ScalingSummary } from '@tangerine/contracts';
import type { Ledger } from './db.js';
import { sqlState, sqlStates } from './tasks/states-sql.js';

/**
 * A host the autoscaler weighs: not down, not started for one task (the label `task`: the per-task instances are
 * launched and ended by their tasks, never scaled), with the tasks the ledger puts there (placed or running).
 */
export interface ScalingHost {
  id: string;
  labels: Record<string, string>;
  slots: number;
  state: 'up' | 'draining';
  used: number;
}

/**
 * Hosts up or draining and how many tasks each holds: one pass over the hosts and one over the partial index of tasks
 * on hosts (tasks_on_host), grouped, not a count per host (10,000 hosts: one statement).
 */
export async function readScalingHosts(ledger: Ledger): Promise<ScalingHost[]> {
  return ledger.query<ScalingHost>(
    `SELECT h.id, h.labels, h.slots, h.state, coalesce(u.used, 0)::int AS used
       FROM hosts h
       LEFT JOIN (SELECT host, count(*) AS used FROM tasks WHERE state IN ${sqlStates(ON_HOST_STATES)} AND host IS NOT NULL GROUP BY host) u
         ON u.host = h.id
      WHERE h.state <> 'down' AND NOT (h.labels ? 'task')
      ORDER BY h.id`,
  );
}

/** Of these hosts, those holding a task now: the check before a drained host is terminated. */
export async function readBusyHosts(ledger: Ledger, hosts: readonly string[]): Promise<Set<string>> {
  if (hosts.length === 0) return new Set();
  const rows = await ledger.query<{ host: string }>(
    `SELECT DISTINCT host FROM tasks WHERE host = ANY($1::text[]) AND state IN ${sqlStates(ON_HOST_STATES)}`,
    [hosts],
  );
  return new Set(rows.map((r) => r.host));
}

/**
 * Ready tasks grouped by the labels they need (their constraints), those with an instance of their own left out (they
 * wait for it, not for a fleet), at most `limit` groups, the largest first: a pass
 * over the ready queue's partial index (tasks_ready). The status page's read is the same with a smaller limit.
 */
export async function readReadyGroups(ledger: Ledger, limit: number): Promise<Array<{ constraints: Record<string, string>; count: number }>> {
  const rows = await ledger.query<{ constraints: Record<string, string> | null; count: number }>(
    `SELECT t.spec -> 'constraints' AS constraints, count(*)::int AS count FROM tasks t
      WHERE t.state = ${sqlState(TaskState.ready)} AND NOT (t.spec ? 'instance')
      GROUP BY t.spec -> 'constraints' ORDER BY count(*) DESC, 1 LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ constraints: r.constraints ?? {}, count: r.count }));
}

/** The cooldowns' clocks of one provider, and the target the autoscaler last set. */
export interface ScalingClocks {
  target: number;
  asked_at: Date | null;
  last_up: Date | null;
  last_down: Date | null;
}

export async function readScalingClocks(ledger: Ledger, provider: string): Promise<ScalingClocks | null> {
  const [row] = await ledger.query<ScalingClocks>('SELECT target, asked_at, last_up, last_down FROM scaling_providers WHERE provider = $1', [provider]);
  return row ?? null;
}

/** Records a target set; `up` / `down` start that direction's cooldown, `asked` when capacity was asked for. */
export async function recordScaling(
  ledger: Ledger, provider: string, change: { target: number; at: Date; up?: boolean; down?: boolean; asked?: boolean },
): Promise<void> {
  await ledger.query(
    `INSERT INTO scaling_providers AS p (provider, target, asked_at, last_up, last_down, updated_at)
     VALUES ($1, $2, CASE WHEN $4 THEN $3::timestamptz END, CASE WHEN $5 THEN $3::timestamptz END, CASE WHEN $6 THEN $3::timestamptz END, $3)
     ON CONFLICT (provider) DO UPDATE SET target = EXCLUDED.target, updated_at = EXCLUDED.updated_at,
       asked_at = coalesce(EXCLUDED.asked_at, p.asked_at), last_up = coalesce(EXCLUDED.last_up, p.last_up),
       last_down = coalesce(EXCLUDED.last_down, p.last_down)`,
    [provider, change.target, change.at, change.asked === true, change.up === true, change.down === true],
  );
}

/** The counts one evaluation saw (for the status page), recorded beside the target it set. */
export async function recordScalingSeen(
  ledger: Ledger, provider: string, seen: { target: number; actual: number; starting: number; draining: number; at: Date },
): Promise<void> {
  await ledger.query(
    `INSERT INTO scaling_providers AS p (provider, target, actual, starting, draining, seen_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6)
     ON CONFLICT (provider) DO UPDATE SET actual = EXCLUDED.actual, starting = EXCLUDED.starting,
       draining = EXCLUDED.draining, seen_at = EXCLUDED.seen_at`,
    [provider, seen.target, seen.actual, seen.starting, seen.draining, seen.at],
  );
}

/** Every provider the autoscaler has scaled: its target (desired) and what its last evaluation saw, by name. */
export async function readScalingSummary(ledger: Ledger): Promise<ScalingSummary[]> {
  const rows = await ledger.query<{ provider: string; desired: number; actual: number; starting: number; draining: number; seen_at: Date | null }>(
    'SELECT provider, target AS desired, actual, starting, draining, seen_at FROM scaling_providers ORDER BY provider LIMIT 100',
  );
  return rows.map((r) => ({ ...r, seen_at: r.seen_at?.toISOString() ?? null }));
}

export interface OpenDrain {
  host: string;
  instance_id: string;
  drained_at: Date;
}

export async function readOpenDrains(ledger: Ledger, provider: string): Promise<OpenDrain[]> {
  return ledger.query<OpenDrain>(
    "SELECT host, instance_id, drained_at FROM scaling_drains WHERE provider = $1 AND state = 'open' ORDER BY drained_at, host",
    [provider],
  );
}

/** Records a drain for scale-down before it is asked; false when that host has one open already (compare-and-set). */
export async function openDrain(ledger: Ledger, d: { provider: string; host: string; instanceId: string; at: Date }): Promise<boolean> {
  const rows = await ledger.query(
    `INSERT INTO scaling_drains (provider, host, instance_id, drained_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (host) WHERE state = 'open' DO NOTHING RETURNING id`,
    [d.provider, d.host, d.instanceId, d.at],
  );
  return rows.length === 1;
}

/** Closes an open drain; false when it was closed already (another replica, a redone step). */
export async function closeDrain(
  ledger: Ledger, d: { host: string; instanceId: string; state: 'terminated' | 'undone' | 'gone'; reason: string; at: Date },
): Promise<boolean> {
  const rows = await ledger.query(
    `UPDATE scaling_drains SET state = $3, reason = $4, closed_at = $5
      WHERE host = $1 AND instance_id = $2 AND state = 'open' RETURNING id`,
    [d.host, d.instanceId, d.state, d.reason, d.at],
  );
  return rows.length === 1;
}

/**
 * The instance of each of these hosts' last drain that ended in a termination: a host id the local provider reuses
 * for a new agent finds the host's row still draining (until host-health times it out), which that drain left.
 */
export async function readTerminatedDrains(ledger: Ledger, hosts: readonly string[]): Promise<Map<string, string>> {
  if (hosts.length === 0) return new Map();
  const rows = await ledger.query<{ host: string; instance_id: string }>(
    `SELECT DISTINCT ON (host) host, instance_id FROM scaling_drains
      WHERE host = ANY($1::text[]) AND state = 'terminated' ORDER BY host, closed_at DESC`,
    [hosts],
  );
  return new Map(rows.map((r) => [r.host, r.instance_id]));
}
