import type { TaskState } from '@tangerine/contracts';
import type { Ledger } from '../db.js';

/**
 * The state of each named task the ledger holds (names it does not hold are absent): what the HTTP API reads to
 * answer a submission of a task that exists and is not finished with 409 at once. One statement for a whole list
 * (up to Limits.specsPerMessage names), by the primary key.
 */
export async function readStates(ledger: Ledger, names: readonly string[]): Promise<Map<string, TaskState>> {
  if (names.length === 0) return new Map();
  const rows = await ledger.query<{ name: string; state: TaskState }>('SELECT name, state FROM tasks WHERE name = ANY($1::text[])', [names]);
  return new Map(rows.map((r) => [r.name, r.state]));
}
