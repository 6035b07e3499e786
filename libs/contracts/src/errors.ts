/**
 * One registry of coded errors. The code is stable and machine-readable; the message is for people.
 * `retryable` tells a consumer loop whether to try a message again or give up on it at once; `outage` marks the
 * errors that say a server is away (the ledger or NATS), not that the message is at fault: the loop keeps such a
 * message in hand and tries again until the server is back, however long that takes, without counting a try.
 */
export const ErrorCodes = {
  invalid_json: { retryable: false, doc: 'The payload is not valid JSON.' },
  invalid_spec: { retryable: false, doc: 'A field of the task spec breaks a rule; the message names the field and the rule.' },
  duplicate_task: { retryable: false, doc: 'A task of that name exists and is not finished.' },
  dependency_cycle: { retryable: false, doc: 'The task would close a cycle of dependencies.' },
  not_found: { retryable: false, doc: 'No task has that name.' },
  not_cancellable: { retryable: false, doc: 'The task is already finished.' },
  invalid_request: { retryable: false, doc: 'A request (tasks.get, tasks.list, tasks.cancel) breaks a rule.' },
  invalid_message: { retryable: false, doc: 'An internal message does not match its schema; it is set aside as a dead letter.' },
  unprocessable: { retryable: false, doc: 'The message failed every try; it was set aside (a rejection for a command, a dead letter otherwise) with the reason.' },
  reply_too_large: { retryable: false, doc: 'The answer would not fit in one NATS message; ask for a smaller page.' },
  ledger_unavailable: { retryable: true, outage: true, doc: 'PostgreSQL could not be reached; the message is kept and tried again.' },
  ledger_timeout: { retryable: true, doc: 'A ledger statement ran longer than STATEMENT_TIMEOUT; the message is tried again a few times.' },
  bus_unavailable: { retryable: true, outage: true, doc: 'NATS could not be reached.' },
  migration_too_new: { retryable: false, doc: 'The database schema is newer than this binary.' },
  config_invalid: { retryable: false, doc: 'An environment variable has a value that breaks a rule.' },
} as const;
export type ErrorCode = keyof typeof ErrorCodes;

export class TangerineError extends Error {
  override readonly name = 'TangerineError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** A server is away: the message is not at fault (see ErrorCodes). */
  readonly outage: boolean;
  /** The field of the input at fault, if any (`name`, `env.FOO`, `dependencies[2]`). */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = ErrorCodes[code].retryable;
    this.outage = 'outage' in ErrorCodes[code];
    this.field = options.field;
  }

  toJSON(): { code: ErrorCode; message: string; field?: string } {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

export function isTangerineError(e: unknown): e is TangerineError {
  return e instanceof TangerineError;
}

/** Does this error say a server is away (ledger or NATS), rather than anything about the message? */
export function isOutage(e: unknown): boolean {
  return isTangerineError(e) && e.outage;
}
