import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Keys whose values never reach a log line: every secret setting under its config name (a config logged whole shows
 * them as `[redacted]`), and the names nats.js and pg give them.
 */
const SECRET_KEYS = [
  'password', 'databaseUrl', 'connectionString', 'webhook', 'webhookUrl', 'secretAccessKey',
  'natsPassword', 'natsToken', 'natsNkey', 'pgPassword', 'pgPass', 'token', 'pass', 'seed', 'nkey', 'auth', 'authenticator',
];
const REDACT = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`]), 'env', 'spec.env', '*.spec.env',
  'secret_env', '*.secret_env', 'spec.secret_env', '*.spec.secret_env',
];
/** @internal For its test. */
export const REDACTED_KEYS: readonly string[] = SECRET_KEYS;

/** `destination`: where the lines go instead of stdout (a test reads them there); not with `pretty`. */
export function createLogger(service: string, opts: { level: string; pretty: boolean; destination?: NodeJS.WritableStream }): Logger {
  const options = {
    name: service,
    level: opts.level,
    base: { service, pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    // `err` keeps the cause chain and the stable code of a TangerineError.
    serializers: { err: pino.stdSerializers.errWithCause },
    transport: opts.pretty ? { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } : undefined,
  };
  return opts.destination && !opts.pretty ? pino(options, opts.destination) : pino(options);
}
