import {
  connectBus, consumeBatches, eventMessage, natsAccess, publishAll, waitForStreams, type BatchConsumerOptions, type Bus,
  type Outgoing, type StreamLimits,
} from '@tangerine/bus';
import { Streams, type TaskEvent } from '@tangerine/contracts';
import { migrate, openLedger, type Ledger, type LedgerOptions } from '@tangerine/ledger';
import { Conflicts, NatsSettings, Settings, defineConfig, type BaseContext, type ConfigOf, type PgSslMode, type Stop } from '@tangerine/runtime';
import { PublishedMarks } from './published.js';

export { PublishedMarks } from './published.js';
export { listenToAnnouncements, readAnnouncement } from './announcements.js';
export type { Announcement } from './announcements.js';
export { respond, fitPage, pageSize, replyBudget } from './respond.js';


/** What an agent's process reads to connect: NATS (it provisions no stream). */
export const agentConnection = defineConfig({ ...NatsSettings }, Conflicts);
export type AgentConnection = ConfigOf<typeof agentConnection>;

/** What a service's process reads to connect: NATS and its streams, and the ledger (its URL or password, its TLS). */
export const serviceConnection = defineConfig({
  ...NatsSettings,
  streamMaxBytes: Settings.streamMaxBytes,
  eventsMaxBytes: Settings.eventsMaxBytes,
  filesStoreMaxBytes: Settings.filesStoreMaxBytes,
  databaseUrl: Settings.databaseUrl,
  pgPassword: Settings.pgPassword,
  pgPass: Settings.pgPass,
  pgSslMode: Settings.pgSslMode,
  pgSslRootCert: Settings.pgSslRootCert,
  pgSslCert: Settings.pgSslCert,
  pgSslKey: Settings.pgSslKey,
  statementTimeoutMs: Settings.statementTimeoutMs,
}, Conflicts);
export type ServiceConnection = ConfigOf<typeof serviceConnection>;

/** The ledger settings `ledgerOptions` reads. */
export interface LedgerSettings {
  readonly databaseUrl: string | null;
  readonly pgPassword: string | null;
  readonly pgPass: string | null;
  readonly pgSslMode: PgSslMode | null;
  readonly pgSslRootCert: string | null;
  readonly pgSslCert: string | null;
  readonly pgSslKey: string | null;
  readonly statementTimeoutMs: number;
}

/** The compiled settings → how every ledger connection of the process is opened. */
export function ledgerOptions(c: LedgerSettings, application: string): LedgerOptions {
  return {
    databaseUrl: c.databaseUrl,
    password: c.pgPassword ?? c.pgPass,
    ssl: { mode: c.pgSslMode, rootCert: c.pgSslRootCert, cert: c.pgSslCert, key: c.pgSslKey },
    application,
    statementTimeoutMs: c.statementTimeoutMs,
  };
}

/** What a service that uses both the bus and the ledger receives; `C` is its own config once it starts. */
export interface ServiceContext<C = ServiceConnection> extends BaseContext<C> {
  readonly bus: Bus;
  readonly ledger: Ledger;
  /** Note every task event published here, so that the relay republishes only what truly went missing. */
  readonly published: PublishedMarks;
}

/** What an agent receives: agents talk only to NATS, never to the ledger. */
export interface AgentContext<C = AgentConnection> extends BaseContext<C> {
  readonly bus: Bus;
}

/** Opens NATS (provisioning the streams; credentials, TLS and inbox prefix from the settings) and PostgreSQL (applying migrations). */
export async function connectServices(base: BaseContext<ServiceConnection>, name: string): Promise<{ ctx: ServiceContext; close: Stop }> {
  const bus = await connectBus({ url: base.config.natsUrl, name, log: base.log, limits: streamLimits(base), access: natsAccess(base.config) });
  const ledger = openLedger({ ...ledgerOptions(base.config, name), log: base.log });
  try {
    await migrate(ledger, base.log);
  } catch (err) {
    await bus.close();
    await ledger.close();
    throw err;
  }
  base.health['nats'] = () => !bus.nc.isClosed();
  base.metrics.gauge('ledger_statements', () => ledger.statements());
  const published = new PublishedMarks(ledger, base.log);
  return {
    ctx: { ...base, bus, ledger, published },
    close: async () => {
      await published.close();
      await bus.close();
      await ledger.close();
    },
  };
}

