import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TangerineError } from '@tangerine/contracts';
import { describeError, disposition, type Disposition } from './disposition.js';

describe('disposition: wait out, try again, or set aside', () => {
  const cases: [string, unknown, Disposition][] = [
    ['the ledger is away', new TangerineError('ledger_unavailable', 'down'), 'outage'],
    ['NATS is away', new TangerineError('bus_unavailable', 'down'), 'outage'],
    ['a statement ran over its timeout', new TangerineError('ledger_timeout', 'slow'), 'retry'],
    ['a spec that breaks a rule', new TangerineError('invalid_spec', 'name: bad'), 'refuse'],
    ['a message that is not what its subject carries', new TangerineError('invalid_message', 'payload: bad'), 'refuse'],
    ['numeric value out of range (22003)', Object.assign(new Error('out of range'), { code: '22003' }), 'refuse'],
    ['unique violation (23505)', Object.assign(new Error('duplicate key'), { code: '23505' }), 'refuse'],
    ['undefined column (42703)', Object.assign(new Error('no such column'), { code: '42703' }), 'refuse'],
    ['deadlock detected (40P01)', Object.assign(new Error('deadlock'), { code: '40P01' }), 'retry'],
    ['out of memory in the server (53200)', Object.assign(new Error('out of memory'), { code: '53200' }), 'retry'],
    // The cause of issue #10's stall: an unforeseen error was taken for an outage and redelivered forever.
    ['a stack overflow', new RangeError('Maximum call stack size exceeded'), 'retry'],
    ['an error whose text reads like an outage is judged by its code, not its text', new Error('ECONNREFUSED timeout'), 'retry'],
    ['not even an Error', 'boom', 'retry'],
    ['null', null, 'retry'],
  ];
  for (const [label, err, expected] of cases) {
    it(`${label} → ${expected}`, () => assert.equal(disposition(err), expected));
  }
});

describe('describeError', () => {
  const cases: [string, unknown, string][] = [
    ['a coded error gives its message', new TangerineError('invalid_spec', 'name: bad'), 'name: bad'],
    ['another error class gives its name', new RangeError('Maximum call stack size exceeded'), 'RangeError: Maximum call stack size exceeded'],
    ['a plain Error gives its message', new Error('boom'), 'boom'],
    ['a string', 'boom', 'boom'],
  ];
  for (const [label, err, expected] of cases) it(label, () => assert.equal(describeError(err), expected));

  it('is bounded', () => {
    const text = describeError(new Error('x'.repeat(100_000)), 50);
    assert.equal(text.length, 50);
    assert.ok(text.endsWith('…'));
  });
});
