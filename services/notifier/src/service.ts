import { decode } from '@tangerine/bus';
import { Durables, Streams, Subjects, type DeadLetter, type FleetEvent, type HostEvent, type ScalingEvent, type TaskEvent } from '@tangerine/contracts';
import {
  closeDueGroups, finishNotification, holdLeadership, pruneNotifications, readNotificationContent, readPendingNotifications, readSkippedFires,
  readTaskFacts, recordNotifiable, type FiresCursor, type PendingNotification,
} from '@tangerine/ledger';
import { consumeService } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';
import type { ServiceContext } from './config.js';
import { WebhookQueue, nextStep, redactWebhook, sleep, type RetryPolicy } from './delivery.js';
import { formatMessage, type FormatOptions } from './format.js';
import {
  fromDeadLetter, fromFleetEvent, fromHostEvent, fromScalingEvent, fromSkippedFire, fromTaskEvent, isLost, mayNotify, type Item, type Notifiable,
} from './items.js';

/** One replica sends (an advisory lock): one webhook, one queue, at most one message a second, whatever the replicas. */
const NOTIFIER_LOCK = 7_240_003;
/** How often the sender closes the groups whose window has passed and sends what is pending. */
const TICK_MS = 250;
/** Characters of a run's output kept with its event: the message shows its last 10 lines, at most 2,990 characters. */
const TAIL_CHARS = 3000;
/** Messages read from the ledger per round. */
const PENDING_PAGE = 20;
/** Sent and refused messages, with the identities of their events, are kept a week against redeliveries. */
const KEEP_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
/**
 * How often the leader reads the cron fire times skipped past their deadline (cron publishes no event for them), and
 * how far back it reads again each time: a fire committed late can carry an earlier recorded_at than one read before.
 * On start it reads the last hour, so a restart loses none (and records none twice: the fire is the item's key).
 */
const SKIPPED_EVERY_MS = 5000;
const SKIPPED_OVERLAP_MS = 60_000;
const SKIPPED_PAGE = 500;

type Incoming =
  | { kind: 'task'; event: TaskEvent }
  | { kind: 'host'; event: HostEvent }
  | { kind: 'fleet'; event: FleetEvent }
  | { kind: 'dead'; event: DeadLetter }
  | { kind: 'scaling'; event: ScalingEvent }
  | { kind: 'other' };

/** Events of states no message is about are passed over unparsed: most of the stream (placed, running, ...). */
const TOLD_STATES = new Set(['success', 'failed', 'blocked', 'cancelled', 'ready', 'waiting', 'scheduled']);

function decodeEvent(subject: string, data: Uint8Array): Incoming {
  const task = Subjects.events.match(subject);
  if (task !== null) {
    const state = subject.slice(subject.lastIndexOf('.') + 1);
    return TOLD_STATES.has(state) ? { kind: 'task', event: decode(data, Subjects.events) } : { kind: 'other' };
  }
  if (Subjects.hostEvents.match(subject) !== null) return { kind: 'host', event: decode(data, Subjects.hostEvents) };
  if (Subjects.fleetEvents.match(subject) !== null) return { kind: 'fleet', event: decode(data, Subjects.fleetEvents) };
  if (Subjects.scalingEvents.match(subject) !== null) return { kind: 'scaling', event: decode(data, Subjects.scalingEvents) };
  return { kind: 'other' };
}

/**
 * notifier: events → Slack. Every replica reads the events (tasks, hosts, fleet) and the dead letters through shared
 * durable consumers and records each event worth telling in the ledger, in its group, before it acks it: the event's
 * identity is the row's key, so a redelivery or a second replica records nothing new. One replica (the leader) closes
 * each group when its window has passed into a pending message, formats it from the ledger, sends it, and marks it
 * sent. A restart resumes from the ledger: open groups and pending messages survive it.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const webhook = redactWebhook(ctx.config.webhook);
  ctx.log.info({ slack: webhook, notify: ctx.config.notify, group_window_s: ctx.config.groupWindowMs / 1000 }, 'notifying Slack');
  const own: readonly string[] = [Durables.notifier, Durables.notifierDead];
  const stops: Stop[] = [];
  try {
    stops.push(await consumeService<Incoming>(ctx, {
      stream: Streams.events.name, durable: Durables.notifier, deliver: 'new',
      decode: (m) => decodeEvent(m.subject, m.data),
      handle: (batch) => record(ctx, batch.map((d) => d.value)),
    }));
    stops.push(await consumeService<Incoming>(ctx, {
      stream: Streams.dead.name, durable: Durables.notifierDead, deliver: 'new',
      decode: (m) => ({ kind: 'dead', event: decode(m.data, Subjects.deadLetters) }),
      handle: async (batch) => {
        for (const d of batch) {
          if (d.value.kind === 'dead' && own.includes(d.value.event.consumer)) {
            ctx.log.error({ consumer: d.value.event.consumer, subject: d.value.event.subject, reason: d.value.event.reason }, 'the notifier set a message aside');
          }
        }
        await record(ctx, batch.map((d) => d.value), own);
      },
    }));
  } catch (err) {
    for (const stop of stops) await stop();
    throw err;
  }
  const sender = startSender(ctx, webhook);
  return async () => {
    for (const stop of stops) await stop();
    await sender();
  };
}

/** The events of a batch worth telling, with what the ledger knows of their tasks, recorded in one statement. */
async function record(ctx: ServiceContext, batch: readonly Incoming[], own: readonly string[] = []): Promise<void> {
  const kinds = ctx.config.notify;
  const tasks = batch.flatMap((b) => (b.kind === 'task' && mayNotify(b.event) ? [b.event] : []));
  const facts = await readTaskFacts(ctx.ledger, tasks.filter((e) => !isLost(e)).map((e) => ({ name: e.name, attempt: e.attempt })), TAIL_CHARS);
  const rows: Notifiable[] = [];
  for (const b of batch) {
    let n: Notifiable | null = null;
    if (b.kind === 'task') n = mayNotify(b.event) ? fromTaskEvent(b.event, facts.get(b.event.name), kinds) : null;
    else if (b.kind === 'host') n = fromHostEvent(b.event, kinds);
    else if (b.kind === 'fleet') n = fromFleetEvent(b.event, kinds);
    else if (b.kind === 'dead') n = fromDeadLetter(b.event, kinds, own);
    else if (b.kind === 'scaling') n = fromScalingEvent(b.event, kinds);
    if (n !== null) rows.push(n);
  }
  const added = await recordNotifiable(ctx.ledger, rows);
  if (added > 0) ctx.metrics.inc('notifications_events_recorded', added);
}