/**
 * An agent does not provision the streams (its identity has no stream API: an agent runs on hosts a task can reach);
 * it waits for its dispatch stream, which a service makes.
 */
export async function connectAgent(base: BaseContext<AgentConnection>, name: string): Promise<{ ctx: AgentContext; close: Stop }> {
  const bus = await connectBus({ url: base.config.natsUrl, name, log: base.log, provision: false, access: natsAccess(base.config) });
  try {
    await waitForStreams(bus.jsm, [Streams.dispatch.name], base.log);
  } catch (err) {
    await bus.close();
    throw err;
  }
  base.health['nats'] = () => !bus.nc.isClosed();
  return { ctx: { ...base, bus }, close: () => bus.close() };
}

/** The streams' size limits (STREAM_MAX_BYTES, EVENTS_MAX_BYTES): every service provisions the streams. */
function streamLimits(base: BaseContext<ServiceConnection>): StreamLimits {
  return { workQueueMaxBytes: base.config.streamMaxBytes, eventsMaxBytes: base.config.eventsMaxBytes, filesStoreMaxBytes: base.config.filesStoreMaxBytes };
}

/** Publishes task events (and any other messages of the same batch), then notes the events as published. */
export async function publishEvents(ctx: ServiceContext<unknown>, events: readonly TaskEvent[], others: readonly Outgoing[] = []): Promise<void> {
  await publishAll(ctx.bus, [...others, ...events.map(eventMessage)]);
  ctx.published.note(events);
}

/** How loud a task event's log line is. */
export type EventLevel = (event: TaskEvent) => 'info' | 'warn';

/** A task that failed for good is worth a warning; every other change is news. */
const byOutcome: EventLevel = (e) => (e.state === 'failed' ? 'warn' : 'info');

/**
 * What a service does after a commit that changed tasks: one log line per task event (task, attempt, host, state,
 * exit code, reason), then the events published with the step's other messages, and noted as published.
 */
export async function announce(
  ctx: ServiceContext<unknown>, events: readonly TaskEvent[], others: readonly Outgoing[] = [], level: EventLevel = byOutcome,
): Promise<void> {
  for (const e of events) {
    ctx.log[level(e)]({ task: e.name, attempt: e.attempt, host: e.host, state: e.state, exit_code: e.exit_code ?? undefined, reason: e.reason }, `task ${e.state}`);
  }
  await publishEvents(ctx, events, others);
}

/** What a service's consumer gives; the rest is the service's own (its bus, log, metrics, BATCH_SIZE, ACK_WAIT). */
export type ServiceConsumerOptions<T> = Omit<BatchConsumerOptions<T>, 'bus' | 'log' | 'metrics' | 'batchSize' | 'ackWaitMs'>
  & Partial<Pick<BatchConsumerOptions<T>, 'batchSize' | 'ackWaitMs'>>;

/** A durable batch consumer (consumeBatches) with the service's bus, log and metrics, BATCH_SIZE and ACK_WAIT. */
export function consumeService<T>(ctx: ServiceContext<{ readonly batchSize: number; readonly ackWaitMs: number }>, opts: ServiceConsumerOptions<T>): Promise<Stop> {
  return consumeBatches<T>({
    bus: ctx.bus, log: ctx.log, metrics: ctx.metrics, batchSize: ctx.config.batchSize, ackWaitMs: ctx.config.ackWaitMs, ...opts,
  });
}
