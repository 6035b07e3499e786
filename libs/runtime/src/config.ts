import { Limits } from '@tangerine/contracts';
import { secretsKeySetting } from './secrets-key.js';
import { Parse, RuleError, conflict, defineConfig, setting, type ConfigOf, type Conflict, type Setting } from './settings.js';

/** NATS's default max_payload: a stream smaller than one message would refuse it forever. */
const MIN_STREAM_BYTES = 1024 * 1024;

/**
 * Every setting read by more than one service (or by the process around them), declared once: its variable, its
 * rule, its default. A service's own settings sit in its src/config.ts. The README's Configuration table lists them
 * all (a test checks it).
 */
export const Settings = {
  natsUrl: setting('NATS_URL', Parse.urls(['nats:', 'tls:', 'ws:', 'wss:'], { bareHost: true }), { fallback: 'nats://127.0.0.1:4222' }),
  // How a process proves who it is to NATS: at most one of an nkey, a user and password, a token, a creds file.
  /** An nkey user seed (NATS_NKEY_FILE: a seed file, as `nats --nkey` takes). */
  natsNkey: setting<string | null>('NATS_NKEY', Parse.nkeySeed(), { fallback: null, secret: true }),
  natsUser: setting<string | null>('NATS_USER', Parse.text(), { fallback: null }),
  natsPassword: setting<string | null>('NATS_PASSWORD', Parse.text(), { fallback: null, secret: true }),
  natsToken: setting<string | null>('NATS_TOKEN', Parse.text(), { fallback: null, secret: true }),
  /** The path of a .creds file (user JWT + seed), read again at each connection. */
  natsCreds: setting<string | null>('NATS_CREDS', Parse.credsFile(), { fallback: null }),
  /** TLS to NATS: the CA that signed the server's certificate (alone: verify the server)... */
  natsTlsCa: setting<string | null>('NATS_TLS_CA', Parse.readableFile(), { fallback: null }),
  /** ...and a client certificate with its key, for a server that verifies its clients. */
  natsTlsCert: setting<string | null>('NATS_TLS_CERT', Parse.readableFile(), { fallback: null }),
  natsTlsKey: setting<string | null>('NATS_TLS_KEY', Parse.readableFile(), { fallback: null }),
  /** Where this process's replies come: each identity its own, so that no one reads another's replies. */
  natsInboxPrefix: setting('NATS_INBOX_PREFIX', Parse.subjectPrefix(), { fallback: '_INBOX' }),
  /** A connection string, or null to let `pg` read the standard PG* variables. It may hold a password: a secret. */
  databaseUrl: setting<string | null>('DATABASE_URL', Parse.urls(['postgres:', 'postgresql:', 'socket:']), { fallback: null, secret: true }),
  /** The ledger's password when DATABASE_URL gives none (PGPASSWORD_FILE: from a file). */
  pgPassword: setting<string | null>('PGPASSWORD', Parse.text(), { fallback: null, secret: true }),
  /** Tangerine's older name for PGPASSWORD, taken when PGPASSWORD is unset. */
  pgPass: setting<string | null>('PGPASS', Parse.text(), { fallback: null, secret: true }),
  /** TLS to PostgreSQL, with libpq's names and meanings; unset: no TLS. */
  pgSslMode: setting<PgSslMode | null>('PGSSLMODE', parseSslMode, { fallback: null }),
  pgSslRootCert: setting<string | null>('PGSSLROOTCERT', Parse.readableFile(), { fallback: null }),
  pgSslCert: setting<string | null>('PGSSLCERT', Parse.readableFile(), { fallback: null }),
  pgSslKey: setting<string | null>('PGSSLKEY', Parse.readableFile(), { fallback: null }),
  logLevel: setting('LOG_LEVEL', Parse.choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), { fallback: 'info' }),
  logPretty: setting('LOG_FORMAT', (text) => Parse.choice(['json', 'pretty'])(text) === 'pretty', { fallback: false }),
  /** Port of the health and metrics endpoint; null turns it off. */
  healthPort: setting<number | null>('HEALTH_PORT', Parse.integer(0, 65535), { fallback: null }),
  /** How long a stopped run gets between SIGTERM and SIGKILL; the process's forced exit follows from it. */
  stopGraceMs: setting('STOP_GRACE', Parse.seconds(), { fallback: 10000 }),
  /** A ledger statement running longer than this is cancelled (and its message tried again); 0 turns it off. */
  statementTimeoutMs: setting('STATEMENT_TIMEOUT', Parse.secondsOrOff(), { fallback: 30_000, emptyIsUnset: false }),
  /**
   * The size limit of each work-queue stream (commands, dispatch, reports), or null when STREAM_MAX_BYTES is unset:
   * a new stream, or one without a limit, gets the default, and a limit set on an existing stream is left alone.
   */
  streamMaxBytes: setting<number | null>('STREAM_MAX_BYTES', Parse.bytes(MIN_STREAM_BYTES), { fallback: null }),
  /** The same for the events stream (EVENTS_MAX_BYTES). */
  eventsMaxBytes: setting<number | null>('EVENTS_MAX_BYTES', Parse.bytes(MIN_STREAM_BYTES), { fallback: null }),
  /** The same for the object store of the files uploaded with tasks (FILES_STORE_MAX_BYTES). */
  filesStoreMaxBytes: setting<number | null>('FILES_STORE_MAX_BYTES', Parse.bytes(MIN_STREAM_BYTES), { fallback: null }),
  /** Bytes of one file uploaded with a task (intake, the agent; the client takes the same default). */
  filesMaxBytes: setting('FILES_MAX_BYTES', Parse.bytes(0), { fallback: Limits.fileBytes }),
  /** Bytes of all the files of one task. */
  filesMaxTotal: setting('FILES_MAX_TOTAL', Parse.bytes(0), { fallback: Limits.filesTotalBytes }),
  heartbeatMs: setting('HEARTBEAT_INTERVAL', Parse.seconds(), { fallback: 2000 }),
  hostTimeoutMs: setting('HOST_TIMEOUT', Parse.seconds(), { fallback: 10000 }),
  /** A host down this long is removed from the ledger (and an agent's own consumer outlives it). */
  hostRemoveAfterMs: setting('HOST_REMOVE_AFTER', Parse.seconds(), { fallback: 600_000 }),
  /** Messages taken from a consumer at once. */
  batchSize: setting('BATCH_SIZE', Parse.integer(1, 10000), { fallback: 500 }),
  /** How long a consumer's message may stay unacknowledged before JetStream delivers it again. */
  ackWaitMs: setting('ACK_WAIT', Parse.seconds(), { fallback: 30000 }),
  /** How often a service sweeps the ledger for work a lost message left behind. */
  sweepMs: setting('SWEEP_INTERVAL', Parse.seconds(), { fallback: 5000 }),
  /** The key of the secret env values in the ledger (SECRETS_KEY or SECRETS_KEY_FILE): intake seals, the placer opens. */
  secretsKey: secretsKeySetting,
} as const;

