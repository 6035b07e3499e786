import { applyFires, parkUnreadable, readDueTasks, type Fire } from '@tangerine/ledger';
import { announce } from '@tangerine/platform';
import type { ServiceContext } from './config.js';
import { repeat, type Stop } from '@tangerine/runtime';
import { planFires } from './plan.js';

/** Due tasks handled per statement; more wait for the next tick, soonest first. */
const BATCH = 500;

/**
 * cron: puts recurring tasks and tasks with a start time back in the queue when their time comes, once per fire
 * time. It keeps no state: the ledger's compare-and-set decides, so any number of replicas may run, and one that
 * was down catches up on restart (one run at most, within starting_deadline).
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  return repeat(() => tick(ctx), ctx.config.cronTickMs, (err) => ctx.log.warn({ err }, 'cron tick failed; trying again'), { immediate: true });
}

async function tick(ctx: ServiceContext): Promise<void> {
  for (;;) {
    const now = ctx.clock.now();
    const due = await readDueTasks(ctx.ledger, now, BATCH);
    if (due.length === 0) return;
    const plan = planFires(due, now);
    const { events, applied } = await applyFires(ctx.ledger, plan.fires);
    for (const f of applied) logFire(ctx, f);
    const parked = await parkUnreadable(ctx.ledger, plan.unreadable);
    for (const e of parked) ctx.log.error({ task: e.name, attempt: e.attempt, host: e.host, reason: e.reason }, 'schedule cannot be read; the task is parked');
    await announce(ctx, [...events, ...parked]);
    if (due.length < BATCH) return;
  }
}

function logFire(ctx: ServiceContext, f: Fire): void {
  const line = {
    task: f.name, attempt: f.attempt, host: f.host, fire_time: f.fire_time.toISOString(), outcome: f.outcome, missed_from: f.missed_from?.toISOString(),
    next_run_at: f.next_run_at?.toISOString() ?? null, child: f.child?.name,
  };
  if (f.outcome === 'fired') ctx.log.info(line, 'fire time reached');
  else ctx.log.warn(line, f.outcome === 'skipped_busy' ? 'fire time skipped: a run is still going' : 'fire time skipped: past its starting deadline');
}
