import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hideSecretValues, parseTaskSpec, type TaskSpec, type TaskState } from '@tangerine/contracts';
import { applyAction, sameSpec } from './compare.js';

/** What the ledger stores and tasks.get shows: the normalised spec, its secret values hidden. */
const stored = (doc: unknown, tz = 'UTC'): TaskSpec => hideSecretValues(parseTaskSpec(doc, { defaultTimezone: tz }));

describe('sameSpec', () => {
  const base = { name: 'report', executor: 'process', command: ['sh', '-c', 'echo hi'], env: { A: '1' } };
  const table: [string, unknown, TaskSpec, boolean][] = [
    ['the same document', base, stored(base), true],
    ['keys in another order', { env: { A: '1' }, command: ['sh', '-c', 'echo hi'], executor: 'process', name: 'report' }, stored(base), true],
    ['an alias of a field (environment as pairs)', { name: 'report', executor: 'process', command: ['sh', '-c', 'echo hi'], environment: [['A', '1']] }, stored(base), true],
    ['a command given as a string', { name: 'c', executor: 'process', command: 'sleep 1' }, stored({ name: 'c', executor: 'process', command: ['sh', '-c', 'sleep 1'] }), true],
    ['a default written out', { ...base, max_failures: stored(base).max_failures }, stored(base), true],
    ['another env value', { ...base, env: { A: '2' } }, stored(base), false],
    ['another command', { ...base, command: ['true'] }, stored(base), false],
    ['a dependency more', { ...base, dependencies: ['x'] }, stored(base), false],
    ['a secret value, shown as (secret) when stored', { ...base, secret_env: { TOKEN: 'abc' } }, stored({ ...base, secret_env: { TOKEN: 'abc' } }), true],
    ['a secret value changed alone is not seen', { ...base, secret_env: { TOKEN: 'new' } }, stored({ ...base, secret_env: { TOKEN: 'abc' } }), true],
    ['a secret added', { ...base, secret_env: { OTHER: 'x' } }, stored({ ...base, secret_env: { TOKEN: 'abc' } }), false],
    ['a cron task without a zone takes the stored one', { ...base, cron: '0 * * * *' }, stored({ ...base, cron: '0 * * * *' }, 'Europe/Paris'), true],
    ['a cron task naming another zone', { ...base, cron: '0 * * * *', timezone: 'UTC' }, stored({ ...base, cron: '0 * * * *' }, 'Europe/Paris'), false],
    ['a document that does not parse', { ...base, nonsense: 1 }, stored(base), false],
  ];
  for (const [what, doc, spec, want] of table) it(what, () => assert.equal(sameSpec(doc, spec), want));
});

describe('applyAction', () => {
  const doc = { name: 'a', executor: 'process', command: ['true'] };
  const table: [string, { spec: TaskSpec; state: TaskState } | null, string][] = [
    ['no task: create', null, 'create'],
    ['the same spec, running: unchanged', { spec: stored(doc), state: 'running' }, 'unchanged'],
    ['the same spec, finished: unchanged', { spec: stored(doc), state: 'success' }, 'unchanged'],
    ['another spec, finished: replace', { spec: stored({ ...doc, command: ['false'] }), state: 'failed' }, 'replace'],
    ['another spec, not finished: busy', { spec: stored({ ...doc, command: ['false'] }), state: 'ready' }, 'busy'],
  ];
  for (const [what, existing, want] of table) it(what, () => assert.equal(applyAction(doc, existing), want));
});
