import { IncomingWebhook, IncomingWebhookHTTPError } from '@slack/webhook';
import type { Clock } from '@tangerine/runtime';
import type { SlackMessage } from './format.js';

/** What one request to the webhook gave. `retryAfterS`: a 429's Retry-After, in seconds, when it had a readable one. */
export type Outcome =
  | { ok: true }
  | { ok: false; status: number; error: string; retryAfterS: number | null }
  | { ok: false; status: null; error: string; retryAfterS: null };

export type Step =
  | { action: 'done' }
  | { action: 'retry'; delayMs: number; why: string }
  | { action: 'give_up'; error: string };

export interface RetryPolicy {
  /** How long a message is tried, from its first request, before it is given up (NOTIFY_RETRY_FOR). */
  retryForMs: number;
  /** The first wait after a 5xx or a network error, doubled after each one, at most `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retryForMs: 600_000, firstDelayMs: 1000, maxDelayMs: 60_000 };

/** A 429 without a readable Retry-After waits this long (Slack's own figure: about one message a second). */
export const RETRY_AFTER_FALLBACK_S = 1;
/** A Retry-After above this is taken as this: a misbehaving proxy must not park the queue for a day. */
export const RETRY_AFTER_MAX_S = 300;

/**
 * What to do after a request, `tries` requests and `elapsedMs` into the message. 2xx: done. 429: wait its
 * Retry-After (Slack disables apps that ignore it). 5xx and network errors: back off, doubling, for at most
 * `retryForMs` in all. Any other 4xx (`invalid_payload`, `channel_not_found`, `channel_is_archived`,
 * `action_prohibited`, `no_service`): never better on a second try, so given up with Slack's error string.
 */
export function nextStep(outcome: Outcome, tries: number, elapsedMs: number, policy: RetryPolicy = DEFAULT_RETRY): Step {
  if (outcome.ok) return { action: 'done' };
  let delayMs: number;
  if (outcome.status === 429) {
    delayMs = Math.min(outcome.retryAfterS ?? RETRY_AFTER_FALLBACK_S, RETRY_AFTER_MAX_S) * 1000;
  } else if (outcome.status === null || outcome.status >= 500) {
    delayMs = Math.min(policy.firstDelayMs * 2 ** Math.max(0, tries - 1), policy.maxDelayMs);
  } else {
    return { action: 'give_up', error: `HTTP ${outcome.status}: ${outcome.error}` };
  }
  const why = outcome.status === null ? outcome.error : `HTTP ${outcome.status}: ${outcome.error}`;
  if (elapsedMs + delayMs > policy.retryForMs) return { action: 'give_up', error: `${why} (gave up after ${tries} tries in ${Math.round(elapsedMs / 1000)} s)` };
  return { action: 'retry', delayMs, why };
}

/** A Retry-After header: seconds (`2`), or an HTTP date; null when it reads as neither. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - now.getTime()) / 1000);
}

/**
 * The form of a webhook's URL that may be logged: its host and the last 4 characters of its path
 * (`hooks.slack.com/…a1B2`). The path is the secret: whoever has it may post to the channel.
 */
export function redactWebhook(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname + u.search;
    return `${u.host}/…${path.length > 8 ? path.slice(-4) : ''}`;
  } catch {
    return '(unreadable URL)';
  }
}

/** Slack's error string from a response body (`channel_not_found`), bounded; never anything of the URL. */
export function slackError(body: string): string {
  const text = body.trim().slice(0, 200);
  return text === '' ? '(no body)' : text;
}

/** A network error's cause without its message: node's fetch quotes neither the URL nor its path in a code. */
function networkCause(err: unknown): string {
  const cause = (err as { cause?: { cause?: { code?: unknown }; code?: unknown } } | undefined)?.cause;
  const code = cause?.cause?.code ?? cause?.code;
  if (typeof code === 'string') return code;
  if ((err as { cause?: { name?: unknown } })?.cause?.name === 'TimeoutError') return 'timeout';
  return 'network error';
}

/**
 * One webhook's outgoing queue: one request at a time, at least `minGapMs` apart (Slack takes about one message a
 * second per webhook), through @slack/webhook's IncomingWebhook without its own retries (nextStep decides, and a 429
 * must sleep its Retry-After, which the library's error does not carry: a wrapper of fetch reads it).
 */
export class WebhookQueue {
  private readonly webhook: IncomingWebhook;
  private lastRetryAfter: string | null = null;
  private nextAt = 0;
  /** Requests made, for the metrics. */
  requests = 0;

  constructor(url: string, private readonly clock: Clock, private readonly minGapMs = 1000, timeoutMs = 10_000) {
    this.webhook = new IncomingWebhook(url, {
      timeout: timeoutMs,
      retryConfig: { retries: 0 },
      fetch: async (input, init) => {
        const response = await globalThis.fetch(input, init);
        this.lastRetryAfter = response.headers.get('retry-after');
        return response;
      },
    });
  }

  /** When the next request may go (epoch ms): now + the gap after the last one, or later after a 429. */
  notBefore(): number {
    return this.nextAt;
  }

  /** Delays the next request until `at` (epoch ms), e.g. a 429's Retry-After. */
  holdUntil(at: number): void {
    this.nextAt = Math.max(this.nextAt, at);
  }

  /** Sends one message once (waiting for its turn first); never throws. */
  async send(message: SlackMessage, signal?: AbortSignal): Promise<Outcome> {
    const wait = this.nextAt - this.clock.now().getTime();
    if (wait > 0) await sleep(wait, signal);
    this.requests++;
    this.lastRetryAfter = null;
    try {
      await this.webhook.send({ text: message.text, blocks: message.blocks });
      return { ok: true };
    } catch (err) {
      if (err instanceof IncomingWebhookHTTPError) {
        return { ok: false, status: err.statusCode, error: slackError(err.body), retryAfterS: err.statusCode === 429 ? parseRetryAfter(this.lastRetryAfter, this.clock.now()) : null };
      }
      return { ok: false, status: null, error: networkCause(err), retryAfterS: null };
    } finally {
      this.nextAt = Math.max(this.nextAt, this.clock.now().getTime() + this.minGapMs);
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
