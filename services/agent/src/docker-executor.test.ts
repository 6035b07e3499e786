import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTaskSpec } from '@tangerine/contracts';
import { LABELS, containerLabels, dockerTime, runOfLabels } from './docker-executor.js';

const dispatch = (extra: Record<string, unknown> = {}) =>
  ({ name: 't', attempt: 3, host: 'h-1', spec: parseTaskSpec({ name: 't', image: 'busybox', command: ['true'], ...extra }) });

describe('docker executor labels: what a new agent reads to adopt a container', () => {
  it('names the task, attempt and host, and no timeout when the spec sets none', () => {
    assert.deepEqual(containerLabels(dispatch()), { 'tangerine.task': 't', 'tangerine.attempt': '3', 'tangerine.host': 'h-1' });
  });

  it('carries the timeout in seconds when set', () => {
    assert.equal(containerLabels(dispatch({ timeout: 2.5 }))[LABELS.timeout], '2.5');
  });

  it('reads back what it wrote', () => {
    assert.deepEqual(runOfLabels(containerLabels(dispatch())), { name: 't', attempt: 3, timeout: null });
    assert.deepEqual(runOfLabels(containerLabels(dispatch({ timeout: 60 }))), { name: 't', attempt: 3, timeout: 60 });
  });

  it('refuses labels that name no task or no attempt, and ignores a timeout it cannot read', () => {
    assert.equal(runOfLabels({ 'tangerine.host': 'h-1' }), null);
    assert.equal(runOfLabels({ 'tangerine.task': 't', 'tangerine.attempt': 'x' }), null);
    assert.equal(runOfLabels({ 'tangerine.task': 't', 'tangerine.attempt': '0' }), null);
    assert.equal(runOfLabels({ 'tangerine.task': 't', 'tangerine.attempt': '1.5' }), null);
    assert.deepEqual(runOfLabels({ 'tangerine.task': 't', 'tangerine.attempt': '1', 'tangerine.timeout': 'soon' }), { name: 't', attempt: 1, timeout: null });
    assert.deepEqual(runOfLabels({ 'tangerine.task': 't', 'tangerine.attempt': '1', 'tangerine.timeout': '-4' }), { name: 't', attempt: 1, timeout: null });
  });
});

describe('dockerTime', () => {
  it('reads nanosecond times to the millisecond', () => {
    assert.equal(dockerTime('2026-03-01T10:20:30.123456789Z'), '2026-03-01T10:20:30.123Z');
  });

  it('gives null for a container that never started, and for nothing', () => {
    assert.equal(dockerTime('0001-01-01T00:00:00Z'), null);
    assert.equal(dockerTime(''), null);
    assert.equal(dockerTime(undefined), null);
    assert.equal(dockerTime('garbage'), null);
  });
});
