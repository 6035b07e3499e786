import type { JsMsg } from '@tangerine/bus';
import { Durables, Streams } from '@tangerine/contracts';
import { markStarted, readRunHosts, recordExits, requeueLostReports } from '@tangerine/ledger';
import { announce, consumeService } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import { observeHops } from './hops.js';
import { readReport, screenReports, type Report } from './reports.js';
import type { Stop } from '@tangerine/runtime';

/**
 * monitor: agents' run reports → the ledger. A start moves placed → running; an exit applies the retry rules
 * (success, ready again, or failed); a lost run is requeued as host health requeues one (`run_lost`). Reports of
 * an attempt that is not the task's current one change only the run's own record. A report counts only from the
 * host the run was given: one from any other (its subject's host, or the host its payload names) changes nothing,
 * and is logged as a refused forgery. A success releases the dependents it was the last one waited for (waiting →
 * ready) in the statement that records it: passed on to the resolver as an event, every step of a chain paid one
 * more hop through NATS and one more process (see the README, "Choices worth knowing").
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const stopHops = await observeHops(ctx);
  // Shown at 0 from the start, so that a rate over them means something before the first forgery.
  for (const kind of ['started', 'exited'] as const) ctx.metrics.inc('forged_reports', 0, { kind });
  const stopReports = await consumeService<Report>(ctx, {
    stream: Streams.reports.name,
    durable: Durables.monitor,
    decode: (m: JsMsg) => readReport(m.subject, m.data),
    handle: (batch) => handle(ctx, batch.map((d) => d.value)),
  });
  return async () => {
    await stopReports();
    await stopHops();
  };
}

async function handle(ctx: ServiceContext, reports: Report[]): Promise<void> {
  const { genuine, mismatched } = screenReports(reports);
  const started = genuine.flatMap((r) => (r.kind === 'started' ? [r.report] : []));
  const exited = genuine.flatMap((r) => (r.kind === 'exited' ? [r.report] : []));
  const lost = exited.filter((e) => e.lost === true);
  const starts = await markStarted(ctx.ledger, started);
  const exits = await recordExits(ctx.ledger, exited.filter((e) => e.lost !== true));
  const losses = await requeueLostReports(ctx.ledger, lost);
  // Only a batch holding a report whose payload names another host than its subject pays this read: the run's
  // host, for the log line.
  const hosts = await readRunHosts(ctx.ledger, mismatched.map((r) => r.report));
  for (const r of mismatched) {
    refuse(ctx, r.kind, r.report, hosts.get(`${r.report.name}:${r.report.attempt}`) ?? null, r.from);
  }
  for (const r of starts.refused) refuse(ctx, 'started', r, r.host, r.reported);
  for (const r of [...exits.refused, ...losses.refused]) refuse(ctx, 'exited', r, r.host, r.reported);
  await announce(ctx, [...starts.events, ...exits.events, ...losses.events]);
}

/**
 * A refused report: a warning naming the run's host (null: no such run) and the reporter, and the metric. Nothing
 * else: it is acked, as a report handled; a redelivery is refused again and changes nothing either.
 */
function refuse(ctx: ServiceContext, kind: Report['kind'], run: { name: string; attempt: number }, host: string | null, from: string): void {
  ctx.metrics.inc('forged_reports', 1, { kind });
  ctx.log.warn({ task: run.name, attempt: run.attempt, host, from, kind }, 'refused forged report');
}
