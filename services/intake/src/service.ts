import { describeError, publishAll, rejectionMessage, stopMessage, type Delivered, type Outgoing } from '@tangerine/bus';
import {
  ConflictError, DedupeIds, Durables, NotFoundError, Streams, type TaskEvent, UnprocessableError,
} from '@tangerine/contracts';
import { cancelTasks, submitTasks } from '@tangerine/ledger';
import { consumeService, publishEvents } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import type { Stop } from '@tangerine/runtime';
import { parseCommand, rejection, type Parsed } from './commands.js';

/**
 * intake: tasks.submit and tasks.cancel → validate → ledger → the task's first state as an event, or a
 * rejection on tasks.rejected. Every message of a batch is written in one transaction.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  return consumeService<Parsed[]>(ctx, {
    stream: Streams.commands.name,
    durable: Durables.intake,
    // Never throws: what breaks a rule becomes a rejection, handled with the rest of the batch.
    decode: (m) => parseCommand(m.subject, m.seq, m.data, ctx.clock.now(), {
      defaultTimezone: ctx.config.defaultTimezone, volumesAllowed: ctx.config.volumesAllowed,
      fileLimits: { maxBytes: ctx.config.filesMaxBytes, maxTotal: ctx.config.filesMaxTotal },
    }),
    handle: (batch) => handleCommands(ctx, batch),
    // A command that failed every try is answered on tasks.rejected: nothing is lost silently.
    refuse: async (m, err) => {
      const reason = new UnprocessableError(`spec: could not be handled (${describeError(err)}); it was set aside`);
      await publishAll(ctx.bus, [rejectionMessage(rejection(null, reason, m.data, ctx.clock.now(), { seq: m.seq, index: null }), DedupeIds.rejection(m.seq))]);
    },
  });
}

async function handleCommands(ctx: ServiceContext, batch: Delivered<Parsed[]>[]): Promise<void> {
  const now = ctx.clock.now();
  const parsed: Parsed[] = batch.flatMap((d) => d.value);
  const out: Outgoing[] = [];
  const events: TaskEvent[] = [];
  for (const p of parsed) {
    if (p.kind === 'invalid') {
      ctx.log.warn({ task: p.rejection.name, attempt: null, host: null, code: p.rejection.code, reason: p.rejection.reason }, 'submission rejected');
      out.push(rejectionMessage(p.rejection, DedupeIds.rejection(p.key)));
    }
  }
  const submissions = parsed.flatMap((p) => (p.kind === 'submit' ? [p.submission] : []));
  const texts = new Map(parsed.flatMap((p) => (p.kind === 'submit' ? [[p.key, p] as const] : [])));
  // Lists make batches of many thousand specs: they are written and announced a chunk at a time, so the first
  // tasks are placed while the last are still being written, and memory stays flat.
  for (let i = 0; i < submissions.length; i += ctx.config.batchSize) {
    const result = await submitTasks(ctx.ledger, submissions.slice(i, i + ctx.config.batchSize), now, { secretsKey: ctx.config.secretsKey });
    const rejections: Outgoing[] = [];
    for (const e of result.events) {
      ctx.log.info({ task: e.name, attempt: e.attempt, host: e.host, state: e.state, reason: e.reason }, 'task accepted');
    }
    for (const r of result.rejected) {
      ctx.log.warn({ task: r.name, attempt: null, host: null, code: r.error.code, reason: r.error.message }, 'submission rejected');
      const p = texts.get(r.key ?? '');
      rejections.push(rejectionMessage(rejection(r.name, r.error, p?.text ?? '', now, { seq: r.seq, index: p?.index ?? null }), DedupeIds.rejection(r.key ?? r.seq)));
    }
    await publishEvents(ctx, result.events, rejections);
  }
  const cancels = parsed.flatMap((p) => (p.kind === 'cancel' ? [p] : []));
  if (cancels.length > 0) {
    const cancelled = await cancel(ctx, cancels, now);
    events.push(...cancelled.events);
    out.push(...cancelled.out);
  }
  await publishEvents(ctx, events, out);
}

async function cancel(
  ctx: ServiceContext, cancels: { seq: number; name: string; text: string }[], now: Date,
): Promise<{ events: TaskEvent[]; out: Outgoing[] }> {
  const result = await cancelTasks(ctx.ledger, cancels.map((c) => c.name));
  const out: Outgoing[] = [];
  for (const s of result.stops) {
    ctx.log.info({ task: s.name, attempt: s.attempt, host: s.host }, 'stopping cancelled run');
    out.push(stopMessage(s, 'cancelled', DedupeIds.stop(s.name, s.attempt)));
  }
  for (const e of result.events) ctx.log.info({ task: e.name, attempt: e.attempt, host: e.host }, 'task cancelled');
  const refused = [
    ...result.notFound.map((name) => ({ name, err: new NotFoundError(`name: no task named "${name}"`, { field: 'name' }) })),
    // Cancelling a cancelled task again (or a redelivered cancel) changes nothing and is no error.
    ...result.finished.filter((f) => f.state !== 'cancelled').map(({ name, state }) => ({
      name, err: new ConflictError('not_cancellable', `name: task "${name}" is already ${state}`, { field: 'name' }),
    })),
  ];
  for (const { name, err } of refused) {
    for (const c of cancels.filter((c) => c.name === name)) {
      out.push(rejectionMessage(rejection(name, err, c.text, now, { seq: c.seq, index: null }), DedupeIds.rejection(c.seq)));
    }
  }
  return { events: result.events, out };
}
