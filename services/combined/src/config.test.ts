import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TangerineError } from '@tangerine/contracts';
import * as agent from '@tangerine/agent';
import * as api from '@tangerine/api';
import * as autoscaler from '@tangerine/autoscaler';
import * as cron from '@tangerine/cron-service';
import * as hostHealth from '@tangerine/host-health';
import * as intake from '@tangerine/intake';
import * as monitor from '@tangerine/monitor';
import * as notifier from '@tangerine/notifier';
import * as placer from '@tangerine/placer';
import { agentConnection, serviceConnection } from '@tangerine/platform';
import * as relay from '@tangerine/relay';
import * as resolver from '@tangerine/resolver';
import { compileAll, parseLabels, runtimeConfig, type ConfigSpec, type Env } from '@tangerine/runtime';

/** Every config a process may compile: the runner's, the connections', and each service's. */
const SPECS: readonly ConfigSpec<unknown>[] = [
  runtimeConfig, agentConnection, serviceConnection,
  agent.config, api.config, cron.config, hostHealth.config, intake.config, monitor.config, placer.config, relay.config, resolver.config,
];
/** What every service's config holds, merged: a setting shared by several has the same key and value in each. */
type Config = Readonly<Record<string, unknown>>;

/**
 * Compiles every config, as the combined process does; the settings of them all in one object. The HTTP API refuses
 * to start without a token list: these tables are about the other settings, so API_AUTH=off unless a test says.
 */
function loadConfig(env: Env = {}): Config {
  return Object.freeze(Object.assign({}, ...(compileAll(SPECS, { API_AUTH: 'off', ...env }) as object[])) as Config);
}

function assertConfigError(run: () => unknown, field: string, message: string): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof TangerineError, `expected a TangerineError, got ${String(err)}`);
    assert.equal(err.code, 'config_invalid');
    assert.equal(err.field, field);
    assert.equal(err.message, message);
    return true;
  });
}

describe('loadConfig: defaults', () => {
  // Compared field by field, so a setting added later does not break the table.
  it('gives every documented default for an environment with only HOST_ID', () => {
    const config = loadConfig({ HOST_ID: 'h1' });
    const expected: Record<string, unknown> = {
      natsUrl: 'nats://127.0.0.1:4222',
      databaseUrl: null,
      dockerHost: null,
      logLevel: 'info',
      logPretty: false,
      healthPort: null,
      hostId: 'h1',
      hostLabels: {},
      hostSlots: Math.max(2, os.cpus().length),
      executors: ['docker'],
      processUser: 'nobody',
      agentVolumes: [],
      volumesAllowed: [],
      pidsLimit: 512,
      logMaxBytes: 1_048_576,
      heartbeatMs: 2000,
      hostTimeoutMs: 10000,
      sweepMs: 5000,
      batchSize: 500,
      defaultTimezone: 'UTC',
      cronTickMs: 250,
      hostRemoveAfterMs: 600_000,
      runsKeep: 20,
      historyRetentionMs: 7 * 86400_000,
      firesKeep: 100,
      pruneIntervalMs: 60_000,
      streamMaxBytes: null,
      eventsMaxBytes: null,
      apiPort: 8080,
      apiHost: '0.0.0.0',
      apiTokens: null,
      apiReadOpen: false,
      apiBodyLimit: 1_048_576,
      apiMaxStreams: 1000,
      apiHeartbeatMs: 15_000,
    };
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(config[key], value, key);
  });

  it('defaults the host id to the machine name, made safe', () => {
    const config = loadConfig({});
    assert.equal(config['hostId'], os.hostname().replace(/[^A-Za-z0-9_-]/g, '-'));
    assert.match(String(config['hostId']), /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/);
  });

  it('runs at least two slots by default', () => {
    assert.ok(Number(loadConfig({ HOST_ID: 'h' })['hostSlots']) >= 2);
  });

  const empty: [string, string, unknown][] = [
    ['HOST_SLOTS', 'hostSlots', Math.max(2, os.cpus().length)],
    ['HEALTH_PORT', 'healthPort', null],
    ['HEARTBEAT_INTERVAL', 'heartbeatMs', 2000],
    ['HOST_TIMEOUT', 'hostTimeoutMs', 10000],
    ['SWEEP_INTERVAL', 'sweepMs', 5000],
    ['BATCH_SIZE', 'batchSize', 500],
    ['HOST_LABELS', 'hostLabels', {}],
    ['TZ', 'defaultTimezone', 'UTC'],
    ['CRON_TICK', 'cronTickMs', 250],
    ['RUNS_KEEP', 'runsKeep', 20],
    ['HISTORY_RETENTION', 'historyRetentionMs', 7 * 86400_000],
    ['FIRES_KEEP', 'firesKeep', 100],
    ['PRUNE_INTERVAL', 'pruneIntervalMs', 60_000],
    ['STREAM_MAX_BYTES', 'streamMaxBytes', null],
    ['EVENTS_MAX_BYTES', 'eventsMaxBytes', null],
    ['API_PORT', 'apiPort', 8080],
  ];
  for (const [variable, key, expected] of empty) {
    it(`treats an empty ${variable} as unset`, () => {
      assert.deepEqual(loadConfig({ HOST_ID: 'h', [variable]: '' })[key], expected);
    });
  }
});

