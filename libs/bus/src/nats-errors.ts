import { isTangerineError } from '@tangerine/contracts';

/**
 * NATS's errors, recognized by their codes, never by their words. JetStream answers an API request it refuses with
 * `{"error": {"code": <HTTP-like status>, "err_code": <JetStream code>, "description"}}`, which the client raises as
 * a JetStreamApiError (or its StreamNotFoundError and ConsumerNotFoundError); the err_code is the stable part. The
 * values are nats-server's (server/errors.json), as nats-server 2.9.10 answers them.
 */
export const JetStreamApiCodes = {
  /** JSConsumerNotFoundErr: `consumer not found`. */
  ConsumerNotFound: 10014,
  /** JSConsumerNameExistErr: `consumer name already in use`. */
  ConsumerNameExists: 10013,
  /** JSConsumerExistingActiveErr: `consumer already exists and is still active`. */
  ConsumerExistingActive: 10105,
  /** JSConsumerAlreadyExists (nats-server 2.10 and later, a create that finds another config): `consumer already exists`. */
  ConsumerAlreadyExists: 10148,
  /** JSStreamNotFoundErr: `stream not found`. */
  StreamNotFound: 10059,
  /** JSStreamNameExistErr: `stream name already in use with a different configuration`. */
  StreamNameInUse: 10058,
  /** JSStreamWrongLastSequenceErr: an expected-last-sequence publish that found another. */
  StreamWrongLastSequence: 10071,
  /** JSStreamStoreFailedF: the stream could not store the message (`maximum bytes exceeded` when full). */
  StreamStoreFailed: 10077,
  /** JSNotEnabledForAccountErr. */
  JetStreamNotEnabledForAccount: 10039,
  /** JSNoMessageFoundErr. */
  NoMessageFound: 10037,
} as const;

/**
 * The JetStream code of an error, or null when it has none: a JetStreamApiError of any copy of the client (its
 * `apiError()` holds the answer), or a publish ack's `error` object as it came on the wire.
 */
export function jetStreamCode(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const api = (err as { apiError?: unknown }).apiError;
  if (typeof api === 'function') {
    const code = (api.call(err) as { err_code?: unknown } | null)?.err_code;
    return typeof code === 'number' ? code : null;
  }
  const code = (err as { err_code?: unknown }).err_code;
  return typeof code === 'number' ? code : null;
}

export function isStreamNotFound(err: unknown): boolean {
  return jetStreamCode(err) === JetStreamApiCodes.StreamNotFound;
}

export function isConsumerNotFound(err: unknown): boolean {
  return jetStreamCode(err) === JetStreamApiCodes.ConsumerNotFound;
}

/** Another process created the stream first (with another config, or the add would have passed). */
export function isStreamNameInUse(err: unknown): boolean {
  return jetStreamCode(err) === JetStreamApiCodes.StreamNameInUse;
}

/** Another process created the durable first. */
export function isConsumerExists(err: unknown): boolean {
  const code = jetStreamCode(err);
  return code === JetStreamApiCodes.ConsumerNameExists || code === JetStreamApiCodes.ConsumerExistingActive
    || code === JetStreamApiCodes.ConsumerAlreadyExists;
}

/**
 * nats.js v3 gives its connection errors no code; their class names are its stable API (`errors.ClosedConnectionError`
 * and so on in @nats-io/nats-core), and are read here rather than `instanceof`, which a second copy of the client fails.
 */
const CONNECTION_ERRORS = new Set(['ConnectionError', 'ClosedConnectionError', 'DrainingConnectionError', 'TimeoutError']);

/** Does this error of the NATS client say the connection is away (closed, draining, or a request unanswered)? */
export function isNatsConnectionError(err: unknown): boolean {
  return err instanceof Error && CONNECTION_ERRORS.has(err.name) && !isTangerineError(err);
}
