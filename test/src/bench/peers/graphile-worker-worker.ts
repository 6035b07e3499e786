// One graphile-worker process (forked by graphile-worker.ts): a worker pool running `concurrency` jobs at once
// (spawn `true` per job), new jobs announced by LISTEN/NOTIFY, with the batching options of its performance page.
import { run, type Runner } from 'graphile-worker';
import { runTrue, workerSide } from './common.js';
import { quietLogger } from './graphile-worker.js';

export interface GraphileWorkerConfig {
  databaseUrl: string;
  task: string;
  concurrency: number;
  maxPoolSize: number;
  localQueueSize: number;
  completeJobBatchDelay: number;
}

let runner: Runner | null = null;
const { config, send } = workerSide<GraphileWorkerConfig>(async () => {
  await runner?.stop();
});

runner = await run({
  connectionString: config.databaseUrl,
  concurrency: config.concurrency,
  maxPoolSize: config.maxPoolSize,
  noHandleSignals: true,
  logger: quietLogger,
  taskList: { [config.task]: async () => { await runTrue(); } },
  preset: {
    worker: {
      localQueue: { size: config.localQueueSize },
      completeJobBatchDelay: config.completeJobBatchDelay,
      failJobBatchDelay: config.completeJobBatchDelay,
    },
  },
});
runner.events.on('job:error', ({ job, error }) => send({ type: 'failed', message: `job ${job.id}: ${String((error as Error)?.message ?? error)}` }));
send({ type: 'ready' });
