// The hash behind `H`. It is part of the schedule's meaning: a task's `H` minute must not move when this
// library is upgraded, so these functions and the input format are frozen (pinned in the tests).
// FNV-1a (32-bit) of `${name}:${fieldIndex}`, then murmur3's 32-bit finalizer. Both are tiny and have
// published test vectors. The finalizer is needed because FNV-1a barely mixes its last bytes: without it the
// six fields of one task, which differ only in the last character, got values in lockstep (the H second was
// always the H minute minus one), and so did names differing only in their last character.

const encoder = new TextEncoder();

/** FNV-1a, 32-bit, over the UTF-8 bytes of `text`; an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** murmur3's fmix32: every input bit flips about half of the output bits. */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The hash for one field of one task. The field index is the position in the six-field form (0 = second,
 * 1 = minute, ... 5 = day of week), whether or not the seconds field was written, so `H * * * *` and
 * `0 H * * * *` pick the same minute, and different fields of one task get unrelated values.
 */
export function fieldHash(taskName: string, fieldIndex: number): number {
  return fmix32(fnv1a32(`${taskName}:${fieldIndex}`));
}
