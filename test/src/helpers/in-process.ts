import { connectServices, serviceConnection, type ServiceContext } from '@tangerine/platform';
import { Metrics, createLogger, systemClock, type Clock } from '@tangerine/runtime';
import { startNats, type NatsServer } from './nats.js';
import { createDatabase } from './postgres.js';

/** A real NATS and a database of its own, opened as a service process opens them: to run one service in-process. */
export interface InProcess {
  readonly nats: NatsServer;
  readonly db: Awaited<ReturnType<typeof createDatabase>>;
  readonly ctx: ServiceContext;
  /** Closes the connections, stops NATS and drops the database. */
  close(): Promise<void>;
}

export async function openInProcess(name: string, clock: Clock = systemClock): Promise<InProcess> {
  const nats = await startNats();
  const db = await createDatabase(name.replaceAll('-', '_'));
  const config = serviceConnection.compile({ NATS_URL: nats.url, DATABASE_URL: db.url });
  const base = { config, log: createLogger(name, { level: 'silent', pretty: false }), clock, metrics: new Metrics(), health: {} };
  const { ctx, close } = await connectServices(base, name);
  return {
    nats, db, ctx,
    close: async () => {
      await close();
      await nats.stop();
      await db.drop();
    },
  };
}
