import os from 'node:os';
import { StartupError } from '@tangerine/contracts';

/** Every setting, compiled once from the environment at start into a read-only object. */
export interface Config {
  readonly natsUrl: string;
  /** A connection string, or null to let `pg` read the standard PG* variables. */
  readonly databaseUrl: string | null;
  readonly dockerHost: string | null;
  readonly logLevel: string;
  readonly logPretty: boolean;
  /** Port of the health and metrics endpoint; null turns it off. */
  readonly healthPort: number | null;
  readonly hostId: string;
  readonly hostLabels: Readonly<Record<string, string>>;
  readonly hostSlots: number;
  readonly executors: readonly string[];
  readonly heartbeatMs: number;
  readonly hostTimeoutMs: number;
  /** How often a service sweeps the ledger for work a lost message left behind. */
  readonly sweepMs: number;
  /** Messages taken from a consumer at once. */
  readonly batchSize: number;
  /** How long a consumer's message may stay unacknowledged before JetStream delivers it again. */
  readonly ackWaitMs: number;
  /** A run that ends within this time is reported once, start and end together: half the messages for short runs. */
  readonly startReportDelayMs: number;
  /** How long a stopped run gets between SIGTERM and SIGKILL. */
  readonly stopGraceMs: number;
  /** The zone of a cron task that names none: `TZ`, else UTC. */
  readonly defaultTimezone: string;
  /** How often the cron service looks for fire times that have come. */
  readonly cronTickMs: number;
  /** A host down this long is removed from the ledger. */
  readonly hostRemoveAfterMs: number;
  /** The share of hosts silent at once that host-health takes for a network fault, not lost hosts (0 < x <= 1). */
  readonly hostSilenceShare: number;
  /** How long host-health holds, at most, when it suspects the network. */
  readonly hostSilenceHoldMs: number;
  /** A ledger statement running longer than this is cancelled (and its message tried again); 0 turns it off. */
  readonly statementTimeoutMs: number;
  /** Runs kept per task, its current attempt among them (RUNS_KEEP). */
  readonly runsKeep: number;
  /** A task finished longer ago than this keeps only its latest run (HISTORY_RETENTION). */
  readonly historyRetentionMs: number;
  /** Fire records kept per task, the newest (FIRES_KEEP). */
  readonly firesKeep: number;
  /** How often host-health prunes runs and fire records; 0 turns pruning off (PRUNE_INTERVAL). */
  readonly pruneIntervalMs: number;
  /**
   * The size limit of each work-queue stream (commands, dispatch, reports), or null when STREAM_MAX_BYTES is unset:
   * a new stream, or one without a limit, gets the default, and a limit set on an existing stream is left alone.
   */
  readonly streamMaxBytes: number | null;
  /** The same for the events stream (EVENTS_MAX_BYTES). */
  readonly eventsMaxBytes: number | null;
}

type Env = Record<string, string | undefined>;

/** NATS's default max_payload: a stream smaller than one message would refuse it forever. */
const MIN_STREAM_BYTES = 1024 * 1024;
/** 100 years: longer than any ledger lives, and the cutoff (now minus it) always a valid timestamp. */
const MAX_RETENTION_S = 100 * 365 * 86400;

