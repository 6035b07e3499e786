import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subjects, isValidationError, parseTaskSpec } from '@tangerine/contracts';
import { readAgentMessage } from './messages.js';

const enc = new TextEncoder();
const spec = parseTaskSpec({ name: 'a', executor: 'process', command: ['true'] });
const msg = (subject: string, payload: unknown) => ({ subject, data: enc.encode(JSON.stringify(payload)) });

describe('readAgentMessage: only this host\'s runs and stops count', () => {
  const cases: [string, ReturnType<typeof msg>, string, unknown][] = [
    ['a dispatch for this host', msg(Subjects.agentRun.make('h1'), { name: 'a', attempt: 1, host: 'h1', spec }), 'run', null],
    ['a stop for this host', msg(Subjects.agentStop.make('h1'), { name: 'a', attempt: 1, host: 'h1', reason: 'cancelled' }), 'stop', null],
    ['a dispatch naming another host', msg(Subjects.agentRun.make('h1'), { name: 'a', attempt: 1, host: 'h2', spec }), 'foreign',
      { kind: 'foreign', what: 'run', name: 'a', attempt: 1, to: 'h2' }],
    ['a stop naming another host', msg(Subjects.agentStop.make('h1'), { name: 'a', attempt: 3, host: 'h2', reason: 'x' }), 'foreign',
      { kind: 'foreign', what: 'stop', name: 'a', attempt: 3, to: 'h2' }],
  ];
  for (const [label, m, kind, whole] of cases) {
    it(`${label}: ${kind}`, () => {
      const got = readAgentMessage(m, 'h1');
      assert.equal(got.kind, kind);
      if (whole !== null) assert.deepEqual(got, whole);
    });
  }

  const refused: [string, ReturnType<typeof msg>, string][] = [
    ['a stop without its host', msg(Subjects.agentStop.make('h1'), { name: 'a', attempt: 1, reason: 'x' }), 'host'],
    ['another host\'s subject', msg(Subjects.agentRun.make('h2'), { name: 'a', attempt: 1, host: 'h2', spec }), 'subject'],
  ];
  for (const [label, m, field] of refused) {
    it(`sets aside ${label}, naming ${field}`, () => {
      assert.throws(() => readAgentMessage(m, 'h1'), (e: unknown) => isValidationError(e) && (e as { field?: string }).field === field);
    });
  }
});
