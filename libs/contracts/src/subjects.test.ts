import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DedupeIds } from './dedupe.js';
import { Streams, Subjects, subjectMatches, wildcardTokens } from './subjects.js';

describe('subjectMatches', () => {
  const cases: [string, string, boolean][] = [
    ['tasks.submit', 'tasks.submit', true],
    ['tasks.submit', 'tasks.submitted', false],
    ['tasks.submit', 'tasks', false],
    ['tasks.*', 'tasks.submit', true],
    ['tasks.*', 'tasks.events.a', false],
    ['tasks.events.>', 'tasks.events.a.ready', true],
    ['tasks.events.>', 'tasks.events', false],
    ['agents.*.run', 'agents.h1.run', true],
    ['agents.*.run', 'agents.h1.stop', false],
    ['agents.>', 'agents.h1', true],
    ['runs.>', 'tasks.runs', false],
  ];
  for (const [filter, subject, expected] of cases) {
    it(`${filter} ${expected ? 'takes' : 'does not take'} ${subject}`, () => assert.equal(subjectMatches(filter, subject), expected));
  }
});

describe('wildcardTokens', () => {
  const cases: [string, string, string[] | null][] = [
    ['runs.*.exited', 'runs.h1.exited', ['h1']],
    ['runs.*.exited', 'runs.exited', null],
    ['runs.*.exited', 'runs.h1.started', null],
    ['runs.*.exited', 'runs.h1.x.exited', null],
    ['hosts.announce.*', 'hosts.announce.h-2', ['h-2']],
    ['hosts.announce.*', 'hosts.announce', null],
    ['tasks.events.*.*', 'tasks.events.a.ready', ['a', 'ready']],
    ['tasks.events.>', 'tasks.events.a.ready', []],
    ['tasks.submit', 'tasks.submit', []],
  ];
  for (const [filter, subject, expected] of cases) {
    it(`${filter} on ${subject}: ${JSON.stringify(expected)}`, () => assert.deepEqual(wildcardTokens(filter, subject), expected));
  }

  it('a family reads its own members', () => {
    assert.deepEqual(Subjects.runExited.match(Subjects.runExited.make('h7')), ['h7']);
    assert.equal(Subjects.runExited.match(Subjects.runStarted.make('h7')), null);
    assert.deepEqual(Subjects.hostAnnounce.match(Subjects.hostAnnounce.make('h7')), ['h7']);
  });
});

describe('Subjects and Streams', () => {
  // Where each definition's messages go: a stream (JetStream, at least once) or none (core NATS, request/reply).
  const expected: Record<string, keyof typeof Streams | null> = {
    submit: 'commands', cancel: 'commands', rejected: 'events', events: 'events', agentRun: 'dispatch', agentStop: 'dispatch',
    runStarted: 'reports', runExited: 'reports', hostEvents: 'events', fleetEvents: 'events', deadLetters: 'dead',
    get: null, list: null, runs: null, output: null, hostAnnounce: null, hostsList: null, hostsDrain: null, hostsUndrain: null,
    templatePut: 'commands', templateEvents: 'events', scalingEvents: 'events', templateGet: null, templateList: null, liveOutput: 'output',
  };
  const sample = (d: (typeof Subjects)[keyof typeof Subjects]): string | null => {
    if (typeof d === 'function') return null;
    if ('subject' in d) return d.subject;
    return (d.make as (...a: string[]) => string)('x', 'success');
  };

  it('names every definition in this table', () => {
    const defined = Object.entries(Subjects).filter(([, d]) => typeof d !== 'function').map(([k]) => k).sort();
    assert.deepEqual(defined, Object.keys(expected).sort());
  });
  for (const [key, stream] of Object.entries(expected)) {
    it(`${key} is kept by ${stream ?? 'no stream'}`, () => {
      const subject = sample(Subjects[key as keyof typeof Subjects])!;
      const takers = Object.entries(Streams).filter(([, s]) => s.subjects.some((f) => subjectMatches(f, subject))).map(([k]) => k);
      // A request subject kept by a stream would be answered by JetStream's ack, not by its service.
      assert.deepEqual(takers, stream ? [stream] : []);
    });
  }

  it('a family makes subjects its wildcard takes, and its members parse with its schema', () => {
    for (const d of [
      Subjects.events, Subjects.agentRun, Subjects.agentStop, Subjects.runStarted, Subjects.runExited, Subjects.hostAnnounce, Subjects.hostEvents,
      Subjects.fleetEvents, Subjects.deadLetters, Subjects.templateEvents, Subjects.liveOutput, Subjects.scalingEvents,
    ]) {
      const made = (d.make as (...a: string[]) => string)('x', 'success');
      assert.ok(subjectMatches(d.wildcard, made), `${d.wildcard} takes ${made}`);
      const member = (d.at as (...a: string[]) => { subject: string; parse: unknown; schema: unknown })('x', 'success');
      assert.equal(member.subject, made);
      assert.equal(member.parse, d.parse);
      assert.equal(member.schema, d.schema);
    }
    assert.ok(subjectMatches(Subjects.events.wildcard, Subjects.eventsInState('failed').replace('*', 'a')));
    assert.ok(subjectMatches(Subjects.agentAll('h1'), Subjects.agentStop.make('h1')));
    assert.ok(subjectMatches(Subjects.liveOutputAll('h1'), Subjects.liveOutput.make('h1', 't1', 2)));
    assert.ok(subjectMatches(Subjects.liveOutput.make('*', 't1', 2), Subjects.liveOutput.make('h1', 't1', 2)));
  });

  it('a request with `empty` parses it', () => {
    assert.deepEqual(Subjects.list.parse(Subjects.list.empty), {});
    assert.equal(Subjects.get.empty, undefined);
  });
});

describe('DedupeIds', () => {
  const at = '2026-01-01T00:00:00.000Z';
  const cases: [string, string, string][] = [
    // The README's Subjects table documents this one.
    ['a task event', DedupeIds.event({ name: 'a', version: 7, state: 'ready' }), 'a:7:ready'],
    ['a dispatch', DedupeIds.run('a', 2), 'run:a:2'],
    ['a cancel stop', DedupeIds.stop('a', 2), 'stop:a:2'],
    ['a stale run stop', DedupeIds.stale('h1', 'a', 2), 'stale:h1:a:2'],
    ['a start report', DedupeIds.started('5f3a', 'a', 2), 'started:5f3a:a:2'],
    ['an exit report', DedupeIds.exited('5f3a', 'a', 2), 'exited:5f3a:a:2'],
    ['a host event', DedupeIds.host({ host: 'h1', state: 'down', at }), `host:h1:down:${at}`],
    ['a fleet event', DedupeIds.fleet({ kind: 'silence_cleared', at }), `fleet:silence_cleared:${at}`],
    ['a dead letter', DedupeIds.dead('TANGERINE_REPORTS', 9), 'dead:TANGERINE_REPORTS:9'],
    ['a rejection', DedupeIds.rejection(12), 'reject:12'],
    ['a rejection of one spec of a list', DedupeIds.rejection('12:3'), 'reject:12:3'],
    ['the answer to a templates.put', DedupeIds.template(12), 'template:12'],
    ['a scaling drain', DedupeIds.scaling({ provider: 'local', kind: 'drain', host: 'h1', at }), `scaling:local:drain:h1:${at}`],
    ['a scaling target', DedupeIds.scaling({ provider: 'local', kind: 'target', at }), `scaling:local:target::${at}`],
  ];
  for (const [label, id, expected] of cases) it(`${label}: ${expected}`, () => assert.equal(id, expected));
});
