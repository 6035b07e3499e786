import type { Msg, Subscription } from '@nats-io/transport-node';
import { decodeText, encode } from '@tangerine/bus';
import { TangerineError, isTangerineError, type ErrorReply } from '@tangerine/contracts';
import type { ServiceContext } from './index.js';

/**
 * Serves a request/reply subject in a queue group (replicas share the requests): the handler's result is the
 * reply; a TangerineError becomes `{"error": {code, message, field}}`, anything else a retryable error.
 */
export function respond(
  ctx: ServiceContext, subject: string, queue: string, handler: (body: unknown) => Promise<unknown>,
): Subscription {
  return ctx.bus.nc.subscribe(subject, {
    queue,
    callback: (err, msg) => {
      if (err) return;
      void answer(ctx, msg, handler);
    },
  });
}

async function answer(ctx: ServiceContext, msg: Msg, handler: (body: unknown) => Promise<unknown>): Promise<void> {
  let reply: unknown;
  try {
    const text = decodeText(msg.data).trim();
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new TangerineError('invalid_json', 'payload: is not valid JSON');
      }
    }
    reply = await handler(body);
  } catch (err) {
    if (!isTangerineError(err)) ctx.log.error({ err, subject: msg.subject }, 'request failed');
    const e = isTangerineError(err) ? err : new TangerineError('ledger_unavailable', 'the ledger could not answer; try again');
    reply = { error: e.toJSON() } satisfies ErrorReply;
  }
  if (msg.reply) msg.respond(encode(reply));
}
