import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentKeys } from './recent.js';

describe('RecentKeys', () => {
  it('remembers the newest keys and forgets the oldest past its capacity', () => {
    const r = new RecentKeys(2);
    r.add('a');
    r.add('b');
    r.add('a'); // touched again: now the newest
    r.add('c');
    assert.deepEqual(['a', 'b', 'c'].map((k) => r.has(k)), [true, false, true]);
  });
});
