import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideAfterExit, decideAfterExitZero, decideAfterRun, retryDelay, type AfterRun, type AfterRunInput, type RetryDecision, type RetryInput,
  type RunEnd,
} from './retry.js';

function input(overrides: Partial<RetryInput>): RetryInput {
  return { exit_code: 1, restartable: true, recoverable_exitcodes: [1], max_failures: 3, failures: 0, retry_delay: 0, ...overrides };
}

describe('decideAfterExit: decision table', () => {
  const table: [string, Partial<RetryInput>, RetryDecision][] = [
    ['exit 0 is success', { exit_code: 0 }, { state: 'success', failures: 0, reason: null }],
    ['exit 0 keeps the failures counted before', { exit_code: 0, failures: 2 }, { state: 'success', failures: 2, reason: null }],
    ['exit 0 is success even when not restartable', { exit_code: 0, restartable: false, recoverable_exitcodes: [] },
      { state: 'success', failures: 0, reason: null }],
    ['recoverable, first failure', { exit_code: 1, failures: 0 },
      { state: 'ready', failures: 1, reason: 'exit code 1 is recoverable; retry 2 of 3', delay: 0 }],
    ['recoverable, second failure', { exit_code: 1, failures: 1 },
      { state: 'ready', failures: 2, reason: 'exit code 1 is recoverable; retry 3 of 3', delay: 0 }],
    ['recoverable, failure reaching the limit', { exit_code: 1, failures: 2 },
      { state: 'failed', failures: 3, reason: 'exit code 1; max_failures (3) reached' }],
    ['recoverable, already past the limit', { exit_code: 1, failures: 5 },
      { state: 'failed', failures: 6, reason: 'exit code 1; max_failures (3) reached' }],
    ['one of several recoverable codes', { exit_code: 75, recoverable_exitcodes: [1, 75, 255] },
      { state: 'ready', failures: 1, reason: 'exit code 75 is recoverable; retry 2 of 3', delay: 0 }],
    ['not recoverable', { exit_code: 2, recoverable_exitcodes: [1] },
      { state: 'failed', failures: 1, reason: 'exit code 2 is not in recoverable_exitcodes' }],
    ['no recoverable codes at all', { exit_code: 1, recoverable_exitcodes: [] },
      { state: 'failed', failures: 1, reason: 'exit code 1 is not in recoverable_exitcodes' }],
    ['negative exit code (signal)', { exit_code: -1, recoverable_exitcodes: [1] },
      { state: 'failed', failures: 1, reason: 'exit code -1 is not in recoverable_exitcodes' }],
    ['not restartable, even with a recoverable code', { exit_code: 1, restartable: false },
      { state: 'failed', failures: 1, reason: 'exit code 1; the task is not restartable' }],
    ['not restartable, counts on top of earlier failures', { exit_code: 9, restartable: false, failures: 2 },
      { state: 'failed', failures: 3, reason: 'exit code 9; the task is not restartable' }],
    ['null exit code, restartable', { exit_code: null },
      { state: 'failed', failures: 1, reason: 'no exit code (the run did not start) is not in recoverable_exitcodes' }],
    ['null exit code, not restartable', { exit_code: null, restartable: false },
      { state: 'failed', failures: 1, reason: 'no exit code (the run did not start); the task is not restartable' }],
    ['max_failures 1 allows no retry', { exit_code: 1, max_failures: 1 },
      { state: 'failed', failures: 1, reason: 'exit code 1; max_failures (1) reached' }],
    ['max_failures 2, first failure', { exit_code: 1, max_failures: 2 },
      { state: 'ready', failures: 1, reason: 'exit code 1 is recoverable; retry 2 of 2', delay: 0 }],
  ];
  for (const [label, overrides, expected] of table) {
    it(label, () => assert.deepEqual(decideAfterExit(input(overrides)), expected));
  }

  it('does not change its input', () => {
    const given = input({ failures: 1 });
    const copy = structuredClone(given);
    decideAfterExit(given);
    assert.deepEqual(given, copy);
  });
});

