import { config as placerConfig, start as startPlacer } from '@tangerine/placer';
import type { ServiceContext } from '@tangerine/platform';
import type { Stop } from '@tangerine/runtime';
import { openInProcess, type InProcess } from './in-process.js';

/** The placer in-process, with one host `h1` of one slot in the ledger (up, heard from now). */
export interface OnePlacer {
  readonly env: InProcess;
  readonly ctx: ServiceContext;
  /** Starts the placer (once the test has put its tasks in the ledger). */
  start(opts?: { usageRefreshMs?: number }): Promise<void>;
  close(): Promise<void>;
}

export async function placerOnOneHost(name: string): Promise<OnePlacer> {
  const env = await openInProcess(name);
  const { ctx } = env;
  await ctx.ledger.query(
    `INSERT INTO hosts (id, labels, slots, executors, cpu, memory, last_seen) VALUES ('h1', '{}', 1, '{process}', 2, 1024, now())`,
  );
  let stop: Stop | undefined;
  return {
    env, ctx,
    start: async (opts = {}) => {
      stop = await startPlacer({ ...ctx, config: placerConfig.compile({ DATABASE_URL: env.db.url, HOST_TIMEOUT: '600' }) }, opts);
    },
    close: async () => {
      await stop?.();
      await env.close();
    },
  };
}
