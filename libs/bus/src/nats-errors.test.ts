import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError } from '@nats-io/transport-node';
import { TimeoutError } from '@tangerine/contracts';
import {
  isConsumerExists, isConsumerNotFound, isNatsConnectionError, isStreamNameInUse, isStreamNotFound, jetStreamCode,
} from './nats-errors.js';

const api = (err_code: number, description: string, code = 400): JetStreamApiError => new JetStreamApiError({ code, err_code, description });

describe('NATS errors by their codes', () => {
  it('reads the err_code of a JetStreamApiError, and of an ack error as it came on the wire', () => {
    assert.equal(jetStreamCode(api(10059, 'stream not found', 404)), 10059);
    assert.equal(jetStreamCode({ code: 503, err_code: 10077, description: 'maximum bytes exceeded' }), 10077);
    assert.equal(jetStreamCode(new Error('stream not found')), null);
    assert.equal(jetStreamCode('10059'), null);
  });

  const cases: [string, (e: unknown) => boolean, unknown, boolean][] = [
    ['stream not found', isStreamNotFound, api(10059, 'stream not found', 404), true],
    ['a consumer not found is not a stream not found', isStreamNotFound, api(10014, 'consumer not found', 404), false],
    ['words alone are not a code', isStreamNotFound, new Error('stream not found'), false],
    ['consumer not found', isConsumerNotFound, api(10014, 'consumer not found', 404), true],
    ['a stream not found is not a consumer not found', isConsumerNotFound, api(10059, 'stream not found', 404), false],
    ['stream name in use', isStreamNameInUse, api(10058, 'stream name already in use with a different configuration'), true],
    ['consumer name exists', isConsumerExists, api(10013, 'consumer name already in use'), true],
    ['consumer exists and is active', isConsumerExists, api(10105, 'consumer already exists and is still active'), true],
    ['consumer already exists (2.10)', isConsumerExists, api(10148, 'consumer already exists'), true],
    ['an "already in use" without its code', isConsumerExists, new Error('already in use'), false],
    ['a closed connection', isNatsConnectionError, new ClosedConnectionError(), true],
    ['a Tangerine timeout is not the client\'s', isNatsConnectionError, new TimeoutError('ledger_timeout', 'slow'), false],
    ['a JetStream refusal is not a connection error', isNatsConnectionError, api(10059, 'stream not found', 404), false],
  ];
  for (const [label, guard, err, expected] of cases) it(`${label} → ${expected}`, () => assert.equal(guard(err), expected));
});
