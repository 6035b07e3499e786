import {
  AuthError, ErrorCodes, InternalError, NotFoundError, OutageError, ValidationError, errorOf, isTangerineError, type ErrorCode,
  type ErrorJSON, type TangerineError,
} from '@tangerine/contracts';
import { ServerError, isClientError } from '@tangerine/client';

/**
 * The HTTP status of every code of the registry (libs/contracts errors.ts), in one place: a code added there fails
 * to compile here until it has its status. The body of every failure is `{"error": {code, message, field?}}`.
 */
export const HTTP_STATUS = {
  invalid_json: 400,
  invalid_spec: 400,
  invalid_request: 400,
  invalid_template: 400,
  invalid_file: 400,
  // An internal message: no HTTP body is one, but a code has a status.
  invalid_message: 400,
  body_too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  not_found: 404,
  template_not_found: 404,
  duplicate_task: 409,
  dependency_cycle: 409,
  not_cancellable: 409,
  unprocessable: 422,
  unauthorized: 401,
  forbidden: 403,
  too_many_streams: 503,
  // A reply of the bus (hosts.list) that would not fit in one NATS message: the server's limit, not the request's
  // body (413 is about what the client sent); the message says to ask for a smaller page.
  reply_too_large: 500,
  ledger_unavailable: 503,
  bus_unavailable: 503,
  ledger_timeout: 504,
  ledger_refused: 500,
  invalid_row: 500,
  internal: 500,
  migration_too_new: 500,
  config_invalid: 500,
  bus_auth_failed: 500,
} as const satisfies Record<ErrorCode, number>;

export function statusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/** Fastify's own errors (by their stable `code`), as Tangerine's. */
function fromFastify(err: { code?: unknown; statusCode?: unknown; message?: unknown }): TangerineError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ValidationError('body_too_large', `body: ${String(err.message)}; the limit is API_BODY_LIMIT`, { field: 'body' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ValidationError('unsupported_media_type', 'content-type: must be application/json (or application/yaml where a route takes YAML)', { field: 'content-type' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ValidationError('invalid_json', 'body: is empty, but the Content-Type says JSON', { field: 'body' });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new ValidationError('invalid_json', 'body: is not valid JSON', { field: 'body' });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ValidationError('invalid_request', 'url: a path parameter is longer than 200 characters (a name is at most 100)', { field: 'url' });
    case 'FST_ERR_BAD_URL':
      return new ValidationError('invalid_request', 'url: is not a valid URL (a bad percent-encoding)', { field: 'url' });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ValidationError('invalid_request', 'content-length: does not match the body', { field: 'content-length' });
    default:
      return null;
  }
}

/**
 * Any error thrown while a request was served, as the Tangerine error its caller is told: a coded error as it is; an
 * error of libs/client (the bus) as its server's code, or `bus_unavailable`; Fastify's own by their code; anything
 * else `internal`, with `known: false` so that the caller logs it (its details never reach the body).
 */
export function toTangerine(err: unknown): { error: TangerineError; known: boolean } {
  if (isTangerineError(err)) return { error: err, known: true };
  if (err instanceof ServerError) {
    // A service's error reply: its code is the registry's (ServerError carries the server's code, not `server`).
    return Object.hasOwn(ErrorCodes, err.code)
      ? { error: errorOf(err.code as ErrorCode, err.message, err.field === undefined ? {} : { field: err.field }), known: true }
      : { error: new InternalError('a service answered with an error this API does not know; see its log'), known: false };
  }
  if (isClientError(err)) {
    switch (err.code) {
      case 'invalid_request':
        return { error: new ValidationError('invalid_request', err.message, { field: (err as { field: string }).field }), known: true };
      case 'timeout': case 'no_responders': case 'connection_closed': case 'not_stored':
        return { error: new OutageError('bus_unavailable', `${err.message}; try again`), known: true };
      default:
        return { error: new InternalError('the request could not be answered; try again, or see the api service\'s log'), known: false };
    }
  }
  if (typeof err === 'object' && err !== null) {
    const mapped = fromFastify(err as { code?: unknown });
    if (mapped) return { error: mapped, known: true };
  }
  return { error: new InternalError('the request could not be answered; try again, or see the api service\'s log'), known: false };
}

/** The body of a failure. */
export function errorBody(error: TangerineError): { error: ErrorJSON } {
  return { error: error.toJSON() };
}

export function routeNotFound(method: string, url: string): NotFoundError {
  return new NotFoundError(`url: no route ${method} ${url.split('?')[0]!.slice(0, 200)} (see GET /v1/openapi.json)`, { field: 'url' });
}

export function methodNotAllowed(method: string, url: string, allowed: readonly string[]): ValidationError {
  return new ValidationError('method_not_allowed', `method: ${method} is not allowed on ${url.split('?')[0]!.slice(0, 200)} (allowed: ${allowed.join(', ')})`, { field: 'method' });
}

export function unauthorized(message: string): AuthError {
  return new AuthError('unauthorized', message, { field: 'authorization' });
}

export function forbidden(message: string): AuthError {
  return new AuthError('forbidden', message, { field: 'authorization' });
}
