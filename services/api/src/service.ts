import type { Msg } from '@nats-io/transport-node';
import { decodeText, encode } from '@tangerine/bus';
import { Subjects, TangerineError, Validators, isTangerineError, type ErrorReply } from '@tangerine/contracts';
import { getTask, listTasks } from '@tangerine/ledger';
import type { ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';

/**
 * api: read access over NATS request/reply (`tasks.get`, `tasks.list`), the same JSON the HTTP API serves.
 * Replicas share requests through a queue group. Writes never happen here: they go through the bus.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const subs = [
    respond(ctx, Subjects.get.subject, async (body) => {
      const req = Validators.get.parse(body);
      const task = await getTask(ctx.ledger, req.name);
      if (!task) throw new TangerineError('not_found', `name: no task named "${req.name}"`, { field: 'name' });
      return task;
    }),
    respond(ctx, Subjects.list.subject, async (body) => {
      const req = Validators.list.parse(body ?? {});
      return { tasks: await listTasks(ctx.ledger, req) };
    }),
  ];
  return async () => {
    for (const s of subs) s.unsubscribe();
  };
}

function respond(ctx: ServiceContext, subject: string, handler: (body: unknown) => Promise<unknown>) {
  return ctx.bus.nc.subscribe(subject, {
    queue: 'tangerine-api',
    callback: (err, msg) => {
      if (err) return;
      void answer(ctx, msg, handler);
    },
  });
}

async function answer(ctx: ServiceContext, msg: Msg, handler: (body: unknown) => Promise<unknown>): Promise<void> {
  let reply: unknown;
  try {
    const text = decodeText(msg.data).trim();
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new TangerineError('invalid_json', 'payload: is not valid JSON');
      }
    }
    reply = await handler(body);
  } catch (err) {
    if (!isTangerineError(err)) ctx.log.error({ err, subject: msg.subject }, 'request failed');
    const e = isTangerineError(err) ? err : new TangerineError('ledger_unavailable', 'the ledger could not answer; try again');
    reply = { error: e.toJSON() } satisfies ErrorReply;
  }
  if (msg.reply) msg.respond(encode(reply));
}