describe('loadConfig: values from the environment', () => {
  const cases: [Record<string, string>, string, unknown][] = [
    [{ NATS_URL: 'nats://nats:4222' }, 'natsUrl', 'nats://nats:4222'],
    [{ DATABASE_URL: 'postgres://u@db/t' }, 'databaseUrl', 'postgres://u@db/t'],
    [{ DOCKER_HOST: 'unix:///var/run/docker.sock' }, 'dockerHost', 'unix:///var/run/docker.sock'],
    [{ LOG_LEVEL: 'debug' }, 'logLevel', 'debug'],
    [{ LOG_FORMAT: 'pretty' }, 'logPretty', true],
    [{ LOG_FORMAT: 'json' }, 'logPretty', false],
    [{ HEALTH_PORT: '8080' }, 'healthPort', 8080],
    [{ HEALTH_PORT: '0' }, 'healthPort', 0],
    [{ HEALTH_PORT: '65535' }, 'healthPort', 65535],
    [{ HOST_ID: 'worker_7-b' }, 'hostId', 'worker_7-b'],
    [{ HOST_LABELS: 'zone=a,gpu' }, 'hostLabels', { zone: 'a', gpu: 'true' }],
    [{ HOST_SLOTS: '0' }, 'hostSlots', 0],
    [{ HOST_SLOTS: '16' }, 'hostSlots', 16],
    [{ HOST_SLOTS: '100000' }, 'hostSlots', 100000],
    [{ AGENT_EXECUTORS: 'docker' }, 'executors', ['docker']],
    [{ AGENT_EXECUTORS: ' process , docker ,' }, 'executors', ['process', 'docker']],
    [{ AGENT_EXECUTORS: ',' }, 'executors', []],
    [{ HEARTBEAT_INTERVAL: '5' }, 'heartbeatMs', 5000],
    [{ HEARTBEAT_INTERVAL: '0.5' }, 'heartbeatMs', 500],
    [{ HEARTBEAT_INTERVAL: '0.0014' }, 'heartbeatMs', 1],
    [{ HOST_TIMEOUT: '30' }, 'hostTimeoutMs', 30000],
    [{ SWEEP_INTERVAL: '1.25' }, 'sweepMs', 1250],
    [{ BATCH_SIZE: '1' }, 'batchSize', 1],
    [{ BATCH_SIZE: '10000' }, 'batchSize', 10000],
    [{ TZ: 'Europe/Berlin' }, 'defaultTimezone', 'Europe/Berlin'],
    [{ TZ: ':America/New_York' }, 'defaultTimezone', 'America/New_York'],
    [{ CRON_TICK: '0.1' }, 'cronTickMs', 100],
    [{ HOST_REMOVE_AFTER: '60' }, 'hostRemoveAfterMs', 60_000],
    [{}, 'hostSilenceShare', 0.55],
    [{ HOST_SILENCE_SHARE: '1' }, 'hostSilenceShare', 1],
    [{ HOST_SILENCE_SHARE: '0.3' }, 'hostSilenceShare', 0.3],
    [{}, 'hostSilenceHoldMs', 300_000],
    [{ HOST_SILENCE_HOLD: '5' }, 'hostSilenceHoldMs', 5000],
    [{}, 'statementTimeoutMs', 30_000],
    [{ STATEMENT_TIMEOUT: '0' }, 'statementTimeoutMs', 0],
    [{ STATEMENT_TIMEOUT: '2.5' }, 'statementTimeoutMs', 2500],
    [{ DATABASE_URL: '' }, 'databaseUrl', null],
    [{ RUNS_KEEP: '1' }, 'runsKeep', 1],
    [{ RUNS_KEEP: '100000' }, 'runsKeep', 100000],
    [{ HISTORY_RETENTION: '86400' }, 'historyRetentionMs', 86400_000],
    [{ HISTORY_RETENTION: '0.5' }, 'historyRetentionMs', 500],
    [{ HISTORY_RETENTION: '3153600000' }, 'historyRetentionMs', 3153600000_000],
    [{ FIRES_KEEP: '20' }, 'firesKeep', 20],
    [{ PRUNE_INTERVAL: '10' }, 'pruneIntervalMs', 10_000],
    [{ PRUNE_INTERVAL: '0' }, 'pruneIntervalMs', 0],
    [{ PRUNE_INTERVAL: '0.0' }, 'pruneIntervalMs', 0],
    [{ PRUNE_INTERVAL: '0.0001' }, 'pruneIntervalMs', 1],
    [{ STREAM_MAX_BYTES: '1048576' }, 'streamMaxBytes', 1048576],
    [{ STREAM_MAX_BYTES: '10737418240' }, 'streamMaxBytes', 10737418240],
    [{ EVENTS_MAX_BYTES: '536870912' }, 'eventsMaxBytes', 536870912],
    [{}, 'startReportDelayMs', 50],
    [{ START_REPORT_DELAY: '0' }, 'startReportDelayMs', 0],
    [{ START_REPORT_DELAY: '0.2' }, 'startReportDelayMs', 200],
    [{}, 'stopGraceMs', 10000],
    [{ STOP_GRACE: '1' }, 'stopGraceMs', 1000],
    [{}, 'ackWaitMs', 30000],
    [{ ACK_WAIT: '3' }, 'ackWaitMs', 3000],
    [{ NATS_URL: '127.0.0.1:4222' }, 'natsUrl', '127.0.0.1:4222'],
    [{ NATS_URL: 'nats://a:4222,nats://b:4222' }, 'natsUrl', 'nats://a:4222,nats://b:4222'],
    [{ NATS_URL: 'tls://nats.example:4222' }, 'natsUrl', 'tls://nats.example:4222'],
    [{ DATABASE_URL: 'postgresql://u:p@db:5432/t?sslmode=require' }, 'databaseUrl', 'postgresql://u:p@db:5432/t?sslmode=require'],
    [{ HOST_TIMEOUT: '3', HEARTBEAT_INTERVAL: '0.5' }, 'hostTimeoutMs', 3000],
    [{ HOST_TIMEOUT: '2.001', HEARTBEAT_INTERVAL: '2' }, 'hostTimeoutMs', 2001],
  ];
  for (const [env, key, expected] of cases) {
    it(`${JSON.stringify(env)} → ${key} = ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(loadConfig({ HOST_ID: 'h', ...env })[key], expected);
    });
  }
});

describe('loadConfig: errors name the variable', () => {
  const cases: [Record<string, string>, string, string][] = [
    [{ HOST_SLOTS: 'abc' }, 'HOST_SLOTS', 'HOST_SLOTS: must be an integer from 0 to 100000 (got "abc")'],
    [{ HOST_SLOTS: '-1' }, 'HOST_SLOTS', 'HOST_SLOTS: must be an integer from 0 to 100000 (got "-1")'],
    [{ HOST_SLOTS: '1.5' }, 'HOST_SLOTS', 'HOST_SLOTS: must be an integer from 0 to 100000 (got "1.5")'],
    [{ HOST_SLOTS: '100001' }, 'HOST_SLOTS', 'HOST_SLOTS: must be an integer from 0 to 100000 (got "100001")'],
    [{ BATCH_SIZE: '0' }, 'BATCH_SIZE', 'BATCH_SIZE: must be an integer from 1 to 10000 (got "0")'],
    [{ BATCH_SIZE: '10001' }, 'BATCH_SIZE', 'BATCH_SIZE: must be an integer from 1 to 10000 (got "10001")'],
    [{ HEALTH_PORT: '65536' }, 'HEALTH_PORT', 'HEALTH_PORT: must be an integer from 0 to 65535 (got "65536")'],
    [{ HEALTH_PORT: 'http' }, 'HEALTH_PORT', 'HEALTH_PORT: must be an integer from 0 to 65535 (got "http")'],
    [{ HEARTBEAT_INTERVAL: '0' }, 'HEARTBEAT_INTERVAL', 'HEARTBEAT_INTERVAL: must be a positive number of seconds (got "0")'],
    [{ HEARTBEAT_INTERVAL: '2s' }, 'HEARTBEAT_INTERVAL', 'HEARTBEAT_INTERVAL: must be a positive number of seconds (got "2s")'],
    [{ HOST_TIMEOUT: '-5' }, 'HOST_TIMEOUT', 'HOST_TIMEOUT: must be a positive number of seconds (got "-5")'],
    [{ SWEEP_INTERVAL: 'Infinity' }, 'SWEEP_INTERVAL', 'SWEEP_INTERVAL: must be a positive number of seconds (got "Infinity")'],
    [{ TZ: 'Mars/Olympus' }, 'TZ', 'TZ: must be an IANA time zone name such as "Europe/Berlin" or "UTC" (got "Mars/Olympus")'],
    [{ CRON_TICK: '0' }, 'CRON_TICK', 'CRON_TICK: must be a positive number of seconds (got "0")'],
    [{ HOST_SILENCE_SHARE: '0' }, 'HOST_SILENCE_SHARE', 'HOST_SILENCE_SHARE: must be a number above 0 and at most 1 (got "0")'],
    [{ HOST_SILENCE_SHARE: '55%' }, 'HOST_SILENCE_SHARE', 'HOST_SILENCE_SHARE: must be a number above 0 and at most 1 (got "55%")'],
    [{ HOST_SILENCE_HOLD: '0' }, 'HOST_SILENCE_HOLD', 'HOST_SILENCE_HOLD: must be a positive number of seconds (got "0")'],
    [{ STATEMENT_TIMEOUT: '-1' }, 'STATEMENT_TIMEOUT', 'STATEMENT_TIMEOUT: must be a positive number of seconds, or 0 for off (got "-1")'],
    [{ STATEMENT_TIMEOUT: '' }, 'STATEMENT_TIMEOUT', 'STATEMENT_TIMEOUT: must be a positive number of seconds, or 0 for off (got "")'],
    [{ HOST_LABELS: 'zone=a,-bad' }, 'HOST_LABELS', 'HOST_LABELS: label "-bad" must match [A-Za-z0-9][A-Za-z0-9_./-]{0,62}'],
    [{ RUNS_KEEP: '0' }, 'RUNS_KEEP', 'RUNS_KEEP: must be an integer from 1 to 100000 (got "0")'],
    [{ RUNS_KEEP: 'all' }, 'RUNS_KEEP', 'RUNS_KEEP: must be an integer from 1 to 100000 (got "all")'],
    [{ RUNS_KEEP: '2.5' }, 'RUNS_KEEP', 'RUNS_KEEP: must be an integer from 1 to 100000 (got "2.5")'],
    [{ FIRES_KEEP: '-1' }, 'FIRES_KEEP', 'FIRES_KEEP: must be an integer from 1 to 100000 (got "-1")'],
    [{ FIRES_KEEP: '100001' }, 'FIRES_KEEP', 'FIRES_KEEP: must be an integer from 1 to 100000 (got "100001")'],
    [{ HISTORY_RETENTION: '0' }, 'HISTORY_RETENTION', 'HISTORY_RETENTION: must be a positive number of seconds (got "0")'],
    [{ HISTORY_RETENTION: '7d' }, 'HISTORY_RETENTION', 'HISTORY_RETENTION: must be a positive number of seconds (got "7d")'],
    [{ HISTORY_RETENTION: '3153600001' }, 'HISTORY_RETENTION', 'HISTORY_RETENTION: must be a number of seconds up to 3153600000 (got "3153600001")'],
    [{ PRUNE_INTERVAL: '-60' }, 'PRUNE_INTERVAL', 'PRUNE_INTERVAL: must be a positive number of seconds, or 0 for off (got "-60")'],
    [{ PRUNE_INTERVAL: 'off' }, 'PRUNE_INTERVAL', 'PRUNE_INTERVAL: must be a positive number of seconds, or 0 for off (got "off")'],
    [{ STREAM_MAX_BYTES: '1GB' }, 'STREAM_MAX_BYTES', 'STREAM_MAX_BYTES: must be an integer from 1048576 to 9007199254740991 (got "1GB")'],
    [{ STREAM_MAX_BYTES: '1048575' }, 'STREAM_MAX_BYTES', 'STREAM_MAX_BYTES: must be an integer from 1048576 to 9007199254740991 (got "1048575")'],
    [{ EVENTS_MAX_BYTES: '-1' }, 'EVENTS_MAX_BYTES', 'EVENTS_MAX_BYTES: must be an integer from 1048576 to 9007199254740991 (got "-1")'],
    // Was read as 0 (a start reported at once): a typo now stops the process.
    [{ START_REPORT_DELAY: 'abc' }, 'START_REPORT_DELAY', 'START_REPORT_DELAY: must be a positive number of seconds, or 0 for off (got "abc")'],
    [{ START_REPORT_DELAY: '' }, 'START_REPORT_DELAY', 'START_REPORT_DELAY: must be a positive number of seconds, or 0 for off (got "")'],
    [{ START_REPORT_DELAY: '-0.1' }, 'START_REPORT_DELAY', 'START_REPORT_DELAY: must be a positive number of seconds, or 0 for off (got "-0.1")'],
    [{ STOP_GRACE: '0' }, 'STOP_GRACE', 'STOP_GRACE: must be a positive number of seconds (got "0")'],
    [{ ACK_WAIT: '30s' }, 'ACK_WAIT', 'ACK_WAIT: must be a positive number of seconds (got "30s")'],
    [{ AGENT_EXECUTORS: 'docker,wasm' }, 'AGENT_EXECUTORS', 'AGENT_EXECUTORS: each item must be one of docker, process (got "wasm")'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [{ LOG_FORMAT: 'yaml' }, 'LOG_FORMAT', 'LOG_FORMAT: must be one of json, pretty (got "yaml")'],
    [{ NATS_URL: 'http://nats:4222' }, 'NATS_URL', 'NATS_URL: must be a URL with a scheme of nats:, tls:, ws:, wss: (got "http://nats:4222")'],
    [{ NATS_URL: 'nats://a:4222,not a url' }, 'NATS_URL', 'NATS_URL: must be a URL such as nats://host:port (got "not a url")'],
    // A secret: the refused text is not quoted at all (a password may also sit in the query, `?password=`).
    [{ DATABASE_URL: 'mysql://app:s3cret@db/t?password=s3cret' }, 'DATABASE_URL', 'DATABASE_URL: must be a URL with a scheme of postgres:, postgresql:, socket:'],
    [{ API_PORT: '80x' }, 'API_PORT', 'API_PORT: must be an integer from 0 to 65535 (got "80x")'],
    [{ API_MAX_STREAMS: '0' }, 'API_MAX_STREAMS', 'API_MAX_STREAMS: must be an integer from 1 to 100000 (got "0")'],
    [{ API_BODY_LIMIT: '10' }, 'API_BODY_LIMIT', 'API_BODY_LIMIT: must be an integer from 1024 to 9007199254740991 (got "10")'],
    // A secret: the line is named, the token never.
    [{ API_TOKENS: 'short-token write ci' }, 'API_TOKENS', 'API_TOKENS: line 1: the token must be at least 16 characters (try: openssl rand -hex 32)'],
    [{ API_TOKENS: '# ci\n0123456789abcdef0123 admin ci' }, 'API_TOKENS', 'API_TOKENS: line 2: the access must be read or write'],
    [{ API_AUTH: 'on' }, 'API_TOKENS', 'API_TOKENS, API_AUTH: API_TOKENS is not set: the HTTP API needs a token list (API_TOKENS or API_TOKENS_FILE, one "<token> <read|write> [<name>]" a line), or API_AUTH=off to serve it without tokens'],
    [{ HOST_TIMEOUT: '2' }, 'HOST_TIMEOUT', 'HOST_TIMEOUT, HEARTBEAT_INTERVAL: HOST_TIMEOUT (2 s) must be longer than HEARTBEAT_INTERVAL (2 s), or every host goes down between two heartbeats'],
    [{ HOST_TIMEOUT: '1', HEARTBEAT_INTERVAL: '5' }, 'HOST_TIMEOUT', 'HOST_TIMEOUT, HEARTBEAT_INTERVAL: HOST_TIMEOUT (1 s) must be longer than HEARTBEAT_INTERVAL (5 s), or every host goes down between two heartbeats'],
  ];
  for (const [env, field, message] of cases) {
    it(message, () => assertConfigError(() => loadConfig({ HOST_ID: 'h', ...env }), field, message));
  }

  const hostIds: [string, string][] = [
    ['bad id', 'HOST_ID: must match [A-Za-z0-9][A-Za-z0-9_-]{0,99} (got "bad id")'],
    ['', 'HOST_ID: must match [A-Za-z0-9][A-Za-z0-9_-]{0,99} (got "")'],
    ['-lead', 'HOST_ID: must match [A-Za-z0-9][A-Za-z0-9_-]{0,99} (got "-lead")'],
    ['host.example', 'HOST_ID: must match [A-Za-z0-9][A-Za-z0-9_-]{0,99} (got "host.example")'],
    ['h'.repeat(101), `HOST_ID: must match [A-Za-z0-9][A-Za-z0-9_-]{0,99} (got "${'h'.repeat(101)}")`],
  ];
  for (const [id, message] of hostIds) {
    it(`rejects HOST_ID ${JSON.stringify(id.length > 20 ? `${id.slice(0, 5)}… (${id.length})` : id)}`, () =>
      assertConfigError(() => loadConfig({ HOST_ID: id }), 'HOST_ID', message));
  }

  it('accepts a HOST_ID of 100 characters', () => {
    assert.equal(loadConfig({ HOST_ID: 'h'.repeat(100) }).hostId, 'h'.repeat(100));
  });
});

describe('loadConfig: every problem at once', () => {
  it('lists each bad variable once, even when several services read it', () => {
    assertConfigError(() => loadConfig({ HOST_ID: 'h', BATCH_SIZE: '0', CRON_TICK: 'x', HEARTBEAT_INTERVAL: '20' }), 'BATCH_SIZE', [
      'BATCH_SIZE: must be an integer from 1 to 10000 (got "0")',
      'CRON_TICK: must be a positive number of seconds (got "x")',
      'HOST_TIMEOUT, HEARTBEAT_INTERVAL: HOST_TIMEOUT (10 s) must be longer than HEARTBEAT_INTERVAL (20 s), or every host goes down between two heartbeats',
    ].join('\n'));
  });

  it('checks a conflict only in the configs that hold both settings: the agent alone takes any heartbeat', () => {
    assert.equal(agent.config.compile({ HOST_ID: 'h', HEARTBEAT_INTERVAL: '20' }).heartbeatMs, 20000);
    assert.throws(() => placer.config.compile({ HEARTBEAT_INTERVAL: '20' }), /HOST_TIMEOUT, HEARTBEAT_INTERVAL/);
    assert.throws(() => hostHealth.config.compile({ HEARTBEAT_INTERVAL: '20' }), /HOST_TIMEOUT, HEARTBEAT_INTERVAL/);
  });
});

/** How a process reaches NATS and PostgreSQL; a secret's `_FILE` form beside it. */
const NATS = [
  'NATS_URL', 'NATS_NKEY', 'NATS_NKEY_FILE', 'NATS_USER', 'NATS_PASSWORD', 'NATS_PASSWORD_FILE', 'NATS_TOKEN', 'NATS_TOKEN_FILE', 'NATS_CREDS',
  'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY', 'NATS_INBOX_PREFIX',
];
const POSTGRES = [
  'DATABASE_URL', 'DATABASE_URL_FILE', 'PGPASSWORD', 'PGPASSWORD_FILE', 'PGPASS', 'PGPASS_FILE', 'PGSSLMODE', 'PGSSLROOTCERT', 'PGSSLCERT', 'PGSSLKEY',
];

describe('each service declares only what it reads', () => {
  const expected: [string, ConfigSpec<unknown>, string[]][] = [
    ['runtime', runtimeConfig, ['LOG_LEVEL', 'LOG_FORMAT', 'HEALTH_PORT', 'STOP_GRACE']],
    ['agent connection', agentConnection, [...NATS]],
    ['service connection', serviceConnection, [...NATS, 'STREAM_MAX_BYTES', 'EVENTS_MAX_BYTES', 'FILES_STORE_MAX_BYTES', ...POSTGRES, 'STATEMENT_TIMEOUT']],
    ['api', api.config, ['API_PORT', 'API_HOST', 'API_TOKENS', 'API_TOKENS_FILE', 'API_READ_OPEN', 'API_AUTH', 'API_BODY_LIMIT', 'API_MAX_STREAMS', 'API_HEARTBEAT', 'FILES_MAX_BYTES', 'FILES_MAX_TOTAL']],
    ['cron', cron.config, ['CRON_TICK']],
    ['intake', intake.config, ['BATCH_SIZE', 'ACK_WAIT', 'TZ', 'SECRETS_KEY', 'SECRETS_KEY_FILE', 'VOLUMES_ALLOWED', 'FILES_MAX_BYTES', 'FILES_MAX_TOTAL']],
    ['monitor', monitor.config, ['BATCH_SIZE', 'ACK_WAIT']],
    ['resolver', resolver.config, ['BATCH_SIZE', 'ACK_WAIT', 'SWEEP_INTERVAL']],
    ['placer', placer.config, ['HOST_TIMEOUT', 'HEARTBEAT_INTERVAL', 'SECRETS_KEY', 'SECRETS_KEY_FILE']],
    ['relay', relay.config, ['REPUBLISH_AFTER']],
    ['notifier', notifier.config, ['BATCH_SIZE', 'ACK_WAIT', 'SLACK_WEBHOOK', 'SLACK_WEBHOOK_FILE', 'NOTIFY_EVENTS', 'NOTIFY_GROUP_WINDOW', 'NOTIFY_RETRY_FOR', 'STATUS_URL']],
    ['autoscaler', autoscaler.config, [
      'AUTOSCALER_PROVIDER', 'EVALUATION_INTERVAL', 'SCALE_DOWN_IDLE', 'SCALE_UP_COOLDOWN', 'SCALE_DOWN_COOLDOWN', 'SCALE_JOIN_DEADLINE',
      'SCALE_DRAIN_SETTLE', 'SCALE_BACKOFF_MAX', 'LOCAL_SCALE_LIMIT', 'LOCAL_SCALE_MIN', 'LOCAL_AGENT_SLOTS', 'LOCAL_AGENT_LABELS',
      'LOCAL_HOST_PREFIX', 'LOCAL_AGENT_IDENTITIES', 'LOCAL_STATE_DIR',
    ]],
  ];
  for (const [name, spec, variables] of expected) {
    it(`${name}: ${variables.join(', ') || 'nothing'}`, () => assert.deepEqual([...spec.variables].sort(), [...variables].sort()));
  }
});

describe('loadConfig: the result is frozen', () => {
  const config = loadConfig({ HOST_ID: 'h', HOST_LABELS: 'zone=a' });

  it('freezes the config, its labels and its executors', () => {
    assert.equal(Object.isFrozen(config), true);
    assert.equal(Object.isFrozen(config.hostLabels), true);
    assert.equal(Object.isFrozen(config.executors), true);
  });

  it('refuses changes (strict mode throws)', () => {
    assert.throws(() => { (config as { natsUrl: string }).natsUrl = 'nats://elsewhere'; }, TypeError);
    assert.throws(() => { (config.hostLabels as Record<string, string>)['zone'] = 'b'; }, TypeError);
    assert.throws(() => { (config.executors as string[]).push('wasm'); }, TypeError);
    assert.equal(config.natsUrl, 'nats://127.0.0.1:4222');
    assert.deepEqual(config.hostLabels, { zone: 'a' });
    assert.deepEqual(config.executors, ['docker']);
  });

  it('reads only the environment it is given', () => {
    const a = loadConfig({ HOST_ID: 'a', NATS_URL: 'nats://a:1' });
    const b = loadConfig({ HOST_ID: 'b' });
    assert.equal(a.natsUrl, 'nats://a:1');
    assert.equal(b.natsUrl, 'nats://127.0.0.1:4222');
  });
});

describe('parseLabels', () => {
  const cases: [string, Record<string, string>][] = [
    ['', {}],
    ['   ', {}],
    ['zone=a,gpu', { zone: 'a', gpu: 'true' }],
    ['zone=a,gpu=false', { zone: 'a', gpu: 'false' }],
    [' zone=a , gpu ', { zone: 'a', gpu: 'true' }],
    ['a,,b,', { a: 'true', b: 'true' }],
    ['key=a=b', { key: 'a=b' }],
    ['empty=', { empty: '' }],
    ['zone=a,zone=b', { zone: 'b' }],
    ['k8s.io/arch=amd64,rack_1-x=r', { 'k8s.io/arch': 'amd64', 'rack_1-x': 'r' }],
    ['value=has spaces', { value: 'has spaces' }],
    [`${'k'.repeat(63)}=v`, { ['k'.repeat(63)]: 'v' }],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text.length > 40 ? `${text.slice(0, 10)}…` : text)} → ${JSON.stringify(expected).slice(0, 60)}`, () => {
      assert.deepEqual(parseLabels(text), expected);
    });
  }

  const bad: [string, string][] = [
    ['-bad', '-bad'],
    ['=a', ''],
    ['zone=a,has space=x', 'has space'],
    ['.dot', '.dot'],
    ['a:b=c', 'a:b'],
    [`${'k'.repeat(64)}=v`, 'k'.repeat(64)],
  ];
  for (const [text, key] of bad) {
    it(`rejects ${JSON.stringify(text.length > 40 ? `${text.slice(0, 10)}…` : text)}`, () =>
      assertConfigError(() => parseLabels(text), 'HOST_LABELS',
        `HOST_LABELS: label "${key}" must match [A-Za-z0-9][A-Za-z0-9_./-]{0,62}`));
  }
});

