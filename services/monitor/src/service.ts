import { consumeBatches, decode, type JsMsg } from '@tangerine/bus';
import { Streams, Subjects, Validators, type RunExited, type RunStarted, type TaskEvent } from '@tangerine/contracts';
import { markStarted, recordExits, requeueLostReports } from '@tangerine/ledger';
import { publishEvents, type ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';

/**
 * monitor: agents' run reports → the ledger. A start moves placed → running; an exit applies the retry rules
 * (success, ready again, or failed); a lost run is requeued as host health requeues one (`run_lost`). Reports of
 * an attempt that is not the task's current one change only the run's own record. A success releases the
 * dependents it was the last one waited for (waiting → ready) in the statement that records it: passed on to the
 * resolver as an event, every step of a chain paid one more hop through NATS and one more process (see the README,
 * "Choices worth knowing").
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  return consumeBatches({
    bus: ctx.bus,
    stream: Streams.reports.name,
    durable: 'monitor',
    batchSize: ctx.config.batchSize,
    ackWaitMs: ctx.config.ackWaitMs,
    log: ctx.log,
    handle: (batch) => handle(ctx, batch),
  });
}

async function handle(ctx: ServiceContext, batch: JsMsg[]): Promise<void> {
  const started: RunStarted[] = [];
  const exited: RunExited[] = [];
  for (const m of batch) {
    try {
      if (m.subject === Subjects.runStarted.subject) started.push(decode(m.data, Validators.runStarted));
      else if (m.subject === Subjects.runExited.subject) exited.push(decode(m.data, Validators.runExited));
    } catch (err) {
      ctx.log.error({ err, subject: m.subject }, 'unreadable run report ignored');
    }
  }
  const lost = exited.filter((e) => e.lost === true);
  const events: TaskEvent[] = [
    ...(await markStarted(ctx.ledger, started)),
    ...(await recordExits(ctx.ledger, exited.filter((e) => e.lost !== true))),
    ...(await requeueLostReports(ctx.ledger, lost)),
  ];
  for (const e of events) {
    const line = { task: e.name, attempt: e.attempt, host: e.host, state: e.state, exit_code: e.exit_code, reason: e.reason };
    if (e.state === 'failed') ctx.log.warn(line, 'task failed');
    else ctx.log.info(line, `task ${e.state}`);
  }
  await publishEvents(ctx, events);
}
