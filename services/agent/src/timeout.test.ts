import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TIMER_MS, timedOutEnd, timeLeftMs, timeoutReason } from './timeout.js';

describe('run timeout', () => {
  const now = new Date('2026-01-01T00:00:10.000Z');

  it('counts the time left from the run\'s start, not from now', () => {
    assert.equal(timeLeftMs(30, '2026-01-01T00:00:00.000Z', now), 20000);
    assert.equal(timeLeftMs(0.5, '2026-01-01T00:00:09.800Z', now), 300);
  });

  it('gives 0 for a run already past its time, as an adopted run found late is', () => {
    assert.equal(timeLeftMs(5, '2026-01-01T00:00:00.000Z', now), 0);
    assert.equal(timeLeftMs(10, '2026-01-01T00:00:00.000Z', now), 0);
  });

  it('reads Docker\'s nanosecond times', () => {
    assert.equal(timeLeftMs(12, '2026-01-01T00:00:00.123456789Z', now), 2123);
  });

  it('gives the whole time when the start cannot be read', () => {
    assert.equal(timeLeftMs(7, null, now), 7000);
    assert.equal(timeLeftMs(7, 'not a time', now), 7000);
  });

  it('can exceed what one timer can wait: the longest timeout is a year', () => {
    assert.ok(timeLeftMs(31_536_000, now.toISOString(), now) > MAX_TIMER_MS);
  });

  it('reports exit code 124 and the limit, whatever the kill left', () => {
    const end = { exit_code: 137, reason: 'killed by signal 9', output: 'x', started_at: 'a', finished_at: 'b' };
    assert.deepEqual(timedOutEnd(end, 2), { ...end, exit_code: 124, reason: 'timeout: killed after 2 s' });
    assert.equal(timeoutReason(0.5), 'timeout: killed after 0.5 s');
  });
});
