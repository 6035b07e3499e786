import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunView, TaskState } from '@tangerine/contracts';
import { ExitCodes, exitCodeOf, exitWhenEnded, firstFailure } from './exit-codes.js';

const run = (exit_code: number | null): RunView => ({
  attempt: 1, host: 'h1', exit_code, reason: null, output: '', output_chars: 0, placed_at: null, started_at: null, finished_at: null,
});

describe('exitCodeOf', () => {
  const table: [string, TaskState, RunView[] | undefined, number | null][] = [
    ['success', 'success', [run(0)], 0],
    ['a failure passes its exit code', 'failed', [run(3)], 3],
    ['a timeout passes 124', 'failed', [run(124)], 124],
    ['the newest run decides', 'failed', [run(7), run(3)], 7],
    ['a failure with no exit code is 1', 'failed', [run(null)], ExitCodes.failed],
    ['a failure with no runs is 1', 'failed', [], ExitCodes.failed],
    ['a failure whose run exited 0 is 1', 'failed', [run(0)], ExitCodes.failed],
    ['blocked', 'blocked', undefined, ExitCodes.blocked],
    ['cancelled', 'cancelled', [run(null)], ExitCodes.cancelled],
    ['running has none yet', 'running', [run(null)], null],
    ['waiting has none yet', 'waiting', undefined, null],
    ['scheduled has none yet', 'scheduled', undefined, null],
  ];
  for (const [what, state, runs, want] of table) {
    it(what, () => assert.equal(exitCodeOf({ state, runs }), want));
  }

  it('keeps the CLI\'s codes apart from each other and from success', () => {
    const codes = [ExitCodes.ok, ExitCodes.failed, ExitCodes.usage, ExitCodes.rejected, ExitCodes.blocked, ExitCodes.cancelled, ExitCodes.unavailable];
    assert.equal(new Set(codes).size, codes.length);
  });
});

describe('firstFailure', () => {
  it('is 0 when every task succeeded', () => assert.equal(firstFailure([0, 0]), 0));
  it('is 0 for no tasks', () => assert.equal(firstFailure([]), 0));
  it('is the first code that is not 0', () => assert.equal(firstFailure([0, 66, 3]), 66));
});

describe('exitWhenEnded', () => {
  const ended = { ...run(4), finished_at: '2026-12-01T12:00:00Z' };
  const table: [string, Parameters<typeof exitWhenEnded>[0], number, number | null][] = [
    ['a finished task: its code', { state: 'failed', runs: [run(3)], attempt: 1, spec: { cron: null } }, 0, 3],
    ['a running task: none yet', { state: 'running', runs: [run(null)], attempt: 1, spec: { cron: null } }, 0, null],
    ['a task back to scheduled without cron: none', { state: 'scheduled', runs: [ended], attempt: 1, spec: { cron: null } }, 0, null],
    ['a cron task back to scheduled after a run: its code', { state: 'scheduled', runs: [ended], attempt: 1, spec: { cron: '* * * * *' } }, 0, 4],
    ['a cron task back to scheduled after a run that exited 0', { state: 'scheduled', runs: [{ ...ended, exit_code: 0 }], attempt: 2, spec: { cron: '* * * * *' } }, 1, 0],
    ['a cron task scheduled, no new run yet', { state: 'scheduled', runs: [ended], attempt: 1, spec: { cron: '* * * * *' } }, 1, null],
  ];
  for (const [what, task, since, want] of table) it(what, () => assert.equal(exitWhenEnded(task, since), want));
});