describe('decideAfterExit: a code that always recurs', () => {
  /** Runs the task until the decision is not `ready`, feeding back the failure count; returns runs and the end. */
  function simulate(maxFailures: number, exitCode: number): { runs: number; last: RetryDecision } {
    let failures = 0;
    let runs = 0;
    for (;;) {
      runs += 1;
      const last = decideAfterExit({ exit_code: exitCode, restartable: true, recoverable_exitcodes: [exitCode], max_failures: maxFailures, failures });
      if (last.state !== 'ready') return { runs, last };
      failures = last.failures;
      assert.ok(runs < 10_000, 'the retry loop never ends');
    }
  }

  it('max_failures 2 gives two runs, then failed with failures 2', () => {
    const { runs, last } = simulate(2, 3);
    assert.equal(runs, 2);
    assert.deepEqual(last, { state: 'failed', failures: 2, reason: 'exit code 3; max_failures (2) reached' });
  });

  for (const max of [1, 3, 7, 1000]) {
    it(`max_failures ${max} gives ${max} runs`, () => {
      const { runs, last } = simulate(max, 42);
      assert.equal(runs, max);
      assert.equal(last.state, 'failed');
      assert.equal(last.failures, max);
    });
  }
});

describe('retryDelay: the backoff before a retry', () => {
  const table: [string, [number, number?, number?], number][] = [
    ['the first failure waits the default 1 s', [1], 1],
    ['the second 2 s', [2], 2],
    ['the fifth 16 s', [5], 16],
    ['the tenth is capped at the default 300 s', [10], 300],
    ['a thousandth failure stays at the cap', [1000], 300],
    ['retry_delay 10: 10, 20, 40', [3, 10], 40],
    ['retry_max_delay caps it', [3, 10, 25], 25],
    ['retry_delay 0 retries at once', [4, 0], 0],
    ['no failure, no wait', [0, 5], 0],
    ['fractions of a second', [2, 0.25], 0.5],
  ];
  for (const [label, args, expected] of table) it(label, () => assert.equal(retryDelay(...args), expected));
});

describe('decideAfterExit: a retry carries its backoff', () => {
  const table: [string, Partial<RetryInput>, RetryDecision][] = [
    ['the default backoff, first failure', { retry_delay: undefined },
      { state: 'ready', failures: 1, reason: 'exit code 1 is recoverable; retry 2 of 3 in 1 s', delay: 1 }],
    ['retry_delay 5, second failure', { retry_delay: 5, failures: 1 },
      { state: 'ready', failures: 2, reason: 'exit code 1 is recoverable; retry 3 of 3 in 10 s', delay: 10 }],
    ['capped by retry_max_delay', { retry_delay: 5, retry_max_delay: 7, failures: 1 },
      { state: 'ready', failures: 2, reason: 'exit code 1 is recoverable; retry 3 of 3 in 7 s', delay: 7 }],
  ];
  for (const [label, overrides, expected] of table) it(label, () => assert.deepEqual(decideAfterExit(input(overrides)), expected));
});

