import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, NotFoundError, OutageError, Subjects, ValidationError, type ErrorCode } from '@tangerine/contracts';
import { InvalidRequestError, NoRespondersError, NotStoredError, RequestTimeoutError, ServerError } from '@tangerine/client';
import { HTTP_STATUS, errorBody, statusOf, toTangerine } from './errors.js';

describe('HTTP status of every error code', () => {
  // Written out by hand, not derived: the table is the contract a client of the HTTP API relies on.
  const table: [ErrorCode, number][] = [
    ['invalid_json', 400], ['invalid_spec', 400], ['invalid_request', 400], ['invalid_template', 400], ['invalid_file', 400], ['invalid_message', 400],
    ['body_too_large', 413], ['unsupported_media_type', 415], ['method_not_allowed', 405],
    ['not_found', 404], ['template_not_found', 404], ['duplicate_task', 409], ['dependency_cycle', 409], ['not_cancellable', 409],
    ['unprocessable', 422], ['unauthorized', 401], ['forbidden', 403], ['too_many_streams', 503],
    ['reply_too_large', 500], ['ledger_unavailable', 503], ['bus_unavailable', 503], ['ledger_timeout', 504],
    ['ledger_refused', 500], ['invalid_row', 500], ['internal', 500], ['migration_too_new', 500], ['config_invalid', 500],
    ['bus_auth_failed', 500],
  ];
  for (const [code, status] of table) it(`${code} → ${status}`, () => assert.equal(statusOf(code), status));

  it('the table covers every code of the registry, and only those', () => {
    assert.deepEqual(table.map(([c]) => c).sort(), Object.keys(ErrorCodes).sort());
    assert.deepEqual(Object.keys(HTTP_STATUS).sort(), Object.keys(ErrorCodes).sort());
  });

  it('each family maps as a client expects: validation 4xx, outage 503, startup and internal 5xx', () => {
    for (const code of Object.keys(ErrorCodes) as ErrorCode[]) {
      const { family } = ErrorCodes[code];
      const s = statusOf(code);
      if (family === 'validation') assert.ok(s >= 400 && s < 500, code);
      if (family === 'outage') assert.equal(s, 503, code);
      if (family === 'internal' || family === 'startup' || family === 'stored' || family === 'refused') assert.equal(s, 500, code);
    }
  });
});

describe('toTangerine: what a caller is told of an error', () => {
  const cases: [string, unknown, ErrorCode, string | undefined, boolean][] = [
    ['a Tangerine error as it is', new NotFoundError('name: no task named "x"', { field: 'name' }), 'not_found', 'name', true],
    ['a server\'s error reply by its code', new ServerError({ code: 'not_found', message: 'host: no host "h"', field: 'host' }), 'not_found', 'host', true],
    ['a server\'s unknown code as internal', new ServerError({ code: 'from_the_future', message: 'x' }), 'internal', undefined, false],
    ['no responders as bus_unavailable', new NoRespondersError({ subject: Subjects.hostsList.subject }), 'bus_unavailable', undefined, true],
    ['a request timeout as bus_unavailable', new RequestTimeoutError(5000, { subject: Subjects.hostsList.subject }), 'bus_unavailable', undefined, true],
    ['a command not stored as bus_unavailable', new NotStoredError('no stream', { subject: Subjects.submit.subject }), 'bus_unavailable', undefined, true],
    ['a client-side request check as invalid_request', new InvalidRequestError('host', 'host: must match …'), 'invalid_request', 'host', true],
    ['Fastify\'s body limit', Object.assign(new Error('Request body is too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 'body_too_large', 'body', true],
    ['Fastify\'s media type', Object.assign(new Error('Unsupported Media Type'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 'unsupported_media_type', 'content-type', true],
    ['Fastify\'s bad JSON', Object.assign(new SyntaxError('Unexpected token'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), 'invalid_json', 'body', true],
    ['an error nobody foresaw as internal', new TypeError('cannot read x of undefined'), 'internal', undefined, false],
    ['a thrown string as internal', 'boom', 'internal', undefined, false],
  ];
  for (const [what, err, code, field, known] of cases) {
    it(what, () => {
      const t = toTangerine(err);
      assert.equal(t.error.code, code);
      assert.equal(t.error.field, field);
      assert.equal(t.known, known);
    });
  }

  it('an unknown error\'s details never reach the body', () => {
    const body = errorBody(toTangerine(new Error('password=hunter2 at db')).error);
    assert.equal(body.error.code, 'internal');
    assert.doesNotMatch(JSON.stringify(body), /hunter2/);
  });

  it('the body is {"error": {code, message, field}}', () => {
    assert.deepEqual(errorBody(new ValidationError('invalid_spec', 'image: is required', { field: 'image' })),
      { error: { code: 'invalid_spec', message: 'image: is required', field: 'image' } });
    assert.deepEqual(errorBody(new OutageError('bus_unavailable', 'down')), { error: { code: 'bus_unavailable', message: 'down' } });
  });
});
