import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TangerineError } from '@tangerine/contracts';
import { isPassing } from './consume.js';

describe('isPassing: redeliver, or terminate the message', () => {
  const cases: [string, unknown, boolean][] = [
    ['the ledger is away', new TangerineError('ledger_unavailable', 'down'), true],
    ['NATS is away', new TangerineError('bus_unavailable', 'down'), true],
    ['a spec that breaks a rule', new TangerineError('invalid_spec', 'name: bad'), false],
    ['numeric value out of range (22003)', Object.assign(new Error('out of range'), { code: '22003' }), false],
    ['unique violation (23505)', Object.assign(new Error('duplicate key'), { code: '23505' }), false],
    ['undefined column (42703)', Object.assign(new Error('no such column'), { code: '42703' }), false],
    ['deadlock detected (40P01)', Object.assign(new Error('deadlock'), { code: '40P01' }), true],
    ['a connection reset', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), true],
    ['a publish timeout', new Error('TIMEOUT'), true],
    ['not even an Error', 'boom', true],
  ];
  for (const [label, err, passing] of cases) {
    it(`${label} → ${passing ? 'redeliver' : 'terminate'}`, () => assert.equal(isPassing(err), passing));
  }
});
