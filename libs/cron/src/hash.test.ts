import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldHash, fmix32, fnv1a32 } from './hash.js';

describe('fnv1a32', () => {
  // Published FNV-1a 32-bit test vectors: if these move, every H schedule moves with them.
  const vectors: [string, number][] = [
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ];
  for (const [text, hash] of vectors) it(`"${text}" hashes to 0x${hash.toString(16)}`, () => assert.equal(fnv1a32(text), hash));

  it('hashes UTF-8 bytes', () => assert.equal(fnv1a32('é'), fnv1a32('\u00e9')));
});

describe('fmix32', () => {
  // murmur3_32 of the empty input is fmix32(seed): published values for seeds 0 and 1.
  it('maps 0 to 0', () => assert.equal(fmix32(0), 0));
  it('maps 1 to 0x514e28b7', () => assert.equal(fmix32(1), 0x514e28b7));
});

describe('fieldHash', () => {
  it('is fmix32 of the FNV-1a hash of "name:index"', () => assert.equal(fieldHash('backup', 1), fmix32(fnv1a32('backup:1'))));
  it('gives unrelated values to the fields of one task', () => {
    // Without the finalizer, second and minute were always one apart.
    const gaps = new Set(Array.from({ length: 50 }, (_, i) => (fieldHash(`t${i}`, 1) % 60) - (fieldHash(`t${i}`, 0) % 60)));
    assert.ok(gaps.size > 20, `only ${gaps.size} distinct gaps`);
  });
  it('differs between fields of one task', () => assert.notEqual(fieldHash('backup', 1), fieldHash('backup', 2)));
});
