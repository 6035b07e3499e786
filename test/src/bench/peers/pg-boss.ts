// pg-boss, measured the way Tangerine is: jobs submitted by this (producer) process, worked by separate worker
// processes, each job spawning `true`; from the first submit to the last job completion.
//
// Settings (pg-boss 10.4.2; 11+ needs Node 22), from its documentation (docs/readme.md, "Workers"):
// - `work()` adds one polling worker that fetches up to `batchSize` jobs per poll and hands them to the handler as
//   an array; "each call to work() will add a new worker". pg-boss 10 has no per-worker concurrency (the 12.x
//   `localConcurrency` option came later), so the concurrency C is `workers` × `batchSize` per process: a handler
//   runs its whole batch at once (Promise.all) and the worker polls again when the batch is done.
// - `pollingIntervalSeconds` at its documented minimum, 0.5 s. pg-boss 10 has no LISTEN/NOTIFY: a worker whose
//   poll came back empty (or whose batch took under 0.4 s) sleeps out the rest of the interval, so pg-boss runs
//   at most about C jobs per 0.4–0.5 s (~130 jobs/s at C = 64, ~1,000–1,300 at C = 512). Batch size 64 measured
//   the same as 256 and 16 at C = 512 (≈ 900–950 jobs/s, 5,000 jobs, batch mode).
// - Workers in `workerProcesses` processes (default 2, like Tangerine's 2 agents × 256 slots), each with
//   `migrate: false, supervise: false`; the producer's instance migrates and supervises. `schedule: false`
//   everywhere (no cron in this bench). The queue is created with the default (standard) policy and retries.
// - `single`: `send()` per job, at most 50 unsettled at once (the producer's pool is pg-boss's default, 10);
//   `batch`: `insert()` of 1,000 jobs per call (one multi-row INSERT), one call at a time.
// Completion: pg-boss completes a batch (`complete(ids)`, one UPDATE setting `completed_on`) after its handler
// resolves; this process polls the queue's states every 100 ms and the run ends at the last `completed_on`.
import { createRequire } from 'node:module';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { WorkerProcess, assertWorkersHealthy, bounded, chunks, sleep, split } from './common.js';
import type { PgBossWorkerConfig } from './pg-boss-worker.js';
import type { QueueRun, QueueRunOptions } from './types.js';

const VERSION = (createRequire(import.meta.url)('pg-boss/package.json') as { version: string }).version;
const QUEUE = 'bench';
export const PG_BOSS_IN_FLIGHT = 50;
export const PG_BOSS_CHUNK = 1000;
/** Jobs per fetch; the concurrency of a process is split over ceil(its share / this) `work()` workers. */
export const PG_BOSS_BATCH_SIZE = 64;
const POLLING_INTERVAL_SECONDS = 0.5;

export interface PgBossRunOptions extends QueueRunOptions {
  /** Jobs per fetch (and per handler call); default PG_BOSS_BATCH_SIZE. */
  batchSize?: number;
}

export async function runPgBoss(opts: PgBossRunOptions): Promise<QueueRun> {
  const shares = split(opts.concurrency, opts.workerProcesses ?? 2);
  const batchSize = Math.min(opts.batchSize ?? PG_BOSS_BATCH_SIZE, Math.min(...shares));
  const layout = shares.map((c) => ({ workers: Math.ceil(c / batchSize), batchSize: Math.ceil(c / Math.ceil(c / batchSize)) }));
  const boss = new PgBoss({ connectionString: opts.databaseUrl, schedule: false });
  boss.on('error', (err) => process.stderr.write(`[pg-boss producer] ${err.message}\n`));
  const watcher = new pg.Client({ connectionString: opts.databaseUrl });
  watcher.on('error', (err) => process.stderr.write(`[pg-boss watcher] ${err.message}\n`));
  const workers: WorkerProcess[] = [];
  try {
    await boss.start();
    await boss.createQueue(QUEUE);
    await watcher.connect();
    for (const l of layout) {
      const config: PgBossWorkerConfig = {
        databaseUrl: opts.databaseUrl, queue: QUEUE, workers: l.workers, batchSize: l.batchSize,
        pollingIntervalSeconds: POLLING_INTERVAL_SECONDS, poolMax: Math.max(10, Math.min(l.workers + 4, 40)),
      };
      workers.push(new WorkerProcess('./pg-boss-worker.js', config));
    }
    await Promise.all(workers.map((w) => w.ready));

    const start = Date.now();
    const submitting = (async () => {
      if (opts.mode === 'single') {
        await bounded(opts.jobs, PG_BOSS_IN_FLIGHT, (i) => boss.send(QUEUE, { i }));
      } else {
        for (const chunk of chunks(opts.jobs, PG_BOSS_CHUNK)) await boss.insert(chunk.map((i) => ({ name: QUEUE, data: { i } })));
      }
    })();
    let submitError: unknown = null;
    submitting.catch((err) => { submitError = err; });

    const deadline = start + (opts.timeoutMs ?? 600000);
    let last = NaN;
    for (;;) {
      await sleep(100);
      if (submitError) throw submitError;
      assertWorkersHealthy(workers);
      const { rows } = await watcher.query<{ completed: string; failed: string; last: Date | null }>(
        `SELECT count(*) FILTER (WHERE state = 'completed') AS completed, count(*) FILTER (WHERE state = 'failed') AS failed,
                max(completed_on) AS last
           FROM pgboss.job WHERE name = $1`, [QUEUE]);
      const r = rows[0]!;
      if (Number(r.failed) > 0) throw new Error(`${r.failed} pg-boss jobs failed`);
      if (Number(r.completed) >= opts.jobs) {
        last = r.last!.getTime();
        break;
      }
      if (Date.now() > deadline) throw new Error(`pg-boss: ${r.completed} of ${opts.jobs} jobs completed within ${opts.timeoutMs ?? 600000} ms`);
    }
    await submitting;
    const seconds = (last - start) / 1000;
    const perProcess = layout.map((l) => `${l.workers} work() × batchSize ${l.batchSize}`).join(' + ');
    return {
      peer: 'pg-boss', version: VERSION, mode: opts.mode, jobs: opts.jobs, concurrency: opts.concurrency, seconds,
      jobsPerSecond: opts.jobs / seconds,
      settings: `${layout.length} worker processes (${perProcess}), pollingIntervalSeconds ${POLLING_INTERVAL_SECONDS} (the minimum; no LISTEN/NOTIFY in pg-boss 10), `
        + (opts.mode === 'single' ? `send() per job, ${PG_BOSS_IN_FLIGHT} in flight` : `insert() of ${PG_BOSS_CHUNK} jobs per call`),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await watcher.end().catch(() => undefined);
    await boss.stop({ graceful: false }).catch(() => undefined);
  }
}
