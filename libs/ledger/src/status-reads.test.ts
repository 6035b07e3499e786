import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fillMinutes } from './tasks/overview.js';
import { edgesWithin } from './tasks/workflow.js';

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

  const within: [string, string[], Array<[string, string]>, string[]][] = [
    ['both ends among the names', ['a', 'b', 'c'], [['a', 'b'], ['b', 'c']], ['a>b', 'b>c']],
    ['an end outside is left out', ['a', 'b'], [['a', 'b'], ['b', 'x'], ['y', 'a']], ['a>b']],
    ['an edge given twice is kept once', ['a', 'b'], [['a', 'b'], ['a', 'b']], ['a>b']],
    ['no names, no edges', [], [['a', 'b']], []],
  ];
  for (const [label, names, rows, want] of within) {
    it(`edgesWithin: ${label}`, () => {
      assert.deepEqual(edgesWithin(new Set(names), rows.map(([from, to]) => ({ from, to }))).map((e) => `${e.from}>${e.to}`), want);
    });
  }
});
