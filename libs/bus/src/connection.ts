import { readFileSync } from 'node:fs';
import { connect, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { OutageError } from '@tangerine/contracts';
import type { Logger } from '@tangerine/runtime';
import { JetStreamPublisher } from './publisher.js';
import { migrateBus } from './migrations.js';
import { ensureStreams, type StreamLimits } from './streams.js';

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** JetStream publishes with a dedupe id, cheaper than `js.publish`; `publishAll` goes through it. */
  readonly publisher: JetStreamPublisher;
  readonly log: Logger;
  /**
   * When the connection was last opened or reopened (ms since the epoch), or null while it is down: whether this
   * process hears the bus, and since when (host-health takes no silence for evidence while it did not).
   */
  connectedSince(): number | null;
  close(): Promise<void>;
}

/**
 * Connects to NATS (retrying until it answers), makes sure Tangerine's streams exist with these limits, and applies
 * the bus migrations not applied yet.
 */
export async function connectBus(opts: { url: string; name: string; log: Logger; provision?: boolean; limits?: StreamLimits }): Promise<Bus> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: opts.url.split(','),
      name: opts.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      timeout: 20000,
      // Each request would otherwise capture a stack trace up front: measurable at thousands of publishes a second.
      noAsyncTraces: true,
      ...tempAuth(),
    });
  } catch (cause) {
    throw new OutageError('bus_unavailable', `cannot reach NATS at ${opts.url}`, { cause });
  }
  let since: number | null = Date.now();
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'staleConnection') since = null;
      else if (s.type === 'reconnect') since = Date.now();
      if (s.type === 'disconnect' || s.type === 'reconnect') opts.log.warn({ status: s.type }, 'NATS connection');
    }
  })();
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  if (opts.provision !== false) {
    for (const c of await ensureStreams(jsm, opts.limits)) {
      if (c.created || c.changed.length > 0) opts.log.info({ stream: c.stream, created: c.created, changed: c.changed }, 'stream provisioned');
      for (const note of c.notes) opts.log.warn({ stream: c.stream }, `stream not as configured: ${note}`);
    }
    // After the streams: a migration finds them as declared.
    await migrateBus({ js, jsm, log: opts.log, name: opts.name });
  }
  const publisher = new JetStreamPublisher(nc, undefined, process.env['NATS_INBOX_PREFIX']); // MERGE
  return {
    nc, js, jsm, publisher, log: opts.log,
    connectedSince: () => (nc.isClosed() ? null : since),
    async close() {
      publisher.close();
      await nc.drain().catch(() => nc.close());
    },
  };
}

/** MERGE: lane conn's settings replace this. */
function tempAuth(): Partial<ConnectionOptions> {
  const file = process.env['NATS_NKEY_FILE'];
  const prefix = process.env['NATS_INBOX_PREFIX'];
  return {
    ...(file ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(readFileSync(file, 'utf8').trim())) } : {}),
    ...(prefix ? { inboxPrefix: prefix } : {}),
  };
}
