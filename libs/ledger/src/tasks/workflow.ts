import { Limits, type GraphEdge, type TaskGraph, type TaskState } from '@tangerine/contracts';
import type { Ledger } from '../db.js';

/**
 * The workflow's tasks, breadth first from `$1` along dependencies either way, at most `$2`. One statement whatever
 * the depth: a walk of one statement per level made a chain of 2,000 tasks 2,000 round trips. UNION drops a name
 * already reached, so the walk ends; the outer LIMIT stops it early (PostgreSQL evaluates the CTE as rows are asked).
 */
const WALK = `WITH RECURSIVE walk(name) AS (
    SELECT $1::text
    UNION
    SELECT n.name FROM walk w CROSS JOIN LATERAL (
      SELECT d.dependency AS name FROM task_dependencies d WHERE d.task = w.name
      UNION ALL
      SELECT d.task FROM task_dependencies d WHERE d.dependency = w.name
    ) n
  )
  SELECT name FROM walk LIMIT $2`;

/** The edges of `rows` whose two ends are both among `names`, each once. */
export function edgesWithin(names: ReadonlySet<string>, rows: readonly GraphEdge[]): GraphEdge[] {
  const seen = new Set<string>();
  const out: GraphEdge[] = [];
  for (const r of rows) {
    const key = `${r.from}\n${r.to}`;
    if (!names.has(r.from) || !names.has(r.to) || seen.has(key)) continue;
    seen.add(key);
    out.push({ from: r.from, to: r.to });
  }
  return out;
}

/**
 * The workflow of a task: every task connected to it by dependencies, either way (its upstream, its downstream, and
 * theirs), the nearest first, at most `limit`, with the edges between those tasks; or null when there is no such
 * task. A dependency named but not submitted is a node of state null.
 */
export async function readWorkflow(ledger: Ledger, name: string, limit: number = Limits.graphNodes): Promise<TaskGraph | null> {
  const [root] = await ledger.query<{ name: string }>('SELECT name FROM tasks WHERE name = $1', [name]);
  if (!root) return null;
  const walked = await ledger.query<{ name: string }>(WALK, [name, limit + 1]);
  const names = walked.slice(0, limit).map((r) => r.name);
  const within = new Set(names);
  const rows = await ledger.query<GraphEdge>('SELECT dependency AS "from", task AS "to" FROM task_dependencies WHERE task = ANY($1::text[])', [names]);
  const states = await ledger.query<{ name: string; state: TaskState }>('SELECT name, state FROM tasks WHERE name = ANY($1::text[])', [names]);
  const stateOf = new Map(states.map((s) => [s.name, s.state]));
  return {
    name,
    nodes: names.map((n) => ({ name: n, state: stateOf.get(n) ?? null })),
    edges: edgesWithin(within, rows),
    truncated: walked.length > limit,
  };
}
