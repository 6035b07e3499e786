import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, DrainingConnectionError, TimeoutError as NatsTimeoutError } from '@nats-io/transport-node';
import { LedgerRefusedError, OutageError, RowError, TimeoutError, UnprocessableError, ValidationError } from '@tangerine/contracts';
import { describeError, disposition, type Disposition } from './disposition.js';

describe('disposition: wait out, try again, or set aside', () => {
  const cases: [string, unknown, Disposition][] = [
    ['the ledger is away', new OutageError('ledger_unavailable', 'down'), 'outage'],
    ['NATS is away', new OutageError('bus_unavailable', 'down'), 'outage'],
    ['a statement ran over its timeout', new TimeoutError('ledger_timeout', 'slow'), 'retry'],
    ['a spec that breaks a rule', new ValidationError('invalid_spec', 'name: bad'), 'refuse'],
    ['a message that is not what its subject carries', new ValidationError('invalid_message', 'payload: bad'), 'refuse'],
    ['a refusal of the ledger', new LedgerRefusedError('23505', 'the ledger refused a statement'), 'refuse'],
    ['a message set aside', new UnprocessableError('spec: failed'), 'refuse'],
    ['a ledger row that does not parse', new RowError('tasks.spec.image: must be a string', { field: 'tasks.spec.image' }), 'refuse'],
    ['the NATS client closed its connection', new ClosedConnectionError(), 'outage'],
    ['the NATS client is draining', new DrainingConnectionError(), 'outage'],
    ['a NATS request went unanswered', new NatsTimeoutError(), 'outage'],
    ['a JetStream refusal is not an outage', new JetStreamApiError({ code: 404, err_code: 10059, description: 'stream not found' }), 'retry'],
    ['numeric value out of range (22003)', Object.assign(new Error('out of range'), { code: '22003' }), 'refuse'],
    ['unique violation (23505)', Object.assign(new Error('duplicate key'), { code: '23505' }), 'refuse'],
    ['undefined column (42703)', Object.assign(new Error('no such column'), { code: '42703' }), 'refuse'],
    ['deadlock detected (40P01)', Object.assign(new Error('deadlock'), { code: '40P01' }), 'retry'],
    ['out of memory in the server (53200)', Object.assign(new Error('out of memory'), { code: '53200' }), 'retry'],
    // The cause of issue #10's stall: an unforeseen error was taken for an outage and redelivered forever.
    ['a stack overflow', new RangeError('Maximum call stack size exceeded'), 'retry'],
    ['an error whose text reads like an outage is judged by its code, not its text', new Error('ECONNREFUSED timeout'), 'retry'],
    ['an error named like a Tangerine error, without its brand, is unknown', Object.assign(new Error('down'), { name: 'OutageError', code: 'ledger_unavailable' }), 'retry'],
    ['not even an Error', 'boom', 'retry'],
    ['null', null, 'retry'],
  ];
  for (const [label, err, expected] of cases) {
    it(`${label} → ${expected}`, () => assert.equal(disposition(err), expected));
  }
});

describe('describeError', () => {
  const cases: [string, unknown, string][] = [
    ['a coded error gives its message', new ValidationError('invalid_spec', 'name: bad'), 'name: bad'],
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