describe('decideAfterRun: what follows a run, exits and lost runs, cron or not', () => {
  const task = (overrides: Partial<AfterRunInput>): AfterRunInput => ({
    restartable: true, recoverable_exitcodes: [1], max_failures: 3, failures: 0, retry_delay: 0, cron: false, ...overrides,
  });
  const lost: RunEnd = { lost: true };
  const table: [string, RunEnd, Partial<AfterRunInput>, AfterRun][] = [
    ['exit 0', { exit_code: 0 }, {}, { outcome: 'success', state: 'success', failures: 0, reason: null, delay: 0 }],
    ['exit 0 keeps the count and drops the agent\'s reason', { exit_code: 0, reason: 'timeout' }, { failures: 2 },
      { outcome: 'success', state: 'success', failures: 2, reason: null, delay: 0 }],
    ['exit 0 of a cron task: scheduled, no reason', { exit_code: 0 }, { cron: true },
      { outcome: 'success', state: 'scheduled', failures: 0, reason: null, delay: 0 }],
    ['a recoverable exit: ready again, with its backoff', { exit_code: 1 }, { retry_delay: 2 },
      { outcome: 'ready', state: 'ready', failures: 1, reason: 'exit code 1 is recoverable; retry 2 of 3 in 2 s', delay: 2 }],
    ['a recoverable exit of a cron task still retries', { exit_code: 1 }, { cron: true },
      { outcome: 'ready', state: 'ready', failures: 1, reason: 'exit code 1 is recoverable; retry 2 of 3', delay: 0 }],
    ['a failed exit', { exit_code: 2 }, {},
      { outcome: 'failed', state: 'failed', failures: 1, reason: 'exit code 2 is not in recoverable_exitcodes', delay: 0 }],
    ['a failed exit, with the agent\'s reason first', { exit_code: 137, reason: 'timeout after 5 s' }, { restartable: false },
      { outcome: 'failed', state: 'failed', failures: 1, reason: 'timeout after 5 s; exit code 137; the task is not restartable', delay: 0 }],
    ['a failed exit of a cron task: scheduled, the failure kept in the reason', { exit_code: 2 }, { cron: true },
      { outcome: 'failed', state: 'scheduled', failures: 1, reason: 'last run failed: exit code 2 is not in recoverable_exitcodes', delay: 0 }],
    ['the last failure max_failures allows', { exit_code: 1 }, { failures: 2 },
      { outcome: 'failed', state: 'failed', failures: 3, reason: 'exit code 1; max_failures (3) reached', delay: 0 }],
    ['lost, restartable: ready at once, no failure counted', lost, { failures: 1, retry_delay: 5 },
      { outcome: 'ready', state: 'ready', failures: 1, reason: null, delay: 0 }],
    ['lost, restartable cron task: ready too', lost, { cron: true }, { outcome: 'ready', state: 'ready', failures: 0, reason: null, delay: 0 }],
    ['lost, not restartable: failed, no failure counted', lost, { restartable: false, failures: 1 },
      { outcome: 'failed', state: 'failed', failures: 1, reason: null, delay: 0 }],
    ['lost, not restartable cron task: scheduled', lost, { restartable: false, cron: true },
      { outcome: 'failed', state: 'scheduled', failures: 0, reason: null, delay: 0 }],
    ['lost, whatever its recoverable codes and max_failures', lost, { recoverable_exitcodes: [], max_failures: 1, failures: 7 },
      { outcome: 'ready', state: 'ready', failures: 7, reason: null, delay: 0 }],
  ];
  for (const [label, end, overrides, expected] of table) {
    it(label, () => assert.deepEqual(decideAfterRun(end, task(overrides)), expected));
  }

  it('an exit follows decideAfterExit, with only the cron step and the agent\'s reason added', () => {
    for (const exit_code of [0, 1, 2, 75, null]) {
      for (const restartable of [true, false]) {
        for (const failures of [0, 1, 2, 3]) {
          const t = task({ restartable, failures, recoverable_exitcodes: [1, 75], retry_delay: 1 });
          const d = decideAfterExit({ ...t, exit_code });
          const after = decideAfterRun({ exit_code }, t);
          assert.deepEqual([after.outcome, after.state, after.failures, after.reason, after.delay],
            [d.state, d.state, d.failures, d.reason, d.state === 'ready' ? d.delay : 0], JSON.stringify({ exit_code, restartable, failures }));
        }
      }
    }
  });
});

describe('decideAfterExitZero: an exit 0 needs nothing of the task but whether it is a cron task', () => {
  // The ledger records a batch of exits 0 in one statement without reading their tasks: it relies on this.
  for (const cron of [false, true]) {
    it(cron ? 'a cron task' : 'any other task', () => {
      const zero = decideAfterExitZero(cron);
      let compared = 0;
      for (const restartable of [true, false]) {
        for (const recoverable_exitcodes of [[], [0], [1, 2]]) {
          for (const max_failures of [1, 3]) {
            for (const failures of [0, 1, 5]) {
              for (const retry_delay of [undefined, 0, 10]) {
                const d = decideAfterRun({ exit_code: 0 }, { cron, restartable, recoverable_exitcodes, max_failures, failures, retry_delay });
                assert.deepEqual({ ...d, failures: d.failures - failures }, zero);
                compared += 1;
              }
            }
          }
        }
      }
      assert.equal(compared, 108);
    });
  }

  it('the two answers differ in the state only', () => {
    const { state: plain, ...restPlain } = decideAfterExitZero(false);
    const { state: cron, ...restCron } = decideAfterExitZero(true);
    assert.deepEqual([plain, cron], ['success', 'scheduled']);
    assert.deepEqual(restPlain, restCron);
  });
});
