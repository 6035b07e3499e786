import { secretsKeySetting } from './secrets-key.js';
import { Parse, conflict, defineConfig, setting, type ConfigOf } from './settings.js';

/** NATS's default max_payload: a stream smaller than one message would refuse it forever. */
const MIN_STREAM_BYTES = 1024 * 1024;

/**
 * Every setting read by more than one service (or by the process around them), declared once: its variable, its
 * rule, its default. A service's own settings sit in its src/config.ts. The README's Configuration table lists them
 * all (a test checks it).
 */
export const Settings = {
  natsUrl: setting('NATS_URL', Parse.urls(['nats:', 'tls:', 'ws:', 'wss:'], { bareHost: true }), { fallback: 'nats://127.0.0.1:4222' }),
  /** A connection string, or null to let `pg` read the standard PG* variables. */
  databaseUrl: setting<string | null>('DATABASE_URL', Parse.urls(['postgres:', 'postgresql:', 'socket:']), { fallback: null }),
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

/** The rules between two settings, each checked in every config that holds both. */
export const Conflicts = [
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
