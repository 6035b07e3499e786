// One pg-boss worker process (forked by pg-boss.ts): `workers` polling workers on the queue, each fetching up to
// `batchSize` jobs per poll and running the whole batch at once (spawn `true` per job).
import PgBoss from 'pg-boss';
import { runTrue, workerSide } from './common.js';

export interface PgBossWorkerConfig {
  databaseUrl: string;
  queue: string;
  workers: number;
  batchSize: number;
  pollingIntervalSeconds: number;
  poolMax: number;
}

let boss: PgBoss | null = null;
const { config, send } = workerSide<PgBossWorkerConfig>(async () => {
  await boss?.stop({ graceful: true, timeout: 5000 });
});

// The producer's instance has migrated the schema and supervises (maintenance); a worker instance only works.
boss = new PgBoss({ connectionString: config.databaseUrl, max: config.poolMax, migrate: false, supervise: false, schedule: false });
boss.on('error', (err) => process.stderr.write(`[pg-boss worker] ${err.message}\n`));
await boss.start();
for (let i = 0; i < config.workers; i++) {
  await boss.work(config.queue, { batchSize: config.batchSize, pollingIntervalSeconds: config.pollingIntervalSeconds }, async (jobs) => {
    await Promise.all(jobs.map((job) => runTrue().catch((err: Error) => {
      send({ type: 'failed', message: `job ${job.id}: ${err.message}` });
      throw err;
    })));
  });
}
send({ type: 'ready' });
