import { isTangerineError } from '@tangerine/contracts';
import { isNatsConnectionError } from './nats-errors.js';

/**
 * What a consumer does with a message whose handling threw:
 * - `outage`: a server is away (the ledger or NATS, or the NATS client says its connection is). The message is not at fault: it is kept in hand and tried again,
 *   with backoff, until the server is back, without counting a try.
 * - `retry`: it may pass (a deadlock, a statement timeout, an error nobody foresaw): tried again a bounded number of
 *   times, with backoff, then set aside.
 * - `refuse`: it fails the same way every time (bad input, a constraint the data breaks): set aside at once.
 */
export type Disposition = 'outage' | 'retry' | 'refuse';

/**
 * PostgreSQL errors that come back every time: data exceptions (22), integrity violations (23), syntax and access
 * (42). Serialization failures and deadlocks (40) and resource limits (53) pass, and are tried again.
 */
const PERMANENT_SQLSTATE = /^(22|23|42)[0-9A-Z]{3}$/;

/**
 * Decided by codes, never by message text: a coded error says it itself; the NATS client's connection errors by
 * their class; PostgreSQL's by their SQLSTATE (the ledger wraps its own, this is for a pg error from elsewhere).
 * Anything else is unknown, and may pass: tried again.
 */
export function disposition(err: unknown): Disposition {
  if (isTangerineError(err)) return err.outage ? 'outage' : err.retryable ? 'retry' : 'refuse';
  if (isNatsConnectionError(err)) return 'outage';
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && PERMANENT_SQLSTATE.test(code)) return 'refuse';
  return 'retry';
}

/** An error in one short line for a log, a dead letter or a rejection: bounded whatever the error holds. */
export function describeError(err: unknown, max = 300): string {
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  const text = e !== null && typeof e === 'object' && typeof e.message === 'string'
    ? `${typeof e.name === 'string' && e.name !== 'Error' && !isTangerineError(err) ? `${e.name}: ` : ''}${e.message}`
    : String(err);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
