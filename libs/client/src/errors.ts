import {
  ClosedConnectionError, DrainingConnectionError, NoRespondersError as NatsNoResponders, RequestError, TimeoutError,
} from '@nats-io/transport-node';

/**
 * What went wrong in a call of the client, one class per failure kind (nats.js style), each with a stable `code`
 * and the subject it concerns. Tell them apart by `code` (or `name`); `cause` holds the error underneath.
 */
export const ClientErrorCodes = {
  /** A service answered with an error reply: `code` is then the server's code (ErrorCodes in libs/contracts). */
  server: 'server',
  /** The reply was not JSON or did not match its schema: a server of another version, or something else answering. */
  invalid_reply: 'invalid_reply',
  /** What the caller asked breaks a rule of the request's schema; nothing was sent. */
  invalid_request: 'invalid_request',
  /** No reply within the request's timeout. */
  timeout: 'timeout',
  /** No service listens on the subject (none is running, or none has started yet). */
  no_responders: 'no_responders',
  /** The connection is closed (or draining): `close()` was called, or the client gave up reconnecting. */
  connection_closed: 'connection_closed',
  /** JetStream did not store a command (the stream is missing, or it refused the message). */
  not_stored: 'not_stored',
  /** A wait (`waitFor`, `submit({ wait })`) ended at its deadline without what it waited for. */
  wait_timeout: 'wait_timeout',
} as const;
export type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];

interface Context {
  subject?: string | undefined;
  cause?: unknown;
}

abstract class ClientErrorBase extends Error {
  abstract readonly code: string;
  /** The subject of the request or the command, when there is one. */
  readonly subject: string | undefined;
  constructor(message: string, ctx: Context = {}) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.subject = ctx.subject;
  }
}

/** A service refused the request: `code` (e.g. `not_found`, `invalid_request`), `field` and `message` are its own. */
export class ServerError extends ClientErrorBase {
  override readonly name = 'ServerError';
  /** The server's stable code (ErrorCodes in libs/contracts). */
  readonly code: string;
  /** The field of the request at fault, if the server named one. */
  readonly field: string | undefined;
  constructor(reply: { code: string; message: string; field?: string | undefined }, ctx: Context = {}) {
    super(reply.message, ctx);
    this.code = reply.code;
    this.field = reply.field;
  }
}

export class InvalidReplyError extends ClientErrorBase {
  override readonly name = 'InvalidReplyError';
  readonly code = ClientErrorCodes.invalid_reply;
  /** The field of the reply that broke its schema (`tasks[3].state`), or `reply` when it was not JSON. */
  readonly field: string;
  constructor(field: string, message: string, ctx: Context = {}) {
    super(`${ctx.subject ?? 'reply'}: the reply is not valid: ${message}`, ctx);
    this.field = field;
  }
}

export class InvalidRequestError extends ClientErrorBase {
  override readonly name = 'InvalidRequestError';
  readonly code = ClientErrorCodes.invalid_request;
  readonly field: string;
  constructor(field: string, message: string, ctx: Context = {}) {
    super(message, ctx);
    this.field = field;
  }
}

export class RequestTimeoutError extends ClientErrorBase {
  override readonly name = 'RequestTimeoutError';
  readonly code = ClientErrorCodes.timeout;
  readonly timeoutMs: number;
  constructor(timeoutMs: number, ctx: Context = {}) {
    super(`${ctx.subject ?? 'request'}: no reply within ${timeoutMs} ms`, ctx);
    this.timeoutMs = timeoutMs;
  }
}

export class NoRespondersError extends ClientErrorBase {
  override readonly name = 'NoRespondersError';
  readonly code = ClientErrorCodes.no_responders;
  constructor(ctx: Context = {}) {
    super(`${ctx.subject ?? 'request'}: no service answers on this subject (is Tangerine running?)`, ctx);
  }
}

export class ConnectionClosedError extends ClientErrorBase {
  override readonly name = 'ConnectionClosedError';
  readonly code = ClientErrorCodes.connection_closed;
  constructor(ctx: Context = {}) {
    super(`${ctx.subject ?? 'call'}: the connection to NATS is closed`, ctx);
  }
}

export class NotStoredError extends ClientErrorBase {
  override readonly name = 'NotStoredError';
  readonly code = ClientErrorCodes.not_stored;
  constructor(message: string, ctx: Context = {}) {
    super(`${ctx.subject ?? 'command'}: not stored: ${message}`, ctx);
  }
}

export class WaitTimeoutError extends ClientErrorBase {
  override readonly name = 'WaitTimeoutError';
  readonly code = ClientErrorCodes.wait_timeout;
  /** The last thing seen (a task view, or the last error) when the deadline came. */
  readonly last: unknown;
  constructor(message: string, last: unknown, ctx: Context = {}) {
    super(message, ctx);
    this.last = last;
  }
}

export type ClientError =
  | ServerError | InvalidReplyError | InvalidRequestError | RequestTimeoutError | NoRespondersError | ConnectionClosedError
  | NotStoredError | WaitTimeoutError;

export function isClientError(e: unknown): e is ClientError {
  return e instanceof ClientErrorBase;
}

/**
 * Is it worth trying again later? A timeout, no responders (a service restarting), a closed connection that may come
 * back is not: it is closed for good. A server's outage codes are passing too.
 */
export function isTransient(e: unknown): boolean {
  if (!isClientError(e)) return false;
  if (e.code === 'timeout' || e.code === 'no_responders' || e.code === 'not_stored') return true;
  return e instanceof ServerError && (e.code === 'ledger_unavailable' || e.code === 'ledger_timeout' || e.code === 'bus_unavailable');
}

/** A nats.js error of a request or a publish, as the client's error of that kind (by class, never by message text). */
export function fromNatsError(err: unknown, subject: string, timeoutMs: number): Error {
  if (isClientError(err)) return err;
  const inner = err instanceof RequestError && err.cause !== undefined ? err.cause : err;
  if (inner instanceof TimeoutError) return new RequestTimeoutError(timeoutMs, { subject, cause: err });
  if (inner instanceof NatsNoResponders || (err instanceof RequestError && err.isNoResponders())) return new NoRespondersError({ subject, cause: err });
  if (inner instanceof ClosedConnectionError || inner instanceof DrainingConnectionError) return new ConnectionClosedError({ subject, cause: err });
  return err instanceof Error ? err : new Error(String(err));
}
