import { decode, type JsMsg } from '@tangerine/bus';
import { Durables, Streams, Subjects, ValidationError, type RunExited, type RunStarted, type TaskEvent } from '@tangerine/contracts';
import { markStarted, recordExits, requeueLostReports } from '@tangerine/ledger';
import { announce, consumeService } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import { observeHops } from './hops.js';
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
  const stopHops = await observeHops(ctx);
  const stopReports = await consumeService<Report>(ctx, {
    stream: Streams.reports.name,
    durable: Durables.monitor,
    decode: readReport,
    handle: (batch) => handle(ctx, batch.map((d) => d.value)),
  });
  return async () => {
    await stopReports();
    await stopHops();
  };
}

type Report = { kind: 'started'; report: RunStarted } | { kind: 'exited'; report: RunExited };

/** A report on a subject the stream captures but no one sends is set aside like any unreadable one. */
function readReport(m: JsMsg): Report {
  if (m.subject === Subjects.runStarted.subject) return { kind: 'started', report: decode(m.data, Subjects.runStarted) };
  if (m.subject === Subjects.runExited.subject) return { kind: 'exited', report: decode(m.data, Subjects.runExited) };
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
  await announce(ctx, events);
}
