import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthError, BusyError, ConflictError, ErrorCodes, InternalError, LedgerRefusedError, NotFoundError, OutageError, ReplyTooLargeError, RowError, StartupError,
  TimeoutError, UnprocessableError, ValidationError, errorOf, hasCode, isConflict, isNotFound, isOutage, isRowError, isTangerineError,
  isTimeout, isValidationError, type ErrorCode, type TangerineError,
} from './errors.js';
import type * as ErrorsModule from './errors.js';

describe('errors: one class per family, a stable code each', () => {
  const made: [TangerineError, ErrorCode, string][] = [
    [new ValidationError('invalid_spec', 'name: bad', { field: 'name' }), 'invalid_spec', 'ValidationError'],
    [new NotFoundError('name: no task named "x"', { field: 'name' }), 'not_found', 'NotFoundError'],
    [new ConflictError('duplicate_task', 'name: is running'), 'duplicate_task', 'ConflictError'],
    [new OutageError('ledger_unavailable', 'down'), 'ledger_unavailable', 'OutageError'],
    [new TimeoutError('ledger_timeout', 'slow'), 'ledger_timeout', 'TimeoutError'],
    [new LedgerRefusedError('23505', 'refused'), 'ledger_refused', 'LedgerRefusedError'],
    [new RowError('tasks.spec: bad', { field: 'tasks.spec' }), 'invalid_row', 'RowError'],
    [new ReplyTooLargeError('too large'), 'reply_too_large', 'ReplyTooLargeError'],
    [new UnprocessableError('failed'), 'unprocessable', 'UnprocessableError'],
    [new InternalError('oops'), 'internal', 'InternalError'],
    [new StartupError('config_invalid', 'X: bad', { field: 'X' }), 'config_invalid', 'StartupError'],
    [new AuthError('forbidden', 'token: may only read'), 'forbidden', 'AuthError'],
    [new BusyError('too_many_streams', 'full'), 'too_many_streams', 'BusyError'],
  ];
  for (const [err, code, name] of made) {
    it(`${name} carries ${code}, its family's retry and outage flags, and its name`, () => {
      assert.equal(err.code, code);
      assert.equal(err.name, name);
      assert.equal(err.family, ErrorCodes[code].family);
      assert.equal(err.retryable, ErrorCodes[code].retryable);
      assert.equal(err.outage, ErrorCodes[code].family === 'outage');
      assert.ok(isTangerineError(err));
      assert.ok(err instanceof Error);
    });
  }

  it('errorOf makes each code of its family\'s class', () => {
    for (const code of Object.keys(ErrorCodes) as ErrorCode[]) {
      const err = errorOf(code, 'm', { field: 'f' });
      assert.equal(err.code, code);
      assert.equal(err.family, ErrorCodes[code].family);
    }
  });

  it('the wire shape is {code, message, field?}, and the brand does not show in it', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(new ValidationError('invalid_spec', 'name: bad', { field: 'name' }))), { code: 'invalid_spec', message: 'name: bad', field: 'name' });
    assert.deepEqual(new NotFoundError('gone').toJSON(), { code: 'not_found', message: 'gone' });
    assert.deepEqual(Object.keys(new NotFoundError('gone')).includes('Symbol(tangerine.error)'), false);
  });

  it('the guards answer by family', () => {
    const table: [(e: unknown) => boolean, TangerineError, boolean][] = [
      [isOutage, new OutageError('bus_unavailable', 'x'), true],
      [isOutage, new TimeoutError('ledger_timeout', 'x'), false],
      [isValidationError, new ValidationError('invalid_message', 'x'), true],
      [isValidationError, new NotFoundError('x'), false],
      [isNotFound, new NotFoundError('x'), true],
      [isConflict, new ConflictError('not_cancellable', 'x'), true],
      [isConflict, new ValidationError('invalid_request', 'x'), false],
      [isTimeout, new TimeoutError('ledger_timeout', 'x'), true],
      [isRowError, new RowError('x', { field: 'tasks.spec' }), true],
    ];
    for (const [guard, err, expected] of table) assert.equal(guard(err), expected, `${guard.name}(${err.code})`);
    assert.ok(hasCode(new ConflictError('dependency_cycle', 'x'), 'duplicate_task', 'dependency_cycle'));
    assert.ok(!hasCode(new ConflictError('dependency_cycle', 'x'), 'duplicate_task'));
  });

  it('an error of another copy of the module passes every guard; a look-alike without the brand passes none', async () => {
    // A second instance of this very module, as a package installed twice would give.
    const other = (await import(`./errors.js?copy=${Date.now()}`)) as typeof ErrorsModule;
    const foreign = new other.OutageError('ledger_unavailable', 'down');
    assert.ok(!(foreign instanceof OutageError), 'really another copy');
    assert.ok(isTangerineError(foreign));
    assert.ok(isOutage(foreign));
    assert.ok(hasCode(foreign, 'ledger_unavailable'));
    const lookAlike = Object.assign(new Error('down'), { code: 'ledger_unavailable', outage: true, name: 'OutageError' });
    assert.ok(!isTangerineError(lookAlike));
    assert.ok(!isOutage(lookAlike));
    assert.ok(!isTangerineError(null) && !isTangerineError('ledger_unavailable') && !isTangerineError({ code: 'not_found' }));
  });
});
