import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTangerineError, parseTaskSpec, type TaskState, type TaskView } from '@tangerine/contracts';
import { blanketState, blanketTask, blanketToSpec, newBlanketId } from './blanket.js';

describe('Blanket: POST /task/ as a task spec', () => {
  const file = { name: 'blanket.json', sha256: 'a'.repeat(64), size: 12 };
  const cases: [string, unknown, Record<string, unknown>][] = [
    ['the README example: values written as text', { type: 'bash_task', environment: { PANDAS: 'four', Frogs: 5, CATS: 2 } },
      { name: 'ID', template: 'bash_task', env: { PANDAS: 'four', Frogs: '5', CATS: '2' } }],
    ['a type alone', { type: 'python_hello' }, { name: 'ID', template: 'python_hello' }],
    ['a boolean', { type: 't', environment: { DEBUG: true } }, { name: 'ID', template: 't', env: { DEBUG: 'true' } }],
  ];
  for (const [what, body, spec] of cases) it(what, () => assert.deepEqual(blanketToSpec(body, 'ID'), spec));
  it('names the uploaded files', () => {
    assert.deepEqual(blanketToSpec({ type: 't' }, 'ID', [file]), { name: 'ID', template: 't', files: [file] });
  });
  const bad: [string, unknown, string][] = [
    ['no type', { environment: {} }, 'type'],
    ['a type that is not a string', { type: 5 }, 'type'],
    ['an environment that is a list', { type: 't', environment: ['a=b'] }, 'environment'],
    ['a value that is an object', { type: 't', environment: { A: { b: 1 } } }, 'environment.A'],
    ['an unknown field', { type: 't', image: 'x' }, 'image'],
    ['a list', [], 'body'],
  ];
  for (const [what, body, field] of bad) {
    it(`refuses ${what}, naming ${field}`, () => {
      assert.throws(() => blanketToSpec(body, 'ID'), (err: unknown) => isTangerineError(err) && err.field === field);
    });
  }
  it('makes UUIDs that are task names', () => {
    const id = newBlanketId();
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(parseTaskSpec({ name: id, image: 'x' }).name, id);
  });
});

describe('Blanket: tasks in its JSON', () => {
  const states: [TaskState, string][] = [
    ['waiting', 'WAIT'], ['scheduled', 'WAIT'], ['ready', 'WAIT'], ['placed', 'START'], ['running', 'RUN'], ['success', 'SUCCESS'],
    ['failed', 'ERROR'], ['blocked', 'ERROR'], ['cancelled', 'STOPPED'],
  ];
  for (const [state, shown] of states) it(`${state} is ${shown}`, () => assert.equal(blanketState(state), shown));

  it('shows id, type, state, env, tags and times in seconds', () => {
    const task = {
      name: 'b200f6de-0453-46c9-9c70-5dad63db3ebb', state: 'success', failures: 0, attempt: 1, reason: null, host: 'h1', pending_dependencies: [],
      spec: parseTaskSpec({ name: 'b200f6de-0453-46c9-9c70-5dad63db3ebb', executor: 'process', command: 'true', env: { CATS: '2' }, constraints: { bash: 'true', zone: 'a' } }),
      created_at: '2026-12-01T10:00:00.000Z', updated_at: '2026-12-01T10:00:05.500Z', next_run_at: null, retry_at: null, template: 'bash_task', template_version: 1,
      runs: [{ attempt: 1, host: 'h1', exit_code: 0, reason: null, output: '', output_chars: 0, placed_at: null, started_at: '2026-12-01T10:00:02.000Z', finished_at: null }],
    } satisfies TaskView;
    assert.deepEqual(blanketTask(task), {
      id: 'b200f6de-0453-46c9-9c70-5dad63db3ebb', createdTs: 1796119200, startedTs: 1796119202, lastUpdatedTs: 1796119205, type: 'bash_task',
      resultDir: '', state: 'SUCCESS', progress: 100, defaultEnv: { CATS: '2' }, tags: ['bash', 'zone=a'],
    });
  });
});