export function loadConfig(env: Env = process.env): Config {
  const hostId = env['HOST_ID'] ?? os.hostname().replace(/[^A-Za-z0-9_-]/g, '-');
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(hostId)) {
    throw configError('HOST_ID', `must match [A-Za-z0-9][A-Za-z0-9_-]{0,99} (got "${hostId}")`);
  }
  return Object.freeze({
    natsUrl: env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    databaseUrl: env['DATABASE_URL'] || null,
    dockerHost: env['DOCKER_HOST'] ?? null,
    logLevel: env['LOG_LEVEL'] ?? 'info',
    logPretty: env['LOG_FORMAT'] === 'pretty',
    healthPort: env['HEALTH_PORT'] ? int(env, 'HEALTH_PORT', 0, 65535) : null,
    hostId,
    hostLabels: Object.freeze(parseLabels(env['HOST_LABELS'] ?? '')),
    hostSlots: env['HOST_SLOTS'] ? int(env, 'HOST_SLOTS', 0, 100000) : Math.max(2, os.cpus().length),
    executors: Object.freeze((env['AGENT_EXECUTORS'] ?? 'docker,process').split(',').map((s) => s.trim()).filter(Boolean)),
    heartbeatMs: env['HEARTBEAT_INTERVAL'] ? seconds(env, 'HEARTBEAT_INTERVAL') : 2000,
    hostTimeoutMs: env['HOST_TIMEOUT'] ? seconds(env, 'HOST_TIMEOUT') : 10000,
    sweepMs: env['SWEEP_INTERVAL'] ? seconds(env, 'SWEEP_INTERVAL') : 5000,
    batchSize: env['BATCH_SIZE'] ? int(env, 'BATCH_SIZE', 1, 10000) : 500,
    ackWaitMs: env['ACK_WAIT'] ? seconds(env, 'ACK_WAIT') : 30000,
    startReportDelayMs: env['START_REPORT_DELAY'] !== undefined ? Math.round(Number(env['START_REPORT_DELAY']) * 1000) || 0 : 50,
    stopGraceMs: env['STOP_GRACE'] ? seconds(env, 'STOP_GRACE') : 10000,
    defaultTimezone: timezone(env, 'TZ'),
    cronTickMs: env['CRON_TICK'] ? seconds(env, 'CRON_TICK') : 250,
    hostRemoveAfterMs: env['HOST_REMOVE_AFTER'] ? seconds(env, 'HOST_REMOVE_AFTER') : 600_000,
    hostSilenceShare: env['HOST_SILENCE_SHARE'] ? share(env, 'HOST_SILENCE_SHARE') : 0.55,
    hostSilenceHoldMs: env['HOST_SILENCE_HOLD'] ? seconds(env, 'HOST_SILENCE_HOLD') : 300_000,
    statementTimeoutMs: env['STATEMENT_TIMEOUT'] !== undefined ? secondsOrOff(env, 'STATEMENT_TIMEOUT') : 30_000,
    runsKeep: env['RUNS_KEEP'] ? int(env, 'RUNS_KEEP', 1, 100000) : 20,
    historyRetentionMs: env['HISTORY_RETENTION'] ? seconds(env, 'HISTORY_RETENTION', MAX_RETENTION_S) : 7 * 86400_000,
    firesKeep: env['FIRES_KEEP'] ? int(env, 'FIRES_KEEP', 1, 100000) : 100,
    pruneIntervalMs: env['PRUNE_INTERVAL'] ? secondsOrOff(env, 'PRUNE_INTERVAL') : 60_000,
    streamMaxBytes: env['STREAM_MAX_BYTES'] ? int(env, 'STREAM_MAX_BYTES', MIN_STREAM_BYTES, Number.MAX_SAFE_INTEGER) : null,
    eventsMaxBytes: env['EVENTS_MAX_BYTES'] ? int(env, 'EVENTS_MAX_BYTES', MIN_STREAM_BYTES, Number.MAX_SAFE_INTEGER) : null,
  });
}

/** `zone=a,gpu=true` → `{zone: "a", gpu: "true"}`; a bare `gpu` means `gpu=true`. */
export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (!/^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/.test(key)) {
      throw configError('HOST_LABELS', `label "${key}" must match [A-Za-z0-9][A-Za-z0-9_./-]{0,62}`);
    }
    labels[key] = eq < 0 ? 'true' : part.slice(eq + 1);
  }
  return labels;
}

function int(env: Env, key: string, min: number, max: number): number {
  const n = Number(env[key]);
  if (!Number.isInteger(n) || n < min || n > max) throw configError(key, `must be an integer from ${min} to ${max} (got "${env[key]}")`);
  return n;
}

function seconds(env: Env, key: string, max = Number.POSITIVE_INFINITY): number {
  const n = Number(env[key]);
  if (!Number.isFinite(n) || n <= 0) throw configError(key, `must be a positive number of seconds (got "${env[key]}")`);
  if (n > max) throw configError(key, `must be a number of seconds up to ${max} (got "${env[key]}")`);
  return Math.round(n * 1000);
}

function share(env: Env, key: string): number {
  const n = Number(env[key]);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw configError(key, `must be a number above 0 and at most 1 (got "${env[key]}")`);
  return n;
}

/** Seconds as for `seconds`, or exactly 0 for "off". */
function secondsOrOff(env: Env, key: string): number {
  const text = (env[key] ?? '').trim();
  if (text !== '' && Number(text) === 0) return 0;
  const n = Number(env[key]);
  if (!Number.isFinite(n) || n <= 0) throw configError(key, `must be a positive number of seconds, or 0 for off (got "${env[key]}")`);
  return Math.max(1, Math.round(n * 1000));
}

/** Cron tasks take their zone from TZ, so a zone Intl does not know would reject every one of them later. */
function timezone(env: Env, key: string): string {
  const tz = (env[key] ?? '').replace(/^:/, '') || 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw configError(key, `must be an IANA time zone name such as "Europe/Berlin" or "UTC" (got "${env[key]}")`);
  }
}

function configError(key: string, rule: string): StartupError {
  return new StartupError('config_invalid', `${key}: ${rule}`, { field: key });
}
