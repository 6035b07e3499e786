import { CommanderError } from 'commander';
import { isClientError, isTransient, ServerError } from '@tangerine/client';
import { isTangerineError } from '@tangerine/contracts';
import { ExitCodes } from './exit-codes.js';

/**
 * The exit code of an error that ended a command: bad usage or input 2 (an option, a file, a document, a setting),
 * Tangerine or NATS away 69 (no connection, no answer in time, no stream), a refusal of the server 1 (`get` of an
 * unknown name).
 */
export function exitCodeOfError(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage;
  if (isTangerineError(e)) {
    return e.family === 'validation' || e.family === 'startup' || e.family === 'unprocessable' ? ExitCodes.usage : ExitCodes.failed;
  }
  if (isClientError(e)) {
    if (e.code === 'invalid_request') return ExitCodes.usage;
    if (isTransient(e) || e.code === 'connection_closed' || e.code === 'wait_timeout') return ExitCodes.unavailable;
    return ExitCodes.failed;
  }
  // nats.js's own (connection refused, authorization violation): Tangerine is out of reach.
  return ExitCodes.unavailable;
}

/** An error in one line: a server's with its subject, code and field. */
export function describeError(e: unknown): string {
  if (e instanceof ServerError) return `${e.subject ?? 'tangerine'}: ${e.code}${e.field !== undefined ? ` (${e.field})` : ''}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}
