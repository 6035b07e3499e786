import { describeError, outgoing, publishAll, rejectionMessage, stopMessage, type Delivered, type Outgoing } from '@tangerine/bus';
import {
  ConflictError, DedupeIds, Durables, NotFoundError, Streams, Subjects, type TaskEvent, type TemplateStored, UnprocessableError,
} from '@tangerine/contracts';
import { cancelTasks, putTemplate, readTemplates, refKey, submitTasks } from '@tangerine/ledger';
import { consumeService, publishEvents } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import type { Stop } from '@tangerine/runtime';
import { mergeTemplated, parseCommand, rejection, type Parsed } from './commands.js';

/**
 * intake: tasks.submit and tasks.cancel → validate → ledger → the task's first state as an event, or a
 * rejection on tasks.rejected. Every message of a batch is written in one transaction. templates.put → validate →
 * a new version in the ledger (or none, for the content of the latest) → templates.events.<name>, or a rejection.
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
  // A put is handled where it stands in stream order: the specs before it are merged with the template as it was,
  // those after it with what it stored. A batch without a put is one segment, handled as before templates existed.
  let segment: Parsed[] = [];
  for (const p of batch.flatMap((d) => d.value)) {
    if (p.kind !== 'put') {
      segment.push(p);
      continue;
    }
    if (segment.length > 0) await handleSegment(ctx, segment, now);
    segment = [];
    await handlePut(ctx, p, now);
  }
  if (segment.length > 0) await handleSegment(ctx, segment, now);
}

/** Stores a template and says so on templates.events.<name>: a redelivered put finds its version and says it again. */
async function handlePut(ctx: ServiceContext, p: Extract<Parsed, { kind: 'put' }>, now: Date): Promise<void> {
  const { version, created } = await putTemplate(ctx.ledger, p.template, p.seq, { secretsKey: ctx.config.secretsKey });
  ctx.log.info({ template: p.template.name, version, created, seq: p.seq }, created ? 'template stored' : 'template unchanged');
  const stored: TemplateStored = { name: p.template.name, version, created, seq: p.seq, at: now.toISOString() };
  await publishAll(ctx.bus, [outgoing(Subjects.templateEvents.at(p.template.name), stored, DedupeIds.template(p.seq))]);
}

/** The specs that name a template, merged with it: one read of the ledger for all of them, none when there are none. */
async function withTemplates(ctx: ServiceContext, parsed: Parsed[], now: Date): Promise<Parsed[]> {
  const refs = parsed.flatMap((p) => (p.kind === 'templated' ? [p.ref] : []));
  if (refs.length === 0) return parsed;
  const found = await readTemplates(ctx.ledger, refs, { secretsKey: ctx.config.secretsKey });
  const options = { defaultTimezone: ctx.config.defaultTimezone, volumesAllowed: ctx.config.volumesAllowed };
  return parsed.map((p) => (p.kind === 'templated' ? mergeTemplated(p, found.get(refKey(p.ref)), now, options) : p));
}

async function handleSegment(ctx: ServiceContext, segment: Parsed[], now: Date): Promise<void> {
  const parsed = await withTemplates(ctx, segment, now);
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
