import { Limits, NotFoundError, Subjects, type RunList, type RunOutput, type TaskList, type TaskView } from '@tangerine/contracts';
import { countTasksByState, getTask, listTasks, readOutput, readRuns } from '@tangerine/ledger';
import { fitPage, pageSize, replyBudget, respond } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import type { Stop } from '@tangerine/runtime';
import { serveTemplateRequests } from './templates.js';

const QUEUE = 'tangerine-api';
/** Tasks a `tasks.list` page holds when no limit is asked. */
const DEFAULT_PAGE = 100;
/** How stale the queue depths of /metrics may be: a count is one pass over the tasks table. */
const DEPTHS_EVERY_MS = 15_000;

/**
 * api: read access over NATS request/reply (`tasks.get`, `tasks.list`, `tasks.runs`, `tasks.output`, `templates.get`,
 * `templates.list`), the same JSON
 * the HTTP API serves. Replicas share requests through a queue group. Writes never happen here: they go through the
 * bus. Every reply is bounded: pages of at most Limits.pageItems and of at most the bus's max_payload in bytes.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const notFound = (name: string): NotFoundError => new NotFoundError(`name: no task named "${name}"`, { field: 'name' });
  const subs = [
    respond(ctx, Subjects.get, QUEUE, async (req): Promise<TaskView> => {
      const task = await getTask(ctx.ledger, req.name);
      if (!task) throw notFound(req.name);
      return task;
    }),
    respond(ctx, Subjects.list, QUEUE, async (req): Promise<TaskList> => {
      const limit = pageSize(req.limit, DEFAULT_PAGE);
      const page = fitPage(await listTasks(ctx.ledger, { ...req, limit }), limit, replyBudget(ctx), (t) => t.name);
      return { tasks: page.items, next: page.next };
    }),
    respond(ctx, Subjects.runs, QUEUE, async (req): Promise<RunList> => {
      const limit = pageSize(req.limit, Limits.runsPerTask, Limits.runsPerPage);
      const { runs, next } = await readRuns(ctx.ledger, req.name, { limit, ...(req.before ? { before: req.before } : {}) });
      if (runs.length === 0 && !(await getTask(ctx.ledger, req.name))) throw notFound(req.name);
      return { name: req.name, runs, next };
    }),
    respond(ctx, Subjects.output, QUEUE, async (req): Promise<RunOutput> => {
      const output = await readOutput(ctx.ledger, req.name, req.attempt);
      if (output === null) throw new NotFoundError(`attempt: task "${req.name}" has no run ${req.attempt}`, { field: 'attempt' });
      return { name: req.name, attempt: req.attempt, output };
    }),
    ...serveTemplateRequests(ctx, QUEUE),
  ];
  // The queue depths: here, since api is the service that reads the ledger for others (and has no hot path).
  ctx.metrics.gaugeByLabel('tasks', `Tasks in the ledger by state, counted at most every ${DEPTHS_EVERY_MS / 1000} s`, 'state',
    () => countTasksByState(ctx.ledger), DEPTHS_EVERY_MS);
  return async () => {
    for (const s of subs) s.unsubscribe();
  };
}
