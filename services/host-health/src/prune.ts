import { fileStore } from '@tangerine/bus';
import { pruneHistory } from '@tangerine/ledger';
import { pruneFiles } from './files.js';
import type { ServiceContext } from './config.js';
import type { Stop } from '@tangerine/runtime';

/** The time one prune may take; a walk through the tasks that did not reach the last one resumes this soon after. */
const PRUNE_BUDGET_MS = 1000;
const PRUNE_CATCH_UP_MS = 5000;

/**
 * Every PRUNE_INTERVAL, runs and fire records beyond RUNS_KEEP, FIRES_KEEP and HISTORY_RETENTION are deleted, in
 * statements of at most 5,000 rows for at most PRUNE_BUDGET_MS. On its own timer, never in host-health's heartbeat
 * and host sweep: a long prune does not delay a host's going down. A walk through a large ledger (or the backlog an
 * upgrade finds) goes on where it stopped after PRUNE_CATCH_UP_MS of rest: about a sixth of one ledger connection
 * until it has caught up. Replicas prune side by side: rows another one holds are skipped, never waited for.
 */
export function startPruning(ctx: ServiceContext): Stop {
  const { config, log } = ctx;
  if (config.pruneIntervalMs === 0) return async () => undefined;
  const policy = { runsKeep: config.runsKeep, historyMs: config.historyRetentionMs, firesKeep: config.firesKeep };
  let stopped = false;
  let resume = '';
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const files = fileStore(ctx.bus.js);
  const schedule = (ms: number): void => {
    if (!stopped) timer = setTimeout(() => { running = prune(); }, ms);
  };
  const prune = async (): Promise<void> => {
    let next = config.pruneIntervalMs;
    try {
      const r = await pruneHistory(ctx.ledger, policy, { now: ctx.clock.now(), budgetMs: PRUNE_BUDGET_MS, after: resume });
      resume = r.resume ?? '';
      if (r.resume !== null) next = Math.min(next, PRUNE_CATCH_UP_MS);
      ctx.metrics.inc('pruned_runs', r.runs);
      ctx.metrics.inc('pruned_fires', r.fires);
      if (r.runs + r.fires > 0) {
        log.info({ runs: r.runs, fires: r.fires, statements: r.statements, complete: r.resume === null }, 'history pruned');
      }
    } catch (err) {
      log.warn({ err }, 'pruning history failed');
    }
    try {
      const f = await pruneFiles(ctx.bus.js, await files(), ctx.ledger, new Date(ctx.clock.now().getTime() - config.filesRetentionMs));
      ctx.metrics.inc('pruned_files', f.deleted);
      if (f.deleted > 0) log.info({ files: f.deleted, seen: f.seen, pages: f.pages }, 'files pruned');
    } catch (err) {
      log.warn({ err }, 'pruning files failed');
    }
    schedule(next);
  };
  schedule(config.pruneIntervalMs);
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}