describe('the notifier\'s settings (npm start runs it only with a webhook)', () => {
  const HOOK = 'https://hooks.slack.com/services/T0/B0/secretpart1234';
  it('takes the defaults with only SLACK_WEBHOOK', () => {
    const c = notifier.config.compile({ SLACK_WEBHOOK: HOOK });
    assert.deepEqual({ ...c, notify: [...c.notify] }, {
      batchSize: 500, ackWaitMs: 30000, webhook: HOOK, notify: ['failed', 'blocked', 'host_lost', 'cron_skipped', 'fleet', 'dead_letter', 'scaling_error'],
      groupWindowMs: 10_000, retryForMs: 600_000, statusUrl: null,
    });
  });
  it('reads the webhook from SLACK_WEBHOOK_FILE, as a swarm secret is mounted', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'notifier-config-'));
    try {
      writeFileSync(path.join(dir, 'hook'), `${HOOK}\n`);
      assert.equal(notifier.config.compile({ SLACK_WEBHOOK_FILE: path.join(dir, 'hook') }).webhook, HOOK);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const refused: [Env, string, string][] = [
    [{}, 'SLACK_WEBHOOK', 'SLACK_WEBHOOK: is required by the notifier (or SLACK_WEBHOOK_FILE: a file holding the URL)'],
    [{ SLACK_WEBHOOK: 'hooks.slack.com/services/T0/B0/secretpart1234' }, 'SLACK_WEBHOOK', 'SLACK_WEBHOOK: must be a URL such as https://hooks.slack.com/services/…'],
    [{ SLACK_WEBHOOK: 'ftp://hooks.slack.com/services/T0/B0/secretpart1234' }, 'SLACK_WEBHOOK', 'SLACK_WEBHOOK: must be an https:// (or http://) URL'],
    [{ SLACK_WEBHOOK: HOOK, NOTIFY_EVENTS: 'failed,running' }, 'NOTIFY_EVENTS', 'NOTIFY_EVENTS: each item must be one of success, failed, blocked, cancelled, host_lost, cron_skipped, fleet, dead_letter, scaling, scaling_error (got "running")'],
    [{ SLACK_WEBHOOK: HOOK, NOTIFY_GROUP_WINDOW: '0' }, 'NOTIFY_GROUP_WINDOW', ''],
    [{ SLACK_WEBHOOK: HOOK, STATUS_URL: 'status' }, 'STATUS_URL', 'STATUS_URL: must be a URL such as https://tangerine.example.com (got "status")'],
  ];
  for (const [env, field, message] of refused) {
    it(`refuses ${JSON.stringify(env).slice(0, 90)}, naming ${field}`, () => {
      assert.throws(() => notifier.config.compile(env), (err: unknown) => {
        assert.ok(err instanceof TangerineError, String(err));
        assert.equal(err.field, field);
        if (message !== '') assert.equal(err.message, message);
        assert.ok(!err.message.includes('secretpart'), 'the webhook is never quoted');
        return true;
      });
    });
  }
  it('takes a list of events and a window', () => {
    const c = notifier.config.compile({ SLACK_WEBHOOK: HOOK, NOTIFY_EVENTS: 'failed, success', NOTIFY_GROUP_WINDOW: '2.5', STATUS_URL: 'https://t.example.com/' });
    assert.deepEqual([[...c.notify], c.groupWindowMs, c.statusUrl], [['failed', 'success'], 2500, 'https://t.example.com']);
  });
});

