import { Limits, type GraphEdge, type TaskGraph, type TaskState } from '@tangerine/contracts';
import type { Ledger } from '../db.js';

/** Names a level's lookup takes at once: one statement per level of the walk, not one per task. */
const LEVEL_NAMES = 1000;

/**
 * One step of the walk: the names `edges` reach from the frontier that are not yet seen, added to `seen` until it
 * holds `limit`. Returns the next frontier and whether some were left out for the limit.
 */
export function expand(seen: Set<string>, edges: readonly GraphEdge[], limit: number): { frontier: string[]; cut: boolean } {
  const frontier: string[] = [];
  let cut = false;
  for (const e of edges) {
    for (const n of [e.from, e.to]) {
      if (seen.has(n)) continue;
      if (seen.size >= limit) { cut = true; continue; }
      seen.add(n);
      frontier.push(n);
    }
  }
  return { frontier, cut };
}

/**
 * The workflow of a task: every task connected to it by dependencies, either way (its upstream, its downstream, and
 * theirs), walked breadth first to at most `limit` tasks, with the edges between those tasks; or null when there is
 * no such task. A dependency named but not submitted is a node of state null.
 */
export async function readWorkflow(ledger: Ledger, name: string, limit: number = Limits.graphNodes): Promise<TaskGraph | null> {
  const [root] = await ledger.query<{ name: string }>('SELECT name FROM tasks WHERE name = $1', [name]);
  if (!root) return null;
  const seen = new Set<string>([name]);
  const edges = new Map<string, GraphEdge>();
  let frontier = [name];
  let truncated = false;
  while (frontier.length > 0) {
    const next: string[] = [];
    for (let i = 0; i < frontier.length; i += LEVEL_NAMES) {
      const part = frontier.slice(i, i + LEVEL_NAMES);
      const rows = await ledger.query<{ from: string; to: string }>(
        `SELECT dependency AS "from", task AS "to" FROM task_dependencies WHERE task = ANY($1::text[])
         UNION SELECT dependency, task FROM task_dependencies WHERE dependency = ANY($1::text[])`,
        [part],
      );
      for (const r of rows) edges.set(`${r.from}\n${r.to}`, { from: r.from, to: r.to });
      const step = expand(seen, rows, limit);
      truncated ||= step.cut;
      next.push(...step.frontier);
    }
    frontier = next;
  }
  const states = await ledger.query<{ name: string; state: TaskState }>('SELECT name, state FROM tasks WHERE name = ANY($1::text[])', [[...seen]]);
  const stateOf = new Map(states.map((s) => [s.name, s.state]));
  return {
    name,
    nodes: [...seen].map((n) => ({ name: n, state: stateOf.get(n) ?? null })),
    edges: [...edges.values()].filter((e) => seen.has(e.from) && seen.has(e.to)),
    truncated,
  };
}
