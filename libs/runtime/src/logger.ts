import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line. */
const REDACT = [
  'password', '*.password', 'databaseUrl', '*.databaseUrl', 'webhook', '*.webhook', 'webhookUrl', '*.webhookUrl',
  'secretAccessKey', '*.secretAccessKey', 'env', 'spec.env', '*.spec.env',
  'secret_env', '*.secret_env', 'spec.secret_env', '*.spec.secret_env',
];

export function createLogger(service: string, opts: { level: string; pretty: boolean }): Logger {
  return pino({
    name: service,
    level: opts.level,
    base: { service, pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    // `err` keeps the cause chain and the stable code of a TangerineError.
    serializers: { err: pino.stdSerializers.errWithCause },
    transport: opts.pretty ? { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } : undefined,
  });
}