describe('the autoscaler\'s settings (npm start runs it only with AUTOSCALER_PROVIDER)', () => {
  it('takes the defaults with only AUTOSCALER_PROVIDER=local', () => {
    const c = autoscaler.config.compile({ AUTOSCALER_PROVIDER: 'local' });
    assert.deepEqual({ ...c, localLabels: { ...c.localLabels } }, {
      provider: 'local', evaluationMs: 10_000, idleMs: 180_000, upCooldownMs: 15_000, downCooldownMs: 120_000, joinDeadlineMs: 600_000,
      drainSettleMs: 5000, backoffMaxMs: 300_000, localLimit: 4, localMin: 0, localSlots: 2, localLabels: { autoscaled: 'local' },
      localPrefix: 'auto', localIdentities: null, localStateDir: '/var/tmp/tangerine/autoscaler-local',
    });
  });
  const refused: [Env, string, string][] = [
    [{}, 'AUTOSCALER_PROVIDER', 'AUTOSCALER_PROVIDER: is required by the autoscaler: one of local, spot-fleet'],
    [{ AUTOSCALER_PROVIDER: 'gce' }, 'AUTOSCALER_PROVIDER', 'AUTOSCALER_PROVIDER: must be one of local, spot-fleet (got "gce")'],
    [{ AUTOSCALER_PROVIDER: 'local', LOCAL_SCALE_LIMIT: '0' }, 'LOCAL_SCALE_LIMIT', 'LOCAL_SCALE_LIMIT: must be an integer from 1 to 64 (got "0")'],
    [{ AUTOSCALER_PROVIDER: 'local', SCALE_DOWN_IDLE: '-1' }, 'SCALE_DOWN_IDLE', 'SCALE_DOWN_IDLE: must be a positive number of seconds (got "-1")'],
    [{ AUTOSCALER_PROVIDER: 'local', LOCAL_AGENT_IDENTITIES: 'ids' }, 'LOCAL_AGENT_IDENTITIES', 'LOCAL_AGENT_IDENTITIES: must be an absolute path (got "ids")'],
  ];
  for (const [env, field, message] of refused) {
    it(`refuses ${JSON.stringify(env)}, naming ${field}`, () => {
      assert.throws(() => autoscaler.config.compile(env), (err: unknown) => {
        assert.ok(err instanceof TangerineError, String(err));
        assert.equal(err.field, field);
        assert.equal(err.message, message);
        return true;
      });
    });
  }
});
