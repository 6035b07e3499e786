// graphile-worker, measured the way Tangerine is: jobs submitted by this (producer) process, worked by separate
// worker processes (graphile-worker's standalone mode, `run()`), each job spawning `true`; from the first submit to
// the last job completion.
//
// Settings (graphile-worker 0.17.3; 0.18 needs Node 22.18), from https://worker.graphile.org/docs/performance and
// the option docs in its typings (GraphileConfig.WorkerOptions):
// - `concurrency` (concurrentJobs) = the process's share of the total concurrency; `workerProcesses` processes
//   (default 2, like Tangerine's 2 agents × 256 slots; the performance page itself runs a pool of 4 instances).
// - `localQueue.size` = concurrentJobs + 1 ("a good starting point is often concurrentJobs + 1"): the pool fetches
//   and locks jobs in batches instead of one query per job.
// - `completeJobBatchDelay` = `failJobBatchDelay` = 0: completions batched per tick, as on the performance page.
// - `maxPoolSize` 25, as on the performance page (24 jobs, pool 25). The typings suggest concurrentJobs + 2 "if in
//   doubt", but with the local queue and batched completion a job holds no connection (the task here never touches
//   the database), and 2 × 258 connections would not fit the server's max_connections.
// - New jobs reach the workers by LISTEN/NOTIFY (always on); `pollInterval` (for future-dated jobs only) default.
// - `single`: `WorkerUtils.addJob()` per job, at most 50 unsettled at once (WorkerUtils' pool: default, 10);
//   `batch`: `WorkerUtils.addJobs()` (one `graphile_worker.add_jobs` call) of 1,000 jobs, one call at a time.
// Completion: graphile-worker deletes a job's row when it completes; nothing records when. This process polls the
// job table every 50 ms and the run ends when it is first seen empty (so up to ~50 ms late).
import { createRequire } from 'node:module';
import { Logger, makeWorkerUtils, runMigrations } from 'graphile-worker';
import pg from 'pg';
import { WorkerProcess, assertWorkersHealthy, bounded, chunks, sleep, split } from './common.js';
import type { GraphileWorkerConfig } from './graphile-worker-worker.js';
import type { QueueRun, QueueRunOptions } from './types.js';

const VERSION = (createRequire(import.meta.url)('graphile-worker/package.json') as { version: string }).version;
const TASK = 'bench';
export const GRAPHILE_IN_FLIGHT = 50;
export const GRAPHILE_CHUNK = 1000;
const MAX_POOL_SIZE = 25;
const POLL_MS = 50;

/** Errors only: graphile-worker warns that a pool smaller than the concurrency "may lead to non-optimal performance". */
export const quietLogger = new Logger(() => (level, message) => {
  if (String(level) === 'error') process.stderr.write(`[graphile-worker] ${message}\n`);
});

export async function runGraphileWorker(opts: QueueRunOptions): Promise<QueueRun> {
  const shares = split(opts.concurrency, opts.workerProcesses ?? 2);
  // Our own pool, ended and awaited before the database is dropped: graphile-worker's release of a pool it made
  // removes the pool's error handlers and does not wait for `end()`, so a drop right after it killed connections
  // that no longer had a handler (an uncaught 57P01 in the report's test).
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
  const onError = (err: Error) => process.stderr.write(`[graphile-worker producer] ${err.message}\n`);
  pool.on('error', onError);
  pool.on('connect', (client) => client.on('error', onError));
  const watcher = new pg.Client({ connectionString: opts.databaseUrl });
  watcher.on('error', onError);
  const workers: WorkerProcess[] = [];
  let utils: Awaited<ReturnType<typeof makeWorkerUtils>> | null = null;
  try {
    await runMigrations({ pgPool: pool, logger: quietLogger });
    utils = await makeWorkerUtils({ pgPool: pool, logger: quietLogger });
    const u = utils;
    await watcher.connect();
    for (const concurrency of shares) {
      const config: GraphileWorkerConfig = {
        databaseUrl: opts.databaseUrl, task: TASK, concurrency, maxPoolSize: MAX_POOL_SIZE,
        localQueueSize: concurrency + 1, completeJobBatchDelay: 0,
      };
      workers.push(new WorkerProcess('./graphile-worker-worker.js', config));
    }
    await Promise.all(workers.map((w) => w.ready));

    const start = Date.now();
    let submitted = false;
    const submitting = (async () => {
      if (opts.mode === 'single') {
        await bounded(opts.jobs, GRAPHILE_IN_FLIGHT, (i) => u.addJob(TASK, { i }));
      } else {
        for (const chunk of chunks(opts.jobs, GRAPHILE_CHUNK)) await u.addJobs(chunk.map((i) => ({ identifier: TASK, payload: { i } })));
      }
      submitted = true;
    })();
    let submitError: unknown = null;
    submitting.catch((err) => { submitError = err; });

    const timeoutMs = opts.timeoutMs ?? 600000;
    let end = NaN;
    for (;;) {
      await sleep(POLL_MS);
      if (submitError) throw submitError;
      assertWorkersHealthy(workers);
      // Read `submitted` before the query: an empty table counts only once every job was in it.
      const allIn = submitted;
      const { rows } = await watcher.query<{ left: string }>('SELECT count(*) AS left FROM graphile_worker._private_jobs');
      if (allIn && Number(rows[0]!.left) === 0) {
        end = Date.now();
        break;
      }
      if (Date.now() - start > timeoutMs) throw new Error(`graphile-worker: ${rows[0]!.left} jobs left after ${timeoutMs} ms`);
    }
    await submitting;
    const seconds = (end - start) / 1000;
    return {
      peer: 'graphile-worker', version: VERSION, mode: opts.mode, jobs: opts.jobs, concurrency: opts.concurrency, seconds,
      jobsPerSecond: opts.jobs / seconds,
      settings: `${shares.length} worker processes (concurrency ${shares.join(' + ')}), localQueue.size concurrency+1, `
        + `completeJobBatchDelay 0, maxPoolSize ${MAX_POOL_SIZE}, LISTEN/NOTIFY, `
        + (opts.mode === 'single' ? `addJob() per job, ${GRAPHILE_IN_FLIGHT} in flight` : `addJobs() of ${GRAPHILE_CHUNK} jobs per call`),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await watcher.end().catch(() => undefined);
    await Promise.resolve(utils?.release()).catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}
