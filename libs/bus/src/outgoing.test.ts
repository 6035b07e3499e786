// A type-level test as much as a run-time one: each `@ts-expect-error` line must fail to compile (tsc refuses the
// build if one compiles), so a payload can only go out on its own subject, with an id from DedupeIds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DedupeIds, Subjects, parseTaskSpec, type RunDispatch, type RunExited, type RunStarted } from '@tangerine/contracts';
import { eventMessage, hostEventMessage, outgoing, stopMessage, type Outgoing } from './publish.js';

const at = '2026-01-01T00:00:00.000Z';
const started: RunStarted = { name: 'a', attempt: 1, host: 'h1', run_id: 'pid:1', at };
const exited: RunExited = { name: 'a', attempt: 1, host: 'h1', exit_code: 0, reason: null, output: '', started_at: at, finished_at: at };
const dispatch: RunDispatch = { name: 'a', attempt: 1, host: 'h1', spec: parseTaskSpec({ name: 'a', executor: 'process', command: ['true'] }) };

describe('outgoing: a payload goes out on its own subject', () => {
  it('builds a message from a definition, a payload of its type and a dedupe id', () => {
    const m = outgoing(Subjects.runStarted.at('h1'), started, DedupeIds.started('s1', 'a', 1));
    assert.deepEqual([m.subject, m.data, m.msgId], [Subjects.runStarted.make('h1'), started, 'started:s1:a:1']);
    const run = outgoing(Subjects.agentRun.at('h1'), dispatch, DedupeIds.run('a', 1));
    assert.deepEqual([run.subject, run.msgId], [Subjects.agentRun.make('h1'), 'run:a:1']);
  });

  it('refuses, at compile time, a payload of another subject, a hand-made id or a hand-made message', () => {
    // @ts-expect-error an exit report is not what runs.started carries
    outgoing(Subjects.runStarted.at('h1'), exited, DedupeIds.started('s1', 'a', 1));
    // @ts-expect-error a start report is not what runs.exited carries
    outgoing(Subjects.runExited.at('h1'), started, DedupeIds.exited('s1', 'a', 1));
    // @ts-expect-error a dispatch is not a stop
    outgoing(Subjects.agentStop.at('h1'), dispatch, DedupeIds.stop('a', 1));
    // @ts-expect-error a family has no one subject: publish on one member (`.at(host)`)
    outgoing(Subjects.agentRun, dispatch, DedupeIds.run('a', 1));
    // @ts-expect-error a report goes out on its host's subject (`Subjects.runExited.at(host)`), never on one for all
    outgoing(Subjects.runExited, exited, DedupeIds.exited('s1', 'a', 1));
    // @ts-expect-error a dedupe id comes from DedupeIds, never a string made by hand
    outgoing(Subjects.runStarted.at('h1'), started, 'started:s1:a:1');
    // @ts-expect-error an Outgoing is only made by outgoing()
    const forged: Outgoing = { subject: Subjects.runExited.make('h1'), data: started, msgId: DedupeIds.exited('s1', 'a', 1) };
    assert.ok(forged);
  });

  it('builds the shared messages with their documented ids', () => {
    const event = {
      name: 'a', state: 'ready' as const, from: null, attempt: 0, failures: 0, version: 3, host: null, reason: null, exit_code: null, at,
    };
    assert.deepEqual([eventMessage(event).subject, eventMessage(event).msgId], [Subjects.events.make('a', 'ready'), 'a:3:ready']);
    const host = { host: 'h1', state: 'down' as const, from: 'up' as const, reason: null, at };
    assert.deepEqual([hostEventMessage(host).subject, hostEventMessage(host).msgId], [Subjects.hostEvents.make('h1', 'down'), `host:h1:down:${at}`]);
    const stop = stopMessage({ host: 'h1', name: 'a', attempt: 2 }, 'cancelled', DedupeIds.stop('a', 2));
    assert.deepEqual([stop.subject, stop.msgId, stop.data], [Subjects.agentStop.make('h1'), 'stop:a:2', { name: 'a', attempt: 2, host: 'h1', reason: 'cancelled' }]);
  });
});
