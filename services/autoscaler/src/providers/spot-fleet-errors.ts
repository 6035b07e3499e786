import type { EC2Client } from '@aws-sdk/client-ec2';
import { ProviderError } from '../provider.js';

/** What the SDK's errors carry that is read here (an EC2ServiceException, or a network or credentials error). */
interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

/**
 * AWS codes that pass with time: throttling (the SDK's own list, plus EC2's), capacity (a Spot pool refilling), and
 * EC2's server faults. Any other code (AuthFailure, InvalidSpotFleetRequestId.NotFound, UnauthorizedOperation) needs
 * a person: the autoscaler reports it and keeps backing off, without hoping.
 */
const RETRYABLE_CODES = new Set([
  'RequestLimitExceeded', 'Throttling', 'ThrottlingException', 'EC2ThrottledException', 'RequestThrottled', 'TooManyRequestsException',
  'InsufficientInstanceCapacity', 'InsufficientCapacity', 'InsufficientHostCapacity', 'InternalError', 'InternalFailure',
  'Unavailable', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError',
]);
/** Node's codes for an endpoint that cannot be reached (yet): a network fault, tried again later. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** An AWS access key id (long-term AKIA…, temporary ASIA…): cut from any text that leaves the provider. */
const ACCESS_KEY_ID_RE = /\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,124}\b/g;
const MAX_MESSAGE = 500;

/**
 * The text with every copy of `secrets` (the credentials in use: key id, secret, session token) and anything shaped
 * like an access key id replaced by `[redacted]`, cut to 500 characters. AWS's own messages name no secret, but some
 * services quote the key id, and an SDK or proxy error may quote a header.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  out = out.replace(ACCESS_KEY_ID_RE, '[redacted]');
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}…` : out;
}

/**
 * An SDK error as a ProviderError: `code` the AWS error code (RequestLimitExceeded, AuthFailure, …), or the network's
 * (ECONNREFUSED), or the SDK's error name (CredentialsProviderError). Only the code and a redacted message are kept:
 * no cause, no `$response`, no request, so nothing of the signed request travels on.
 */
export function toProviderError(action: string, err: unknown, secrets: readonly string[]): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SdkError;
  const network = e.code !== undefined && NETWORK_CODES.has(e.code);
  const code = redact(network ? e.code! : e.name && e.name !== 'Error' ? e.name : (e.code ?? 'Error'), secrets);
  const status = e.$metadata?.httpStatusCode;
  const retryable = network || RETRYABLE_CODES.has(code) || e.$retryable?.throttling === true || e.$fault === 'server' || (status !== undefined && status >= 500);
  const message = redact(e.message ?? '', secrets);
  return new ProviderError(code, `EC2 ${action} failed: ${code}${status ? ` (HTTP ${status})` : ''}${message && message !== code ? `: ${message}` : ''}`, retryable);
}

/** The credentials an EC2 client signs with (cached by the SDK), to cut from error messages; none if they cannot be had. */
export async function secretsInUse(client: EC2Client): Promise<string[]> {
  try {
    const c = await client.config.credentials();
    return [c.accessKeyId, c.secretAccessKey, c.sessionToken ?? ''].filter((s) => s.length > 0);
  } catch {
    return [];
  }
}
