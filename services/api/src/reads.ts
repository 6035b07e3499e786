import { Limits, NotFoundError, type ListRequest, type RunList, type RunOutput, type RunsRequest, type TaskList, type TaskView } from '@tangerine/contracts';
import { getTask, listTasks, readOutput, readRuns, type Ledger } from '@tangerine/ledger';
import { fitPage, pageSize } from '@tangerine/platform';

/**
 * The reads the api serves, over NATS (service.ts) and over HTTP (http/): one function each, so both answer the
 * same JSON. `budget`: the bytes a page may take (a NATS reply's max_payload, less its envelope).
 */

/** Tasks a page holds when no limit is asked. */
export const DEFAULT_PAGE = 100;

export function noTask(name: string): NotFoundError {
  return new NotFoundError(`name: no task named "${name}"`, { field: 'name' });
}

export async function readTask(ledger: Ledger, name: string): Promise<TaskView> {
  const task = await getTask(ledger, name);
  if (!task) throw noTask(name);
  return task;
}

export async function readTaskPage(ledger: Ledger, req: ListRequest, budget: number): Promise<TaskList> {
  const limit = pageSize(req.limit, DEFAULT_PAGE);
  const page = fitPage(await listTasks(ledger, { ...req, limit }), limit, budget, (t) => t.name);
  return { tasks: page.items, next: page.next };
}

export async function readRunPage(ledger: Ledger, req: RunsRequest): Promise<RunList> {
  const limit = pageSize(req.limit, Limits.runsPerTask, Limits.runsPerPage);
  const { runs, next } = await readRuns(ledger, req.name, { limit, ...(req.before ? { before: req.before } : {}) });
  if (runs.length === 0 && !(await getTask(ledger, req.name))) throw noTask(req.name);
  return { name: req.name, runs, next };
}

export async function readRunOutput(ledger: Ledger, name: string, attempt: number): Promise<RunOutput> {
  const output = await readOutput(ledger, name, attempt);
  if (output === null) throw new NotFoundError(`attempt: task "${name}" has no run ${attempt}`, { field: 'attempt' });
  return { name, attempt, output };
}