/** The leader's loop: close due groups, send pending messages one by one through the webhook's queue. */
function startSender(ctx: ServiceContext, webhook: string): Stop {
  const queue = new WebhookQueue(ctx.config.webhook, ctx.clock);
  const stopping = new AbortController();
  const leadership = holdLeadership({ connection: ctx.ledger.options, key: NOTIFIER_LOCK, log: ctx.log, application: 'notifier-leader' });
  const policy: RetryPolicy = { retryForMs: ctx.config.retryForMs, firstDelayMs: 1000, maxDelayMs: 60_000 };
  const format: FormatOptions = { statusUrl: ctx.config.statusUrl, named: 20, tailLines: 10 };
  let prunedAt = 0;
  let skippedAt = 0;
  let skippedSince = new Date(ctx.clock.now().getTime() - 3_600_000);
  let lastFailure: string | null = null;
  ctx.metrics.gauge('notifications_requests', () => queue.requests);

  const deliver = async (n: PendingNotification): Promise<void> => {
    const content = await readNotificationContent(ctx.ledger, n.id, format.named);
    const message = formatMessage({ group_key: n.group_key, ...content, items: content.items as Item[] }, format);
    const line = { notification: n.id, group: n.group_key, events: content.total, slack: webhook };
    const began = ctx.clock.now().getTime();
    for (let tries = 1; ; tries++) {
      const outcome = await queue.send(message, stopping.signal);
      const step = nextStep(outcome, tries, ctx.clock.now().getTime() - began, policy);
      if (step.action === 'done') {
        await finishNotification(ctx.ledger, n.id, 'sent');
        ctx.metrics.inc('notifications_sent');
        ctx.log.info({ ...line, tries }, 'sent to Slack');
        return;
      }
      if (step.action === 'give_up') {
        await finishNotification(ctx.ledger, n.id, 'refused', step.error);
        ctx.metrics.inc('notifications_refused');
        ctx.log.error({ ...line, tries, error: step.error }, `Slack did not take the message: ${step.error}`);
        return;
      }
      ctx.log.warn({ ...line, tries, retry_in_ms: step.delayMs, error: step.why }, `Slack did not take the message yet (${step.why}); trying again`);
      queue.holdUntil(ctx.clock.now().getTime() + step.delayMs);
      // Stopping, or another replica took over: the message stays pending, for the next leader.
      if (stopping.signal.aborted || !leadership.isLeader()) return;
    }
  };

  const readSkipped = async (): Promise<void> => {
    if (!ctx.config.notify.includes('cron_skipped')) return;
    let after: FiresCursor = { recorded_at: new Date(skippedSince.getTime() - SKIPPED_OVERLAP_MS).toISOString(), task: '', fire_time: new Date(0).toISOString() };
    for (;;) {
      const fires = await readSkippedFires(ctx.ledger, after, SKIPPED_PAGE);
      const added = await recordNotifiable(ctx.ledger, fires.flatMap((f) => fromSkippedFire(f, ctx.config.notify) ?? []));
      if (added > 0) ctx.metrics.inc('notifications_events_recorded', added);
      const last = fires.at(-1);
      if (last === undefined) return;
      after = last.position;
      if (last.recorded_at > skippedSince) skippedSince = last.recorded_at;
      if (fires.length < SKIPPED_PAGE) return;
    }
  };

  const round = async (): Promise<void> => {
    const now = ctx.clock.now().getTime();
    if (now - skippedAt >= SKIPPED_EVERY_MS) {
      skippedAt = now;
      await readSkipped();
    }
    await closeDueGroups(ctx.ledger, ctx.config.groupWindowMs);
    for (const n of await readPendingNotifications(ctx.ledger, PENDING_PAGE)) {
      if (stopping.signal.aborted || !leadership.isLeader()) return;
      await deliver(n);
    }
    if (now - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = now;
      const pruned = await pruneNotifications(ctx.ledger, KEEP_MS);
      if (pruned > 0) ctx.log.info({ pruned }, 'old notifications pruned');
    }
  };

  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        if (leadership.isLeader()) await round();
        lastFailure = null;
      } catch (err) {
        const cause = String((err as Error)?.message ?? err);
        if (cause !== lastFailure) ctx.log.warn({ err }, 'the notifier\'s round failed; trying again');
        lastFailure = cause;
      }
      await sleep(TICK_MS, stopping.signal);
    }
  })();

  return async () => {
    stopping.abort();
    await loop;
    await leadership.release();
  };
}
