import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillMinutes } from './tasks/overview.js';
import { expand } from './tasks/workflow.js';

describe('the status page reads: their pure parts', () => {
  const now = new Date('2026-01-01T10:30:45Z');
  const at = (iso: string): Date => new Date(iso);

  it('fillMinutes gives every minute of the hour, oldest first, ending with the minute now is in', () => {
    const out = fillMinutes([], now);
    assert.equal(out.length, 60);
    assert.equal(out[0]!.minute, '2026-01-01T09:31:00.000Z');
    assert.equal(out[59]!.minute, '2026-01-01T10:30:00.000Z');
    assert.ok(out.every((m) => m.succeeded === 0 && m.failed === 0));
  });

  const cases: [string, Array<{ minute: Date; succeeded: number; failed: number }>, Record<string, [number, number]>][] = [
    ['a count in the current minute', [{ minute: at('2026-01-01T10:30:00Z'), succeeded: 3, failed: 1 }], { '2026-01-01T10:30:00.000Z': [3, 1] }],
    ['a count in the oldest minute', [{ minute: at('2026-01-01T09:31:00Z'), succeeded: 0, failed: 2 }], { '2026-01-01T09:31:00.000Z': [0, 2] }],
    ['a count before the hour is left out', [{ minute: at('2026-01-01T09:30:00Z'), succeeded: 9, failed: 9 }], {}],
  ];
  for (const [label, rows, want] of cases) {
    it(`fillMinutes places ${label}`, () => {
      const got = Object.fromEntries(fillMinutes(rows, now).filter((m) => m.succeeded + m.failed > 0).map((m) => [m.minute, [m.succeeded, m.failed]]));
      assert.deepEqual(got, want);
    });
  }

  const walks: [string, string[], Array<[string, string]>, number, string[], boolean][] = [
    ['new names both ways', ['b'], [['a', 'b'], ['b', 'c']], 10, ['a', 'c'], false],
    ['no name twice', ['a', 'b'], [['a', 'b'], ['a', 'c'], ['b', 'c']], 10, ['c'], false],
    ['the limit stops it and says so', ['a'], [['a', 'b'], ['a', 'c'], ['a', 'd']], 3, ['b', 'c'], true],
    ['nothing new: an empty frontier', ['a', 'b'], [['a', 'b']], 10, [], false],
  ];
  for (const [label, seen, edges, limit, frontier, cut] of walks) {
    it(`expand: ${label}`, () => {
      const s = new Set(seen);
      const step = expand(s, edges.map(([from, to]) => ({ from, to })), limit);
      assert.deepEqual(step, { frontier, cut });
      assert.ok(s.size <= Math.max(limit, seen.length));
    });
  }
});
