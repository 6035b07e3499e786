import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseReply } from './client.js';
import { InvalidReplyError, ServerError } from './errors.js';
import { Calls, kindOf, subjectMatches, taskEventsOf } from './wire.js';

const enc = new TextEncoder();

describe('subjectMatches', () => {
  const cases: [pattern: string, subject: string, expected: boolean][] = [
    ['tasks.events.>', 'tasks.events.a.ready', true],
    ['tasks.events.>', 'tasks.events', false],
    ['tasks.events.a.*', 'tasks.events.a.ready', true],
    ['tasks.events.a.*', 'tasks.events.ab.ready', false],
    ['tasks.events.a.*', 'tasks.events.a.ready.x', false],
    ['tasks.rejected', 'tasks.rejected', true],
    ['tasks.rejected', 'tasks.rejected.x', false],
    ['hosts.events.>', 'tasks.events.a.ready', false],
  ];
  for (const [pattern, subject, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${subject}`, () => assert.equal(subjectMatches(pattern, subject), expected));
  }
});

describe('kindOf', () => {
  const cases: [string, string | null][] = [
    ['tasks.events.a.success', 'task'],
    ['tasks.rejected', 'rejection'],
    ['hosts.events.h1.down', 'host'],
    ['fleet.events.silence_suspected', 'fleet'],
    ['tasks.submit', null],
  ];
  for (const [subject, kind] of cases) it(`${subject} is ${String(kind)}`, () => assert.equal(kindOf(subject), kind));
  it('one task’s events are its name with a wildcard state', () => {
    assert.equal(subjectMatches(taskEventsOf('build-1'), 'tasks.events.build-1.running'), true);
    assert.equal(subjectMatches(taskEventsOf('build-1'), 'tasks.events.build-10.running'), false);
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