/** libpq's `sslmode` values that node-postgres can honour. */
/** How a process reaches NATS: its URL, its credentials, TLS, its inbox prefix (every service, the agent, the CLI). */
export const NatsSettings = {
  natsUrl: Settings.natsUrl,
  natsNkey: Settings.natsNkey,
  natsUser: Settings.natsUser,
  natsPassword: Settings.natsPassword,
  natsToken: Settings.natsToken,
  natsCreds: Settings.natsCreds,
  natsTlsCa: Settings.natsTlsCa,
  natsTlsCert: Settings.natsTlsCert,
  natsTlsKey: Settings.natsTlsKey,
  natsInboxPrefix: Settings.natsInboxPrefix,
};

export const PG_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type PgSslMode = (typeof PG_SSL_MODES)[number];

function parseSslMode(text: string): PgSslMode {
  // libpq's prefer (its default) and allow fall back to a plain connection when TLS fails: node-postgres cannot, and
  // a silent plain connection is what the setting is there to prevent.
  if (text === 'prefer' || text === 'allow') {
    throw new RuleError(`must be one of ${PG_SSL_MODES.join(', ')} (got "${text}": a fallback to a plain connection is not offered; unset it for no TLS)`);
  }
  return Parse.choice(PG_SSL_MODES)(text);
}

