/**
 * Tangerine's errors, in the style of nats.js: one class per failure family, each error with a stable code. The code
 * is machine-readable and goes on the wire (`{"error": {code, message, field?}}`, a rejection's or a dead letter's
 * `code`); the message is for people. The family says what a caller does about it:
 * - `validation`: the input breaks a rule (the message names the field and the rule); sending it again fails again.
 * - `not_found`, `conflict`: the input is well formed, but what it names is missing or in the wrong state.
 * - `outage`: a server is away (the ledger or NATS), not the message at fault: a consumer keeps such a message in
 *   hand and tries again until the server is back, however long that takes, without counting a try.
 * - `timeout`: a statement ran too long; it may pass, so it is tried again a few times.
 * - `stored`: what the ledger gave back does not parse (a bug or a hand edit); the message is set aside.
 * - `refused`: the ledger refused a statement by its SQLSTATE (a constraint, a value it will not take).
 * - `auth`: the HTTP API's caller gave no valid token, or one that may not do this (401 and 403).
 * - `busy`: a bounded resource of a server is full (the HTTP API's event streams); trying again later may pass.
 * - `limit`, `unprocessable`, `startup`, `internal`: see each code.
 * Errors are recognized by a brand and their code, never by `instanceof` alone: two copies of this module (a
 * package installed twice) make errors that are the same to every guard here.
 */
export const ErrorCodes = {
  invalid_json: { family: 'validation', retryable: false, doc: 'The payload is not valid JSON.' },
  invalid_spec: { family: 'validation', retryable: false, doc: 'A field of the task spec breaks a rule; the message names the field and the rule.' },
  invalid_request: { family: 'validation', retryable: false, doc: 'A request (tasks.get, tasks.list, tasks.cancel, templates.get, templates.list) breaks a rule.' },
  invalid_template: { family: 'validation', retryable: false, doc: 'A template definition (templates.put) breaks a rule; the message names the field (`spec.image`, `description`) and the rule.' },
  invalid_file: { family: 'validation', retryable: false, doc: 'A file to store with a task breaks a rule (its size over FILES_MAX_BYTES); the message names the limit.' },
  invalid_message: { family: 'validation', retryable: false, doc: 'An internal message does not match its schema; it is set aside as a dead letter.' },
  body_too_large: { family: 'validation', retryable: false, doc: 'An HTTP request body is larger than API_BODY_LIMIT.' },
  unsupported_media_type: { family: 'validation', retryable: false, doc: 'An HTTP request body has a Content-Type the route does not take.' },
  method_not_allowed: { family: 'validation', retryable: false, doc: 'The HTTP route exists, but not with this method.' },
  not_found: { family: 'not_found', retryable: false, doc: 'No task has that name (or no host, run or HTTP route).' },
  template_not_found: { family: 'not_found', retryable: false, doc: 'No template has that name, or it has no such version (a spec\'s `template`, templates.get).' },
  duplicate_task: { family: 'conflict', retryable: false, doc: 'A task of that name exists and is not finished.' },
  dependency_cycle: { family: 'conflict', retryable: false, doc: 'The task would close a cycle of dependencies.' },
  not_cancellable: { family: 'conflict', retryable: false, doc: 'The task is already finished.' },
  unprocessable: { family: 'unprocessable', retryable: false, doc: 'The message failed every try; it was set aside (a rejection for a command, a dead letter otherwise) with the reason.' },
  unauthorized: { family: 'auth', retryable: false, doc: 'An HTTP request without a valid bearer token.' },
  forbidden: { family: 'auth', retryable: false, doc: 'An HTTP request whose token may not do this (a read token on a write route).' },
  too_many_streams: { family: 'busy', retryable: true, doc: 'The HTTP API serves API_MAX_STREAMS streams already (event streams and output follows together); try again later.' },
  reply_too_large: { family: 'limit', retryable: false, doc: 'The answer would not fit in one NATS message; ask for a smaller page.' },
  ledger_unavailable: { family: 'outage', retryable: true, doc: 'PostgreSQL could not be reached; the message is kept and tried again.' },
  bus_unavailable: { family: 'outage', retryable: true, doc: 'NATS could not be reached.' },
  ledger_timeout: { family: 'timeout', retryable: true, doc: 'A ledger statement ran longer than STATEMENT_TIMEOUT; the message is tried again a few times.' },
  ledger_refused: { family: 'refused', retryable: false, doc: 'The ledger refused the statement (a constraint or a value PostgreSQL will not take, by its SQLSTATE); it would refuse it again.' },
  invalid_row: { family: 'stored', retryable: false, doc: 'What the ledger gave back does not parse; the message names the column, and the message that read it is set aside.' },
  internal: { family: 'internal', retryable: true, doc: 'An error nobody foresaw; the service logged it, and trying again may pass.' },
  migration_too_new: { family: 'startup', retryable: false, doc: 'The database schema is newer than this binary.' },
  config_invalid: { family: 'startup', retryable: false, doc: 'An environment variable has a value that breaks a rule.' },
  bus_auth_failed: { family: 'startup', retryable: false, doc: 'NATS refused the credentials, or its TLS certificate did not verify; the message names the server and the identity, never the secret.' },
} as const satisfies Record<string, { family: string; retryable: boolean; doc: string }>;

