import { consumeBatches, decode, type JsMsg } from '@tangerine/bus';
import { Streams, Subjects, ValidationError, Validators, type RunExited, type RunStarted, type TaskEvent } from '@tangerine/contracts';
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
  return consumeBatches<Report>({
    bus: ctx.bus,
    stream: Streams.reports.name,
    durable: 'monitor',
    batchSize: ctx.config.batchSize,
    ackWaitMs: ctx.config.ackWaitMs,
    log: ctx.log,
    metrics: ctx.metrics,
    decode: readReport,
    handle: (batch) => handle(ctx, batch.map((d) => d.value)),
  });
}

type Report = { kind: 'started'; report: RunStarted } | { kind: 'exited'; report: RunExited };

/** A report on a subject the stream captures but no one sends is set aside like any unreadable one. */
function readReport(m: JsMsg): Report {
  if (m.subject === Subjects.runStarted.subject) return { kind: 'started', report: decode(m.data, Validators.runStarted) };
  if (m.subject === Subjects.runExited.subject) return { kind: 'exited', report: decode(m.data, Validators.runExited) };
  throw new ValidationError('invalid_message', `subject: ${m.subject} carries no run report`, { field: 'subject' });
}

async function handle(ctx: ServiceContext, reports: Report[]): Promise<void> {
  const started = reports.flatMap((r) => (r.kind === 'started' ? [r.report] : []));
  const exited = reports.flatMap((r) => (r.kind === 'exited' ? [r.report] : []));
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
