import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskEvent } from '@tangerine/contracts';
import { age, eventLine, newPart, psRow, splitList, treeLines, type Node } from './format.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('age', () => {
  const table: [string, string][] = [
    ['2026-12-01T12:00:00Z', '0s'], ['2026-12-01T11:59:18Z', '42s'], ['2026-12-01T11:55:00Z', '5m'],
    ['2026-12-01T09:00:00Z', '3h'], ['2026-11-19T12:00:00Z', '12d'], ['2026-12-01T12:00:05Z', '0s'], ['not a time', '-'],
  ];
  for (const [at, want] of table) it(`${at} → ${want}`, () => assert.equal(age(at, NOW), want));
});

describe('psRow', () => {
  it('shows name, state, host, attempt, failures and age', () => {
    assert.deepEqual(psRow({ name: 'a', state: 'running', host: 'h1', attempt: 2, failures: 1, created_at: '2026-12-01T11:58:00Z' }, NOW), ['a', 'running', 'h1', '2', '1', '2m']);
  });
  it('shows a dash for no host', () => {
    assert.deepEqual(psRow({ name: 'b', state: 'waiting', host: null, attempt: 0, failures: 0, created_at: '2026-12-01T12:00:00Z' }, NOW), ['b', 'waiting', '-', '0', '0', '0s']);
  });
});

describe('splitList', () => {
  it('splits commas, drops blanks and repeats', () => assert.deepEqual(splitList(['ready,running', ' failed ', 'ready', '']), ['ready', 'running', 'failed']));
});

describe('treeLines', () => {
  it('draws a diamond upstream, its shared root shown in full once', () => {
    const nodes = new Map<string, Node>([
      ['load', { state: 'waiting', dependencies: ['transform-a', 'transform-b'] }],
      ['transform-a', { state: 'success', dependencies: ['extract'] }],
      ['transform-b', { state: 'running', dependencies: ['extract'] }],
      ['extract', { state: 'success', dependencies: [] }],
    ]);
    assert.deepEqual(treeLines('load', nodes), [
      'load waiting',
      '├── transform-a success',
      '│   └── extract success',
      '└── transform-b running',
      '    └── extract success',
    ]);
  });
  it('marks a repeated node with dependencies as above, and names what is missing', () => {
    const nodes = new Map<string, Node>([
      ['top', { state: 'waiting', dependencies: ['mid', 'mid2'] }],
      ['mid', { state: 'waiting', dependencies: ['ghost'] }],
      ['mid2', { state: 'waiting', dependencies: ['mid', 'far'] }],
      ['ghost', null],
    ]);
    assert.deepEqual(treeLines('top', nodes), [
      'top waiting',
      '├── mid waiting',
      '│   └── ghost (not submitted)',
      '└── mid2 waiting',
      '    ├── mid waiting (above)',
      '    └── far (not read)',
    ]);
  });
  it('ends on a cycle', () => {
    const nodes = new Map<string, Node>([['a', { state: 'waiting', dependencies: ['b'] }], ['b', { state: 'waiting', dependencies: ['a'] }]]);
    assert.deepEqual(treeLines('a', nodes), ['a waiting', '└── b waiting', '    └── a waiting (above)']);
  });
});

describe('eventLine', () => {
  it('shows a task event with what changed', () => {
    const event: TaskEvent = { name: 'a', state: 'failed', from: 'running', attempt: 1, failures: 1, version: 4, host: 'h1', reason: 'exit 3', exit_code: 3, at: '2026-12-01T12:00:00.000Z' };
    assert.equal(eventLine({ kind: 'task', seq: 7, subject: 'tasks.events.a.failed', event }), '2026-12-01T12:00:00.000Z task a running -> failed host=h1 attempt=1 failures=1 exit=3 reason="exit 3"');
  });
  it('shows a rejection with its code and reason', () => {
    const event = { name: 'b', code: 'invalid_spec', field: 'image', reason: 'image: is required', payload: '{}', seq: 3, index: null, at: '2026-12-01T12:00:00.000Z' };
    assert.equal(eventLine({ kind: 'rejection', seq: 8, subject: 'tasks.rejected', event }), '2026-12-01T12:00:00.000Z rejected b invalid_spec "image: is required"');
  });
});

describe('newPart', () => {
  const table: [string, string, string, string][] = [
    ['nothing seen yet', '', 'abc', 'abc'],
    ['more output', 'line 1\n', 'line 1\nline 2\n', 'line 2\n'],
    ['nothing new', 'abc', 'abc', ''],
    ['the start cut off', 'aaaabbbb', 'bbbbcc', 'cc'],
    ['nothing in common', 'xyz', 'abc', 'abc'],
  ];
  for (const [what, seen, now, want] of table) it(what, () => assert.equal(newPart(seen, now), want));
});
