import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTangerineError, parseTaskSpec, type TaskState, type TaskView } from '@tangerine/contracts';
import { jobDetail, jobEntry, jobStatus, newJobId, scheduleToSpec, scheduled } from './job-scheduler.js';

const view = (over: Partial<TaskView> = {}, spec: Record<string, unknown> = {}): TaskView => ({
  name: 'xqKQiunYlaKrPhDSfj06tUzSvPiGJJ9G', state: 'ready', failures: 0, attempt: 0, reason: null, host: null, pending_dependencies: [],
  spec: parseTaskSpec({ name: 'xqKQiunYlaKrPhDSfj06tUzSvPiGJJ9G', image: 'alpine:latest', ...spec }),
  created_at: '2026-12-01T10:00:00.000Z', updated_at: '2026-12-01T10:00:01.000Z', next_run_at: null, retry_at: null, template: null, template_version: null, ...over,
});

describe('job-scheduler: POST /schedule as a task spec', () => {
  const cases: [string, unknown, Record<string, unknown>][] = [
    ['the README example', { docker_image: 'python:2.7-slim', schedule: '2026-12-01T10:06:00Z', env: ['key1=value', 'key2=value2'] },
      { name: 'ID', image: 'python:2.7-slim', schedule_at: '2026-12-01T10:06:00Z', env: ['key1=value', 'key2=value2'] }],
    ['with cmd, run by a shell', { docker_image: 'alpine:latest', schedule: '2016-11-22T19:39:22Z', env: ['key=value', 'key1=value=1'], cmd: 'sleep 60' },
      { name: 'ID', image: 'alpine:latest', schedule_at: '2016-11-22T19:39:22Z', env: ['key=value', 'key1=value=1'], command: 'sleep 60' }],
    ['a time without an offset is UTC', { docker_image: 'alpine', schedule: '2016-11-18T23:59:59' },
      { name: 'ID', image: 'alpine', schedule_at: '2016-11-18T23:59:59Z' }],
    ['an offset is kept', { docker_image: 'alpine', schedule: '2016-11-18T23:59:59+01:00' },
      { name: 'ID', image: 'alpine', schedule_at: '2016-11-18T23:59:59+01:00' }],
  ];
  for (const [what, body, spec] of cases) {
    it(what, () => {
      assert.deepEqual(scheduleToSpec(body, 'ID'), spec);
      const parsed = parseTaskSpec(scheduleToSpec(body, 'ID'));
      assert.equal(parsed.schedule_at, new Date(spec['schedule_at'] as string).toISOString());
    });
  }
  it('stores `key=value=1` as key → value=1 and cmd as sh -c', () => {
    const parsed = parseTaskSpec(scheduleToSpec({ docker_image: 'a', schedule: '2026-01-01T00:00:00Z', env: ['key1=value=1'], cmd: 'sleep 60' }, 'ID'));
    assert.deepEqual(parsed.env, { key1: 'value=1' });
    assert.deepEqual(parsed.command, ['sh', '-c', 'sleep 60']);
  });
  const bad: [string, unknown, string][] = [
    ['no schedule', { docker_image: 'a' }, 'schedule'],
    ['no image', { schedule: '2026-01-01T00:00:00Z' }, 'docker_image'],
    ['cmd not a string', { docker_image: 'a', schedule: '2026-01-01T00:00:00Z', cmd: ['ls'] }, 'cmd'],
    ['env not a list', { docker_image: 'a', schedule: '2026-01-01T00:00:00Z', env: 'a=b' }, 'env'],
    ['an unknown field', { docker_image: 'a', schedule: '2026-01-01T00:00:00Z', image: 'b' }, 'image'],
    ['not an object', [1], 'body'],
  ];
  for (const [what, body, field] of bad) {
    it(`refuses ${what}, naming ${field}`, () => {
      assert.throws(() => scheduleToSpec(body, 'ID'), (err: unknown) => isTangerineError(err) && err.field === field && err.message.startsWith(`${field}: `));
    });
  }
  it('answers as job-scheduler did', () => {
    assert.deepEqual(scheduled('abc'), { status: 'scheduled', message: 'job successfully scheduled', id: 'abc' });
  });
  it('makes ids of 32 letters and digits that are task names, each new', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newJobId()));
    assert.equal(ids.size, 100);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9]{32}$/);
  });
});

describe('job-scheduler: tasks as jobs', () => {
  const statuses: [TaskState, string][] = [
    ['waiting', 'scheduled'], ['scheduled', 'scheduled'], ['ready', 'scheduled'], ['placed', 'scheduled'], ['running', 'running'],
    ['success', 'finished'], ['failed', 'failed'], ['blocked', 'failed'], ['cancelled', 'failed'],
  ];
  for (const [state, status] of statuses) it(`${state} is ${status}`, () => assert.equal(jobStatus(state), status));

  it('lists a job by id, status and schedule (its creation when it has none)', () => {
    assert.deepEqual(jobEntry(view({ state: 'scheduled' }, { schedule_at: '2026-12-02T00:00:00Z' })), { status: 'scheduled', id: 'xqKQiunYlaKrPhDSfj06tUzSvPiGJJ9G', schedule: '2026-12-02T00:00:00.000Z' });
    assert.equal(jobEntry(view()).schedule, '2026-12-01T10:00:00.000Z');
  });
  it('details a finished job: its container, exit code, env and command', () => {
    const run = { attempt: 1, host: 'h1', exit_code: 3, reason: 'exit code 3', output: '', output_chars: 0, placed_at: null, started_at: null, finished_at: null };
    const d = jobDetail(view({ state: 'failed', attempt: 1, host: 'h1', runs: [run] }, { env: ['key1=value'], command: 'sleep 120' }), 'i-0bfe22184ff4c092c');
    assert.equal(d['status'], 'failed');
    assert.deepEqual(d['docker'], {
      container_id: 'tangerine-xqKQiunYlaKrPhDSfj06tUzSvPiGJJ9G-1', container_status: 'exited', environment: ['key1=value'], command: 'sleep 120',
      docker_image: 'alpine:latest', container_exit_code: 3,
    });
    assert.equal((d['aws'] as Record<string, unknown>)['instance_id'], 'i-0bfe22184ff4c092c');
  });
  it('details a job not started yet: no container, no host', () => {
    const d = jobDetail(view());
    assert.deepEqual(d['aws'], {});
    assert.equal((d['docker'] as Record<string, unknown>)['container_id'], '');
    assert.equal((d['docker'] as Record<string, unknown>)['container_exit_code'], '');
  });
});
