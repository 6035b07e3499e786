import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClosedConnectionError, NoRespondersError as NatsNoResponders, RequestError, TimeoutError } from '@nats-io/transport-node';
import { Subjects } from '@tangerine/contracts';
import { ConnectionClosedError, NoRespondersError, RequestTimeoutError, ServerError, fromNatsError, isTransient } from './errors.js';

const GET = Subjects.get.subject;

describe('fromNatsError', () => {
  const cases: [what: string, err: Error, kind: string][] = [
    ['a timeout', new TimeoutError(), 'timeout'],
    ['a request error caused by a timeout', new RequestError('timeout', { cause: new TimeoutError() }), 'timeout'],
    ['no responders', new RequestError('no responders', { cause: new NatsNoResponders(GET) }), 'no_responders'],
    ['a closed connection', new ClosedConnectionError(), 'connection_closed'],
  ];
  for (const [what, err, code] of cases) {
    it(`maps ${what} to ${code}, by class, with the subject and the cause`, () => {
      const e = fromNatsError(err, GET, 250) as RequestTimeoutError | NoRespondersError | ConnectionClosedError;
      assert.equal(e.code, code);
      assert.equal(e.subject, GET);
      assert.equal(e.cause, err);
    });
  }
  it('keeps any other error as it is', () => {
    const err = new Error('other');
    assert.equal(fromNatsError(err, GET, 250), err);
  });
  it('says how long the timeout was', () => {
    assert.match((fromNatsError(new TimeoutError(), Subjects.list.subject, 250) as Error).message, /tasks\.list: no reply within 250 ms/);
  });
});

describe('isTransient', () => {
  const cases: [what: string, err: unknown, expected: boolean][] = [
    ['a timeout', new RequestTimeoutError(1), true],
    ['no responders', new NoRespondersError(), true],
    ['a closed connection', new ConnectionClosedError(), false],
    ['the ledger away', new ServerError({ code: 'ledger_unavailable', message: 'x' }), true],
    ['a refusal', new ServerError({ code: 'not_found', message: 'x' }), false],
    ['an error of another library', new Error('x'), false],
  ];
  for (const [what, err, expected] of cases) it(`${what}: ${expected}`, () => assert.equal(isTransient(err), expected));
});
