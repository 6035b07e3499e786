import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, systemClock } from './clock.js';

describe('clocks', () => {
  it('the manual clock stands still until set or advanced', () => {
    const clock = new ManualClock('2026-03-08T06:59:59Z');
    assert.equal(clock.now().toISOString(), '2026-03-08T06:59:59.000Z');
    assert.equal(clock.now().toISOString(), '2026-03-08T06:59:59.000Z');
    clock.advance(1500);
    assert.equal(clock.now().toISOString(), '2026-03-08T07:00:00.500Z');
    clock.set('2028-02-29T00:00:00+01:00');
    assert.equal(clock.now().toISOString(), '2028-02-28T23:00:00.000Z');
  });

  it('hands out copies: a caller changing its Date does not move the clock', () => {
    const clock = new ManualClock('2026-01-01T00:00:00Z');
    clock.now().setUTCFullYear(1999);
    assert.equal(clock.now().getUTCFullYear(), 2026);
  });

  it('the system clock reads the time of day', () => {
    const before = Date.now();
    const t = systemClock.now().getTime();
    assert.ok(t >= before && t <= Date.now());
  });
});