export type ErrorCode = keyof typeof ErrorCodes;
export type ErrorFamily = (typeof ErrorCodes)[ErrorCode]['family'];
/** The codes of one family: `CodeOf<'outage'>` is `'ledger_unavailable' | 'bus_unavailable'`. */
export type CodeOf<F extends ErrorFamily> = { [C in ErrorCode]: (typeof ErrorCodes)[C]['family'] extends F ? C : never }[ErrorCode];
export type ValidationCode = CodeOf<'validation'>;

/** Set on every Tangerine error, whichever copy of this module made it. */
const BRAND = Symbol.for('tangerine.error');

export interface ErrorOptions {
  /** The field of the input at fault (`name`, `env.FOO`, `dependencies[2]`), or the column of a row. */
  field?: string;
  cause?: unknown;
}

/** What an error reply carries. */
export interface ErrorJSON {
  code: ErrorCode;
  message: string;
  field?: string;
}

/** The base of every Tangerine error: not made directly, made through its family's class. */
export abstract class TangerineError extends Error {
  abstract readonly family: ErrorFamily;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** A server is away: the message is not at fault (the `outage` family). */
  readonly outage: boolean;
  /** The field of the input at fault, if any (`name`, `env.FOO`, `dependencies[2]`), or the column of a row. */
  readonly field: string | undefined;

  protected constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Not enumerable: a log line or JSON.stringify does not show it.
    Object.defineProperty(this, BRAND, { value: true });
    this.code = code;
    this.retryable = ErrorCodes[code].retryable;
    this.outage = ErrorCodes[code].family === 'outage';
    this.field = options.field;
  }

  toJSON(): ErrorJSON {
    return this.field === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, field: this.field };
  }
}