/** Two settings that are each one way to authenticate to NATS: only one may be given. */
function oneWayToAuthenticate<A, B>(a: Setting<A | null>, b: Setting<B | null>): Conflict {
  return conflict(a, b, (x, y) => x === null || y === null,
    (_x, _y, [na, nb]) => `${na} and ${nb} are two ways to authenticate to NATS: give one`);
}

/** Two settings that mean something only together (a user and its password, a certificate and its key). */
function together<A, B>(a: Setting<A | null>, b: Setting<B | null>, what: string): Conflict {
  return conflict(a, b, (x, y) => (x === null) === (y === null),
    (x, _y, [na, nb]) => `${what}: ${x === null ? nb : na} is set without ${x === null ? na : nb}`);
}

/** A PostgreSQL TLS file is used only with a PGSSLMODE that asks for TLS. */
function needsSslMode(file: Setting<string | null>): Conflict {
  return conflict(Settings.pgSslMode, file, (mode, path) => path === null || (mode !== null && mode !== 'disable'),
    (mode, _path, [nm, nf]) => `${nf} is set but ${nm} is ${mode ?? 'unset'}: set ${nm} to require, verify-ca or verify-full`);
}

/** TLS given in DATABASE_URL (`?sslmode=`…) is read by node-postgres itself: given there and in PGSSL* would be twice. */
function sslOnce(file: Setting<unknown>): Conflict {
  return conflict(Settings.databaseUrl, file, (url, value) => value === null || url === null || !/[?&]ssl(mode|rootcert|cert|key)?=/.test(url),
    (_url, _value, [nu, nv]) => `${nu} sets TLS in its query and ${nv} is set too: give TLS in one place`);
}

/** The rules between two settings, each checked in every config that holds both. */
export const Conflicts = [
  oneWayToAuthenticate(Settings.natsNkey, Settings.natsUser),
  oneWayToAuthenticate(Settings.natsNkey, Settings.natsToken),
  oneWayToAuthenticate(Settings.natsNkey, Settings.natsCreds),
  oneWayToAuthenticate(Settings.natsUser, Settings.natsToken),
  oneWayToAuthenticate(Settings.natsUser, Settings.natsCreds),
  oneWayToAuthenticate(Settings.natsToken, Settings.natsCreds),
  together(Settings.natsUser, Settings.natsPassword, 'a NATS user needs its password'),
  together(Settings.natsTlsCert, Settings.natsTlsKey, 'a client certificate needs its key'),
  together(Settings.pgSslCert, Settings.pgSslKey, 'a client certificate needs its key'),
  needsSslMode(Settings.pgSslRootCert),
  needsSslMode(Settings.pgSslCert),
  sslOnce(Settings.pgSslMode),
  sslOnce(Settings.pgSslRootCert),
  sslOnce(Settings.pgSslCert),
  // A host is down when not heard from for HOST_TIMEOUT: at or below one heartbeat, every live host goes down
  // between two of its own announcements.
  conflict(Settings.hostTimeoutMs, Settings.heartbeatMs, (timeout, beat) => timeout > beat,
    (timeout, beat) => `HOST_TIMEOUT (${timeout / 1000} s) must be longer than HEARTBEAT_INTERVAL (${beat / 1000} s), or every host goes down between two heartbeats`),
] as const;

/** What the process runner itself reads: logs, the health endpoint, the stop deadline. */
export const runtimeConfig = defineConfig({
  logLevel: Settings.logLevel,
  logPretty: Settings.logPretty,
  healthPort: Settings.healthPort,
  stopGraceMs: Settings.stopGraceMs,
});
export type RuntimeConfig = ConfigOf<typeof runtimeConfig>;

/** `zone=a,gpu` → `{zone: "a", gpu: "true"}`; a bare `gpu` means `gpu=true`. Throws naming HOST_LABELS. */
export function parseLabels(text: string): Readonly<Record<string, string>> {
  return setting('HOST_LABELS', Parse.labels(), { fallback: {} }).read({ HOST_LABELS: text });
}
