import { Subjects, type RunList, type RunOutput, type TaskList, type TaskView } from '@tangerine/contracts';
import { countTasksByState } from '@tangerine/ledger';
import { replyBudget, respond } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import { startHttp } from './http/server.js';
import { readRunOutput, readRunPage, readTask, readTaskPage } from './reads.js';
import type { Stop } from '@tangerine/runtime';
import { serveTemplateRequests } from './templates.js';

const QUEUE = 'tangerine-api';
/** How stale the queue depths of /metrics may be: a count is one pass over the tasks table. */
const DEPTHS_EVERY_MS = 15_000;

/**
 * api: read access over NATS request/reply (`tasks.get`, `tasks.list`, `tasks.runs`, `tasks.output`, `templates.get`,
 * `templates.list`), the same JSON the HTTP API serves, and the HTTP API itself (http/, on API_PORT). Replicas share requests through a queue group.
 * Writes never happen here: they go through the bus. Every reply is bounded: pages of at most Limits.pageItems and
 * of at most the bus's max_payload in bytes.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const subs = [
    respond(ctx, Subjects.get, QUEUE, async (req): Promise<TaskView> => readTask(ctx.ledger, req.name)),
    respond(ctx, Subjects.list, QUEUE, async (req): Promise<TaskList> => readTaskPage(ctx.ledger, req, replyBudget(ctx))),
    respond(ctx, Subjects.runs, QUEUE, async (req): Promise<RunList> => readRunPage(ctx.ledger, req)),
    respond(ctx, Subjects.output, QUEUE, async (req): Promise<RunOutput> => readRunOutput(ctx.ledger, req.name, req.attempt)),
    ...serveTemplateRequests(ctx, QUEUE),
  ];
  // The queue depths: here, since api is the service that reads the ledger for others (and has no hot path).
  ctx.metrics.gaugeByLabel('tasks', `Tasks in the ledger by state, counted at most every ${DEPTHS_EVERY_MS / 1000} s`, 'state',
    () => countTasksByState(ctx.ledger), DEPTHS_EVERY_MS);
  let stopHttp: Stop;
  try {
    stopHttp = await startHttp(ctx);
  } catch (err) {
    for (const s of subs) s.unsubscribe();
    throw err;
  }
  return async () => {
    await stopHttp();
    for (const s of subs) s.unsubscribe();
  };
}