/** The input breaks a rule: `field: rule`. */
export class ValidationError extends TangerineError {
  override readonly name = 'ValidationError';
  readonly family = 'validation';
  declare readonly code: ValidationCode;
  constructor(code: ValidationCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** What the input names does not exist. */
export class NotFoundError extends TangerineError {
  override readonly name = 'NotFoundError';
  readonly family = 'not_found';
  declare readonly code: CodeOf<'not_found'>;
  constructor(message: string, options: ErrorOptions & { code?: CodeOf<'not_found'> } = {}) {
    super(options.code ?? 'not_found', message, options);
  }
}

/** What the input names is in a state that does not allow it. */
export class ConflictError extends TangerineError {
  override readonly name = 'ConflictError';
  readonly family = 'conflict';
  declare readonly code: CodeOf<'conflict'>;
  constructor(code: CodeOf<'conflict'>, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** The ledger or NATS is away. */
export class OutageError extends TangerineError {
  override readonly name = 'OutageError';
  readonly family = 'outage';
  declare readonly code: CodeOf<'outage'>;
  constructor(code: CodeOf<'outage'>, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A statement ran longer than it may. */
export class TimeoutError extends TangerineError {
  override readonly name = 'TimeoutError';
  readonly family = 'timeout';
  declare readonly code: CodeOf<'timeout'>;
  constructor(code: CodeOf<'timeout'>, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** PostgreSQL refused a statement with this SQLSTATE; it would again. */
export class LedgerRefusedError extends TangerineError {
  override readonly name = 'LedgerRefusedError';
  readonly family = 'refused';
  declare readonly code: CodeOf<'refused'>;
  readonly sqlstate: string;
  constructor(sqlstate: string, message: string, options: ErrorOptions = {}) {
    super('ledger_refused', message, options);
    this.sqlstate = sqlstate;
  }
}

/** A row read from the ledger does not parse; `field` is `<table>.<column>`. */
export class RowError extends TangerineError {
  override readonly name = 'RowError';
  readonly family = 'stored';
  declare readonly code: CodeOf<'stored'>;
  constructor(message: string, options: ErrorOptions & { field: string }) {
    super('invalid_row', message, options);
  }
}

/** A reply would not fit in one NATS message. */
export class ReplyTooLargeError extends TangerineError {
  override readonly name = 'ReplyTooLargeError';
  readonly family = 'limit';
  declare readonly code: CodeOf<'limit'>;
  constructor(message: string, options: ErrorOptions = {}) {
    super('reply_too_large', message, options);
  }
}

/** The HTTP API's caller is not who it may be: no valid token (`unauthorized`), or a token that may not (`forbidden`). */
export class AuthError extends TangerineError {
  override readonly name = 'AuthError';
  readonly family = 'auth';
  declare readonly code: CodeOf<'auth'>;
  constructor(code: CodeOf<'auth'>, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A bounded resource of a server is full; later it may not be. */
export class BusyError extends TangerineError {
  override readonly name = 'BusyError';
  readonly family = 'busy';
  declare readonly code: CodeOf<'busy'>;
  constructor(code: CodeOf<'busy'>, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A message failed every try and was set aside. */
export class UnprocessableError extends TangerineError {
  override readonly name = 'UnprocessableError';
  readonly family = 'unprocessable';
  declare readonly code: CodeOf<'unprocessable'>;
  constructor(message: string, options: ErrorOptions = {}) {
    super('unprocessable', message, options);
  }
}

/** An error nobody foresaw, as a requester is told of it (the details go to the service's log). */
export class InternalError extends TangerineError {
  override readonly name = 'InternalError';
  readonly family = 'internal';
  declare readonly code: CodeOf<'internal'>;
  constructor(message: string, options: ErrorOptions = {}) {
    super('internal', message, options);
  }
}

/** The process cannot start: a bad setting, a schema newer than the binary. */
export class StartupError extends TangerineError {
  override readonly name = 'StartupError';
  readonly family = 'startup';
  declare readonly code: CodeOf<'startup'>;
  constructor(code: CodeOf<'startup'>, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * Is this a Tangerine error, made by any copy of this module? Its brand and a code this copy knows: an error of a
 * newer copy with a code added since is unknown here, and handled as any unknown error (tried again a few times).
 */
export function isTangerineError(e: unknown): e is TangerineError {
  return typeof e === 'object' && e !== null && (e as { [BRAND]?: unknown })[BRAND] === true
    && typeof (e as { code?: unknown }).code === 'string' && Object.hasOwn(ErrorCodes, (e as { code: string }).code);
}

/** Is this a Tangerine error with one of these codes? */
export function hasCode<C extends ErrorCode>(e: unknown, ...codes: C[]): e is TangerineError & { code: C } {
  return isTangerineError(e) && (codes as string[]).includes(e.code);
}

function ofFamily(e: unknown, family: ErrorFamily): boolean {
  return isTangerineError(e) && ErrorCodes[e.code].family === family;
}

/** Does this error say a server is away (ledger or NATS), rather than anything about the message? */
export function isOutage(e: unknown): e is OutageError {
  return ofFamily(e, 'outage');
}
export function isValidationError(e: unknown): e is ValidationError {
  return ofFamily(e, 'validation');
}
export function isNotFound(e: unknown): e is NotFoundError {
  return ofFamily(e, 'not_found');
}
export function isConflict(e: unknown): e is ConflictError {
  return ofFamily(e, 'conflict');
}
export function isTimeout(e: unknown): e is TimeoutError {
  return ofFamily(e, 'timeout');
}
export function isRowError(e: unknown): e is RowError {
  return ofFamily(e, 'stored');
}

/** The error of a code, of its family's class: for the places that get the code as a value (a schema's `parse`). */
export function errorOf(code: ErrorCode, message: string, options: ErrorOptions = {}): TangerineError {
  const family = ErrorCodes[code].family;
  switch (family) {
    case 'validation': return new ValidationError(code as ValidationCode, message, options);
    case 'not_found': return new NotFoundError(message, { ...options, code: code as CodeOf<'not_found'> });
    case 'conflict': return new ConflictError(code as CodeOf<'conflict'>, message, options);
    case 'outage': return new OutageError(code as CodeOf<'outage'>, message, options);
    case 'timeout': return new TimeoutError(code as CodeOf<'timeout'>, message, options);
    case 'refused': return new LedgerRefusedError('', message, options);
    case 'stored': return new RowError(message, { ...options, field: options.field ?? 'row' });
    case 'limit': return new ReplyTooLargeError(message, options);
    case 'unprocessable': return new UnprocessableError(message, options);
    case 'auth': return new AuthError(code as CodeOf<'auth'>, message, options);
    case 'busy': return new BusyError(code as CodeOf<'busy'>, message, options);
    case 'internal': return new InternalError(message, options);
    case 'startup': return new StartupError(code as CodeOf<'startup'>, message, options);
  }
}
