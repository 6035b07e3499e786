import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RETRY, nextStep, parseRetryAfter, redactWebhook, type Outcome, type Step } from './delivery.js';

describe('nextStep: what a webhook answer leads to', () => {
  const http = (status: number, error: string, retryAfterS: number | null = null): Outcome => ({ ok: false, status, error, retryAfterS });
  const net: Outcome = { ok: false, status: null, error: 'ECONNREFUSED', retryAfterS: null };
  const cases: [string, Outcome, number, number, Step][] = [
    ['200 ok: done', { ok: true }, 1, 0, { action: 'done' }],
    ['429 with Retry-After: 2 waits 2 s', http(429, 'rate_limited', 2), 1, 0, { action: 'retry', delayMs: 2000, why: 'HTTP 429: rate_limited' }],
    ['429 without Retry-After waits 1 s', http(429, 'rate_limited'), 1, 0, { action: 'retry', delayMs: 1000, why: 'HTTP 429: rate_limited' }],
    ['429 with an absurd Retry-After waits 300 s at most', http(429, 'rate_limited', 86_400), 1, 0, { action: 'retry', delayMs: 300_000, why: 'HTTP 429: rate_limited' }],
    ['500: backs off 1 s first', http(500, 'internal_error'), 1, 0, { action: 'retry', delayMs: 1000, why: 'HTTP 500: internal_error' }],
    ['503 the 4th time: 8 s', http(503, 'service_unavailable'), 4, 10_000, { action: 'retry', delayMs: 8000, why: 'HTTP 503: service_unavailable' }],
    ['a network error the 10th time: 60 s at most', net, 10, 100_000, { action: 'retry', delayMs: 60_000, why: 'ECONNREFUSED' }],
    ['500 past the retry time: given up', http(500, 'internal_error'), 20, 599_500, { action: 'give_up', error: 'HTTP 500: internal_error (gave up after 20 tries in 600 s)' }],
    ['404 channel_not_found: not retried', http(404, 'channel_not_found'), 1, 0, { action: 'give_up', error: 'HTTP 404: channel_not_found' }],
    ['400 invalid_payload: not retried', http(400, 'invalid_payload'), 1, 0, { action: 'give_up', error: 'HTTP 400: invalid_payload' }],
    ['410 channel_is_archived: not retried', http(410, 'channel_is_archived'), 1, 0, { action: 'give_up', error: 'HTTP 410: channel_is_archived' }],
    ['403 action_prohibited: not retried', http(403, 'action_prohibited'), 1, 0, { action: 'give_up', error: 'HTTP 403: action_prohibited' }],
  ];
  for (const [what, outcome, tries, elapsed, step] of cases) {
    it(what, () => assert.deepEqual(nextStep(outcome, tries, elapsed, DEFAULT_RETRY), step));
  }
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-12-01T10:00:00Z');
  const cases: [string | null, number | null][] = [
    ['2', 2], [' 30 ', 30], ['1.5', 1.5], [null, null], ['', null], ['soon', null],
    ['Tue, 01 Dec 2026 10:00:05 GMT', 5], ['Tue, 01 Dec 2026 09:00:00 GMT', 0],
  ];
  for (const [value, want] of cases) it(`${JSON.stringify(value)} → ${want}`, () => assert.equal(parseRetryAfter(value, now), want));
});

describe('redactWebhook: what of the URL may be logged', () => {
  const cases: [string, string][] = [
    ['https://hooks.slack.com/services/T000/B000/XXXXXXXXa1B2', 'hooks.slack.com/…a1B2'],
    ['http://127.0.0.1:4567/hook/secret-path-9z9z', '127.0.0.1:4567/…9z9z'],
    ['http://127.0.0.1:4567/', '127.0.0.1:4567/…'],
    ['not a url', '(unreadable URL)'],
  ];
  for (const [url, want] of cases) {
    it(want, () => {
      assert.equal(redactWebhook(url), want);
      const path = url.startsWith('http') ? new URL(url).pathname : url;
      if (path.length > 8) assert.ok(!redactWebhook(url).includes(path.slice(1, -4)), 'no part of the secret path but its last 4');
    });
  }
});
