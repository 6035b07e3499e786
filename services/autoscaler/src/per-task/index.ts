import type { Stop } from '@tangerine/runtime';
import type { ServiceContext } from '../config.js';
import { taskInstanceConfig } from './config.js';
import { TaskInstanceEc2 } from './ec2.js';
import { tick, type PerTaskMemory } from './loop.js';

/**
 * The per-task instances (a spec's `instance`), beside the evaluation and under the same leadership: every
 * TASK_INSTANCE_INTERVAL the leader runs one `tick`. Off (a stop that does nothing) unless TASK_INSTANCE_AMI is set.
 * A failed pass (the ledger away, EC2 failing) is logged with its code once and tried again at the next interval.
 */
export function startTaskInstances(ctx: ServiceContext, isLeader: () => boolean, env: NodeJS.ProcessEnv = process.env): Stop {
  const cfg = taskInstanceConfig.compile(env);
  if (cfg.ami === null) return async () => undefined;
  const ec2 = new TaskInstanceEc2(cfg);
  const memory: PerTaskMemory = { backoff: new Map(), sweptAtMs: 0 };
  ctx.log.info({ ami: cfg.ami, max: cfg.max, interval_s: cfg.intervalMs / 1000, sweep_s: cfg.sweepMs / 1000 }, 'per-task instances on');
  let stopped = false;
  let lastFailure: string | null = null;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      if (isLeader()) {
        await tick(ctx, cfg, ec2, memory).then(() => { lastFailure = null; }, (err: unknown) => {
          const code = (err as { code?: unknown }).code;
          const cause = `${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
          if (cause !== lastFailure) ctx.log.warn({ code }, `per-task instances: the pass failed: ${cause}`);
          lastFailure = cause;
        });
      }
      const until = Date.now() + cfg.intervalMs;
      while (!stopped && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
    }
  };
  const looping = loop();
  return async () => {
    stopped = true;
    await looping;
    ec2.close();
  };
}
