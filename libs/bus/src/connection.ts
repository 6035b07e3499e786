import { connect, errors, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { OutageError, StartupError } from '@tangerine/contracts';
import type { Logger } from '@tangerine/runtime';
import { accessOptions, describeIdentity, type NatsAccess } from './access.js';
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
export async function connectBus(opts: {
  url: string; name: string; log: Logger; provision?: boolean; limits?: StreamLimits;
  /** Credentials, TLS and the inbox prefix (none of them by default). */
  access?: NatsAccess;
}): Promise<Bus> {
  const access = opts.access ?? NO_ACCESS;
  const identity = describeIdentity(access);
  const nc = await firstConnection(opts.url, identity, opts.log, {
    servers: opts.url.split(','),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    timeout: 20000,
    // Each request would otherwise capture a stack trace up front: measurable at thousands of publishes a second.
    noAsyncTraces: true,
    ...accessOptions(access),
  });
  // Once connected, a refusal (a server whose users are being reloaded) is tried again like any lost connection, and
  // said once a minute: nats.js reads this option at each refusal (by default two in a row close the connection).
  (nc as unknown as { options: { ignoreAuthErrorAbort: boolean } }).options.ignoreAuthErrorAbort = true;
  let since: number | null = Date.now();
  let refusedAt = Number.NEGATIVE_INFINITY;
  let refusals = 0;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'staleConnection') since = null;
      else if (s.type === 'reconnect') since = Date.now();
      if (s.type === 'disconnect' || s.type === 'reconnect') opts.log.warn({ status: s.type }, 'NATS connection');
      if (s.type === 'reconnect') refusals = 0;
      if (s.type === 'error' && isAuthError(s.error)) {
        refusals += 1;
        const now = Date.now();
        if (now - refusedAt < AUTH_LOG_EVERY_MS) continue;
        refusedAt = now;
        opts.log.error({ server: opts.url, identity, refusals }, `NATS refused ${identity}: ${s.error.message} (trying again; said once a minute)`);
      }
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
  const publisher = new JetStreamPublisher(nc, undefined, access.inboxPrefix);
  return {
    nc, js, jsm, publisher, log: opts.log,
    connectedSince: () => (nc.isClosed() ? null : since),
    async close() {
      publisher.close();
      await nc.drain().catch(() => nc.close());
    },
  };
}

const NO_ACCESS: NatsAccess = { auth: null, tls: null, inboxPrefix: '_INBOX' };
/** A server refusing the credentials at each reconnect would otherwise log four times a second. */
const AUTH_LOG_EVERY_MS = 60_000;

/**
 * Connects, trying again every 250 ms while NATS does not answer (a process may start before its server). Refused
 * credentials and a certificate that does not verify stop at the first try: they would fail the same way forever
 * (nats.js's own `waitOnFirstConnect` tries them again without end, and silently).
 */
async function firstConnection(url: string, identity: string, log: Logger, options: ConnectionOptions): Promise<NatsConnection> {
  let saidAt = Number.NEGATIVE_INFINITY;
  for (;;) {
    try {
      return await connect(options);
    } catch (cause) {
      const err = connectError(url, identity, cause);
      if (!(err instanceof OutageError)) throw err;
      if (Date.now() - saidAt >= AUTH_LOG_EVERY_MS) {
        saidAt = Date.now();
        log.warn({ server: url, err: cause }, `NATS at ${url} does not answer yet; trying again every 250 ms (said once a minute)`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Node's codes for a certificate that does not verify, or a TLS connection that fails. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|HOSTNAME_MISMATCH$)/;

function isAuthError(err: unknown): err is Error {
  return err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError;
}

/**
 * Why a first connection failed: refused credentials or a certificate that does not verify are a startup error naming
 * the server and the identity (never the secret), since trying again would not help; anything else an outage.
 */
function connectError(url: string, identity: string, cause: unknown): Error {
  const chain = causes(cause);
  const auth = chain.find(isAuthError);
  if (auth) return new StartupError('bus_auth_failed', `NATS at ${url} refused ${identity}: ${auth.message}`, { cause: auth });
  const tls = chain.find((e) => TLS_CODE.test(String((e as { code?: unknown }).code ?? '')));
  if (tls) return new StartupError('bus_auth_failed', `NATS at ${url}: the TLS connection failed (${tls.message}), as ${identity}`, { cause: tls });
  return new OutageError('bus_unavailable', `cannot reach NATS at ${url}`, { cause });
}

function causes(err: unknown): Error[] {
  const out: Error[] = [];
  for (let e = err; e instanceof Error && out.length < 8; e = e.cause) out.push(e);
  return out;
}
