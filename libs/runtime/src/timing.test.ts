import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { repeat } from './timing.js';

/** Resolves once `ok` holds, polling every few ms; fails after `ms`. */
async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('repeat', () => {
  it('never runs two steps at once, even when a step outlasts the interval', async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    const stop = repeat(async () => {
      active++;
      most = Math.max(most, active);
      await new Promise((r) => setTimeout(r, 15));
      active--;
      runs++;
    }, 1, () => undefined, { immediate: true });
    await until(() => runs >= 5);
    await stop();
    assert.equal(most, 1);
  });

  it('goes on after a failed step, giving the error to onError', async () => {
    const errors: unknown[] = [];
    let runs = 0;
    const stop = repeat(async () => {
      runs++;
      if (runs === 1) throw new Error('first fails');
    }, 1, (err) => errors.push(err), { immediate: true });
    await until(() => runs >= 3);
    await stop();
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /first fails/);
  });

  it('stop waits for the step under way and runs no other', async () => {
    let release!: () => void;
    let started = 0;
    let finished = false;
    const stop = repeat(async () => {
      started++;
      await new Promise<void>((r) => { release = r; });
      finished = true;
    }, 1, () => undefined, { immediate: true });
    await until(() => started === 1);
    const stopped = stop();
    release();
    await stopped;
    assert.ok(finished, 'stop resolved before the step ended');
    // Only time can show that nothing more starts: at a 1 ms interval, 20 ms would see many steps.
    const after = started;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(started, after);
  });

  it('without immediate, the first step waits one interval', async () => {
    let runs = 0;
    const stop = repeat(async () => { runs++; }, 60_000, () => undefined);
    assert.equal(runs, 0);
    await stop();
    assert.equal(runs, 0);
  });
});
