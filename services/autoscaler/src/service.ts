import { holdLeadership } from '@tangerine/ledger';
import type { Stop } from '@tangerine/runtime';
import type { ServiceContext } from './config.js';
import { evaluate, newMemory, type ScalerMemory } from './evaluate.js';
import { createProvider, type Closable } from './providers/index.js';
import { startTaskInstances } from './per-task/index.js';

/** One replica acts (an advisory lock of its own): two autoscalers would each ask for the hosts the queue needs. */
const AUTOSCALER_LOCK = 7_240_004;

/**
 * autoscaler: every EVALUATION_INTERVAL the leader reads the ledger (hosts, their tasks, ready tasks by label set, its
 * own open drains and clocks) and its provider, decides (decide.ts) and applies: the target, drains through
 * hosts.drain, terminations of drained hosts found empty. Its record in the ledger (014_scaling) lets a replica that
 * takes over, or a restart after SIGKILL, finish or undo what was under way.
 */
export async function start(ctx: ServiceContext): Promise<Stop> {
  const provider = createProvider(ctx);
  const providers: Closable[] = [provider];
  const memory = newMemory();
  registerMetrics(ctx, memory);
  ctx.log.info({
    provider: provider.name, min: provider.min, max: provider.max, labels: provider.labels, evaluation_s: ctx.config.evaluationMs / 1000,
    idle_s: ctx.config.idleMs / 1000, up_cooldown_s: ctx.config.upCooldownMs / 1000, down_cooldown_s: ctx.config.downCooldownMs / 1000,
  }, 'autoscaling');
  const leadership = holdLeadership({ connection: ctx.ledger.options, key: AUTOSCALER_LOCK, log: ctx.log, application: 'autoscaler-leader' });
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let lastFailure: string | null = null;
  const tick = (): void => {
    if (stopped || !leadership.isLeader()) return;
    running = evaluate(ctx, providers, memory).then(() => { lastFailure = null; }, (err: unknown) => {
      // The ledger away, a bus request that timed out: nothing was decided on a partial view; the next tick tries again.
      const cause = err instanceof Error ? err.message : String(err);
      if (cause !== lastFailure) ctx.log.warn({ err }, `evaluation failed: ${cause}`);
      lastFailure = cause;
    });
  };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      tick();
      await running;
      await sleep(ctx.config.evaluationMs, () => stopped);
    }
  };
  const looping = loop();
  const stopTaskInstances = startTaskInstances(ctx, () => leadership.isLeader());
  return async () => {
    stopped = true;
    await stopTaskInstances();
    await looping;
    await leadership.release();
    for (const p of providers) await p.close?.();
  };
}

/** desired, actual, starting and draining hosts per provider, and ready task slots waiting for one, as of the last evaluation. */
function registerMetrics(ctx: ServiceContext, memory: ScalerMemory): void {
  const figures = [
    ['autoscaler_desired', 'The capacity the autoscaler last asked of each provider', 'target'],
    ['autoscaler_actual', 'Hosts of each provider that joined (up or draining)', 'actual'],
    ['autoscaler_starting', 'Hosts asked of each provider that have not joined yet', 'starting'],
    ['autoscaler_draining', 'Hosts of each provider draining', 'draining'],
    ['autoscaler_waiting_slots', 'Ready task slots counted toward each provider that no free slot takes', 'waiting'],
  ] as const;
  for (const [name, help, field] of figures) {
    ctx.metrics.gaugeByLabel(name, help, 'provider', async () => Object.fromEntries([...memory.last].map(([p, d]) => [p, d[field]])));
  }
}

/** Waits `ms`, or less once `done()` says so (a stop does not wait out a long interval). */
async function sleep(ms: number, done: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
}
