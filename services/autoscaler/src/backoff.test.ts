import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const cases: [number, number, number, number][] = [
    [0, 10_000, 300_000, 0],
    [1, 10_000, 300_000, 10_000],
    [2, 10_000, 300_000, 20_000],
    [5, 10_000, 300_000, 160_000],
    [6, 10_000, 300_000, 300_000],
    [1_000, 10_000, 300_000, 300_000],
    [3, 500, 1000, 1000],
  ];
  for (const [failures, base, cap, expected] of cases) {
    it(`${failures} failures, base ${base} ms, cap ${cap} ms → ${expected} ms`, () => assert.equal(backoffDelay(failures, base, cap), expected));
  }
});
