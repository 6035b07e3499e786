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

describe('TurnBatch: the batches of one turn', () => {
  it('are handed over in one callback, before any microtask their flushes queue (one socket write)', async () => {
    const order: string[] = [];
    const acks = new TurnBatch<string>((items) => {
      order.push(`acks ${items.join(',')}`);
      queueMicrotask(() => order.push('write'));
    });
    const reports = new TurnBatch<string>((items) => {
      order.push(`reports ${items.join(',')}`);
      queueMicrotask(() => order.push('write'));
    });
    acks.add('a1');
    reports.add('r1');
    acks.add('a2');
    await new Promise((r) => setImmediate(r));
    await Promise.resolve();
    assert.deepEqual(order, ['acks a1,a2', 'reports r1', 'write', 'write'], 'both flushes run before the writes they queued');
  });

  it('a batch added to while others flush leaves at the end of the next turn', async () => {
    const flushed: string[] = [];
    const later = new TurnBatch<string>((items) => flushed.push(`later ${items.join(',')}`));
    const first = new TurnBatch<string>((items) => {
      flushed.push(`first ${items.join(',')}`);
      later.add('x');
    });
    first.add('f');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(flushed, ['first f']);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(flushed, ['first f', 'later x']);
  });
});
