import type { Msg, Subscription } from '@nats-io/transport-node';
import { decodeText, disposition, encode } from '@tangerine/bus';
import {
  type ErrorReply, InternalError, Limits, OutageError, ReplyTooLargeError, type Request, type TangerineError,
  ValidationError, isTangerineError, nestsDeeper, utf8Bytes,
} from '@tangerine/contracts';
import type { ServiceContext } from './index.js';

/** Room left in a reply for what wraps a page (the field names, the cursor). */
const ENVELOPE_BYTES = 4096;
/** NATS's default max_payload, when the server did not say. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * Serves a request/reply subject in a queue group (replicas share the requests): the handler's result is the
 * reply; a Tangerine error becomes `{"error": {code, message, field}}`, an error nobody foresaw `internal` (logged here).
 * Every reply fits in one NATS message: one that would not is answered with `reply_too_large`, and a reply that
 * cannot be sent at all is logged, never thrown (once, an exception here ended the process).
 */
export function respond<T, R>(
  ctx: Pick<ServiceContext<unknown>, 'bus' | 'log'>, request: Request<T, R>, queue: string, handler: (req: T) => Promise<R>,
): Subscription {
  const { subject } = request;
  // The request is parsed with the definition it is served under: an empty body, or null, is its `empty` if it has one.
  const parsed = async (body: unknown): Promise<R> => handler(request.parse(request.empty === undefined ? body : body ?? request.empty));
  return ctx.bus.nc.subscribe(subject, {
    queue,
    callback: (err, msg) => {
      if (err) return;
      void answer(ctx, msg, parsed).catch((e: unknown) => ctx.log.error({ err: e, subject }, 'request not answered'));
    },
  });
}

/** The bytes a reply may take: the server's max_payload, less room for the envelope. */
export function replyBudget(ctx: Pick<ServiceContext, 'bus'>): number {
  return (ctx.bus.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - ENVELOPE_BYTES;
}

/**
 * The page of `rows` a reply may carry: at most `limit` of them and no more than `budget` bytes as JSON (the first
 * always, so a page is never empty while rows remain). `rows` holds one row beyond `limit` when another page follows.
 */
export function fitPage<T, C>(rows: readonly T[], limit: number, budget: number, cursor: (row: T) => C): { items: T[]; next: C | null } {
  const items: T[] = [];
  let used = 0;
  for (const row of rows.slice(0, limit)) {
    const bytes = utf8Bytes(JSON.stringify(row)) + 1;
    if (items.length > 0 && used + bytes > budget) break;
    items.push(row);
    used += bytes;
  }
  const next = items.length < rows.length ? cursor(items[items.length - 1]!) : null;
  return { items, next };
}

/** A page size as asked, or the default, never above Limits.pageItems. */
export function pageSize(asked: number | undefined, fallback: number, max: number = Limits.pageItems): number {
  return Math.min(asked ?? fallback, max);
}

async function answer(ctx: Pick<ServiceContext<unknown>, 'bus' | 'log'>, msg: Msg, handler: (body: unknown) => Promise<unknown>): Promise<void> {
  let reply: unknown;
  try {
    reply = await handler(readBody(msg));
  } catch (err) {
    if (!isTangerineError(err) || err.retryable) ctx.log.error({ err, subject: msg.subject }, 'request failed');
    reply = { error: errorOf(err).toJSON() } satisfies ErrorReply;
  }
  if (!msg.reply) return;
  let data = encode(reply);
  if (data.length > replyBudget(ctx) + ENVELOPE_BYTES) {
    ctx.log.error({ subject: msg.subject, bytes: data.length }, 'reply too large for one message; answered with an error');
    data = encode({ error: new ReplyTooLargeError(`reply: ${data.length} bytes is over the bus's max_payload; ask for a smaller page (limit)`).toJSON() });
  }
  try {
    msg.respond(data);
  } catch (err) {
    ctx.log.warn({ err, subject: msg.subject }, 'reply could not be sent');
  }
}

function readBody(msg: Msg): unknown {
  const text = decodeText(msg.data).trim();
  if (text.length === 0) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationError('invalid_json', 'payload: is not valid JSON', { field: 'payload' });
  }
  if (nestsDeeper(body, Limits.jsonDepth)) throw new ValidationError('invalid_request', `payload: must not nest deeper than ${Limits.jsonDepth} levels`, { field: 'payload' });
  return body;
}

/**
 * What a requester is told: a coded error as it is (the ledger's own, a refusal included, come coded from
 * libs/ledger); the NATS client's connection errors as `bus_unavailable`; anything else as `internal`, without its
 * details, which went to the log.
 */
function errorOf(err: unknown): TangerineError {
  if (isTangerineError(err)) return err;
  if (disposition(err) === 'outage') return new OutageError('bus_unavailable', 'NATS could not answer; try again');
  return new InternalError('the request could not be answered; try again, or see the service\'s log');
}
