import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReply } from './client.js';
import { InvalidReplyError, ServerError } from './errors.js';
import { Subjects } from '@tangerine/contracts';
import { Calls, kindOf, subjectMatches, taskEventsOf } from './wire.js';

const enc = new TextEncoder();

describe('kindOf', () => {
  // subjectMatches itself is tested in libs/contracts; the subjects come from the definitions.
  const cases: [string, string | null][] = [
    [Subjects.events.make('a', 'success'), 'task'],
    [Subjects.rejected.subject, 'rejection'],
    [Subjects.hostEvents.make('h1', 'down'), 'host'],
    [Subjects.fleetEvents.make('silence_suspected'), 'fleet'],
    [Subjects.submit.subject, null],
  ];
  for (const [subject, kind] of cases) it(`${subject} is ${String(kind)}`, () => assert.equal(kindOf(subject), kind));
  it('one task’s events are its name with a wildcard state', () => {
    assert.equal(subjectMatches(taskEventsOf('build-1'), Subjects.events.make('build-1', 'running')), true);
    assert.equal(subjectMatches(taskEventsOf('build-1'), Subjects.events.make('build-10', 'running')), false);
  });
});

describe('parseReply', () => {
  const output = Calls.output;
  it('returns a reply that matches its schema', () => {
    assert.deepEqual(parseReply(output, enc.encode('{"name":"a","attempt":1,"output":"hi"}')), { name: 'a', attempt: 1, output: 'hi' });
  });
  it('turns an error reply into a ServerError with its code, field and message', () => {
    const err = catchOf(() => parseReply(output, enc.encode('{"error":{"code":"not_found","field":"attempt","message":"attempt: no run 3"}}')));
    assert.ok(err instanceof ServerError);
    assert.equal(err.code, 'not_found');
    assert.equal(err.field, 'attempt');
    assert.equal(err.message, 'attempt: no run 3');
    assert.equal(err.subject, output.subject);
  });
  const bad: [what: string, body: string, field: string][] = [
    ['not JSON', '{"name":', 'reply'],
    ['a field of the wrong type', '{"name":"a","attempt":"1","output":"hi"}', 'attempt'],
    ['a field missing', '{"name":"a","attempt":1}', 'output'],
    ['an error reply without a code', '{"error":{"message":"x"}}', 'error.code'],
  ];
  for (const [what, body, field] of bad) {
    it(`refuses ${what} as an InvalidReplyError naming ${field}`, () => {
      const err = catchOf(() => parseReply(output, enc.encode(body)));
      assert.ok(err instanceof InvalidReplyError, String(err));
      assert.equal(err.code, 'invalid_reply');
      assert.equal(err.field, field);
    });
  }
});

function catchOf(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  assert.fail('no error thrown');
}
