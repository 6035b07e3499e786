import { isTaskState, type TaskState } from '@tangerine/contracts';

/*
 * The states a statement reads or writes come from the groups in @tangerine/contracts (states.ts), written into the
 * SQL text as literals by these two functions, not passed as parameters (`state = ANY($n::text[])`). The ledger
 * prepares every statement by name (db.ts), and after five runs PostgreSQL may switch a prepared statement to its
 * generic plan: with a parameter there, the planner cannot prove that `state = ANY($n)` implies a partial index's
 * predicate (tasks_ready `WHERE state = 'ready'`, tasks_on_host `WHERE state IN ('placed', 'running')`), and the
 * placer's reads and the lost-run sweeps would scan `tasks_state` or the table instead. Literals keep every
 * statement's text, and so its plans, what they were. Only TaskState values get through: the text cannot carry
 * anything else.
 */

/** SQL: one state as a literal, `'ready'`. */
export function sqlState(state: TaskState): string {
  if (!isTaskState(state)) throw new TypeError(`sqlState: ${JSON.stringify(state)} is not a task state`);
  return `'${state}'`;
}

/** SQL: a group of states as a parenthesised list for `IN`, `('placed', 'running')`. */
export function sqlStates(states: readonly TaskState[]): string {
  if (states.length === 0) throw new TypeError('sqlStates: an empty group of states');
  return `(${states.map(sqlState).join(', ')})`;
}
