import { Subjects, TangerineError, Validators } from '@tangerine/contracts';
import { getTask, listTasks } from '@tangerine/ledger';
import { respond, type ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';

const QUEUE = 'tangerine-api';

/**
 * api: read access over NATS request/reply (`tasks.get`, `tasks.list`), the same JSON the HTTP API serves.
 * Replicas share requests through a queue group. Writes never happen here: they go through the bus.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const subs = [
    respond(ctx, Subjects.get.subject, QUEUE, async (body) => {
      const req = Validators.get.parse(body);
      const task = await getTask(ctx.ledger, req.name);
      if (!task) throw new TangerineError('not_found', `name: no task named "${req.name}"`, { field: 'name' });
      return task;
    }),
    respond(ctx, Subjects.list.subject, QUEUE, async (body) => {
      const req = Validators.list.parse(body ?? {});
      return { tasks: await listTasks(ctx.ledger, req) };
    }),
  ];
  return async () => {
    for (const s of subs) s.unsubscribe();
  };
}
