import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnBatch } from './turn-batch.js';

describe('TurnBatch', () => {
  it('hands over what one turn added, in order, once the turn is done', async () => {
    const flushed: number[][] = [];
    const batch = new TurnBatch<number>((items) => flushed.push(items));
    batch.add(1);
    await Promise.resolve();
    batch.add(2);
    assert.deepEqual(flushed, [], 'nothing leaves during the turn');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(flushed, [[1, 2]]);
  });

  it('starts a new batch for the next turn, and flushes nothing when nothing was added', async () => {
    const flushed: string[][] = [];
    const batch = new TurnBatch<string>((items) => flushed.push(items));
    batch.add('a');
    await new Promise((r) => setImmediate(r));
    batch.add('b');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(flushed, [['a'], ['b']]);
  });
});
