import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskSpec, TaskState } from '@tangerine/contracts';
import {
  findPath, planSubmissions, type ExistingTask, type LedgerView, type PlannedTask, type Submission, type SubmissionPlan,
} from './plan-submissions.js';

function spec(name: string, dependencies: string[] = []): TaskSpec {
  return {
    name, executor: 'docker', image: 'alpine', command: [], entrypoint: null, env: {}, secret_env: {}, volumes: [], dependencies,
    restartable: true, recoverable_exitcodes: [], max_failures: 3, retry_delay: 1, retry_max_delay: 300, constraints: {}, cpu: null, memory: null,
    cron: null, timezone: null, concurrency: 'forbid', starting_deadline: 300, schedule_at: null, timeout: null,
  };
}

function sub(seq: number, name: string, dependencies: string[] = []): Submission {
  return { seq, spec: spec(name, dependencies) };
}

function view(parts: {
  existing?: Record<string, ExistingTask>;
  dependencyStates?: Record<string, TaskState>;
  edges?: Record<string, string[]>;
  dependedOn?: string[];
  now?: Date;
} = {}): LedgerView {
  return {
    existing: new Map(Object.entries(parts.existing ?? {})),
    dependencyStates: new Map(Object.entries(parts.dependencyStates ?? {})),
    edges: new Map(Object.entries(parts.edges ?? {})),
    dependedOn: new Set(parts.dependedOn ?? []),
    now: parts.now ?? NOW,
  };
}

const NOW = new Date('2026-11-22T12:00:00.000Z');

/** The parts of an accepted task worth comparing (spec is checked separately where it matters). */
function summary(t: PlannedTask): Omit<PlannedTask, 'spec' | 'next_run_at'> & { name: string } {
  return { name: t.spec.name, seq: t.seq, from: t.from, state: t.state, reason: t.reason, pending: t.pending, edges: t.edges };
}

function rejections(plan: SubmissionPlan): { seq: number; name: string; code: string; field: string | undefined; message: string }[] {
  return plan.reject.map((r) => ({ seq: r.seq, name: r.name, code: r.error.code, field: r.error.field, message: r.error.message }));
}

describe('planSubmissions: first state of a new task', () => {
  const cases: [string, Submission, LedgerView, Omit<PlannedTask, 'spec' | 'next_run_at'> & { name: string }][] = [
    ['no dependencies → ready', sub(1, 'a'), view(),
      { name: 'a', seq: 1, from: null, state: 'ready', reason: null, pending: 0, edges: [] }],
    ['dependencies not submitted yet → waiting with a pending count', sub(1, 'a', ['x', 'y']), view(),
      { name: 'a', seq: 1, from: null, state: 'waiting', reason: null, pending: 2,
        edges: [{ dependency: 'x', satisfied: false }, { dependency: 'y', satisfied: false }] }],
    ['a succeeded dependency is a satisfied edge', sub(1, 'a', ['x']), view({ dependencyStates: { x: 'success' } }),
      { name: 'a', seq: 1, from: null, state: 'ready', reason: null, pending: 0, edges: [{ dependency: 'x', satisfied: true }] }],
    ['one succeeded, one running → waiting on one', sub(1, 'a', ['x', 'y']),
      view({ dependencyStates: { x: 'success', y: 'running' } }),
      { name: 'a', seq: 1, from: null, state: 'waiting', reason: null, pending: 1,
        edges: [{ dependency: 'x', satisfied: true }, { dependency: 'y', satisfied: false }] }],
    ['dependency failed → blocked', sub(1, 'a', ['x']), view({ dependencyStates: { x: 'failed' } }),
      { name: 'a', seq: 1, from: null, state: 'blocked', reason: 'dependency x is failed', pending: 1,
        edges: [{ dependency: 'x', satisfied: false }] }],
    ['dependency blocked → blocked', sub(1, 'a', ['x']), view({ dependencyStates: { x: 'blocked' } }),
      { name: 'a', seq: 1, from: null, state: 'blocked', reason: 'dependency x is blocked', pending: 1,
        edges: [{ dependency: 'x', satisfied: false }] }],
    ['dependency cancelled → blocked', sub(1, 'a', ['x']), view({ dependencyStates: { x: 'cancelled' } }),
      { name: 'a', seq: 1, from: null, state: 'blocked', reason: 'dependency x is cancelled', pending: 1,
        edges: [{ dependency: 'x', satisfied: false }] }],
    ['the first blocking dependency is named', sub(1, 'a', ['ok', 'y', 'z']),
      view({ dependencyStates: { ok: 'success', y: 'cancelled', z: 'failed' } }),
      { name: 'a', seq: 1, from: null, state: 'blocked', reason: 'dependency y is cancelled', pending: 2,
        edges: [{ dependency: 'ok', satisfied: true }, { dependency: 'y', satisfied: false }, { dependency: 'z', satisfied: false }] }],
  ];
  for (const [label, submission, ledger, expected] of cases) {
    it(label, () => {
      const plan = planSubmissions([submission], ledger);
      assert.deepEqual(plan.reject, []);
      assert.deepEqual(plan.replay, []);
      assert.equal(plan.accept.length, 1);
      assert.deepEqual(summary(plan.accept[0]!), expected);
      assert.equal(plan.accept[0]!.spec, submission.spec);
    });
  }

  for (const state of ['waiting', 'ready', 'placed', 'running'] as const) {
    it(`a dependency that is ${state} leaves the task waiting`, () => {
      const plan = planSubmissions([sub(1, 'a', ['x'])], view({ dependencyStates: { x: state } }));
      assert.equal(plan.accept[0]?.state, 'waiting');
      assert.equal(plan.accept[0]?.pending, 1);
    });
  }
});

describe('planSubmissions: dependencies inside one batch', () => {
  it('a dependency planned earlier in the batch is seen in its planned state', () => {
    const plan = planSubmissions([sub(1, 'x'), sub(2, 'a', ['x'])], view());
    assert.deepEqual(plan.accept.map((t) => [t.spec.name, t.state, t.pending]), [['x', 'ready', 0], ['a', 'waiting', 1]]);
  });

  it('a dependency planned blocked in the batch blocks its dependant', () => {
    const plan = planSubmissions([sub(1, 'x', ['f']), sub(2, 'a', ['x'])], view({ dependencyStates: { f: 'failed' } }));
    assert.deepEqual(plan.accept.map((t) => [t.spec.name, t.state, t.reason]),
      [['x', 'blocked', 'dependency f is failed'], ['a', 'blocked', 'dependency x is blocked']]);
  });

  it('a failed dependency resubmitted earlier in the batch no longer blocks', () => {
    const plan = planSubmissions([sub(5, 'x'), sub(6, 'a', ['x'])], view({
      existing: { x: { state: 'failed', submit_seq: 1 } },
      dependencyStates: { x: 'failed' },
    }));
    assert.deepEqual(plan.accept.map((t) => [t.spec.name, t.from, t.state]), [['x', 'failed', 'ready'], ['a', null, 'waiting']]);
  });

  it('a succeeded dependency resubmitted earlier in the batch is pending again', () => {
    const plan = planSubmissions([sub(5, 'x'), sub(6, 'a', ['x'])], view({
      existing: { x: { state: 'success', submit_seq: 1 } },
      dependencyStates: { x: 'success' },
    }));
    assert.deepEqual(plan.accept[1]?.edges, [{ dependency: 'x', satisfied: false }]);
    assert.equal(plan.accept[1]?.state, 'waiting');
  });
});

describe('planSubmissions: duplicates, restarts and redeliveries', () => {
  for (const state of ['waiting', 'ready', 'placed', 'running'] as const) {
    it(`rejects a task whose namesake is ${state}`, () => {
      const plan = planSubmissions([sub(9, 'a')], view({ existing: { a: { state, submit_seq: 3 } } }));
      assert.deepEqual(plan.accept, []);
      assert.deepEqual(plan.replay, []);
      assert.deepEqual(rejections(plan), [{
        seq: 9, name: 'a', code: 'duplicate_task', field: 'name',
        message: `name: a task named "a" is ${state}; submit it again once it has finished`,
      }]);
    });
  }

  it('rejects the second of two submissions of one name in a batch', () => {
    const plan = planSubmissions([sub(1, 'a'), sub(2, 'a', ['z'])], view());
    assert.deepEqual(plan.accept.map((t) => t.seq), [1]);
    assert.deepEqual(rejections(plan), [{
      seq: 2, name: 'a', code: 'duplicate_task', field: 'name',
      message: 'name: a task named "a" is ready; submit it again once it has finished',
    }]);
  });

  it('names the planned state of the earlier submission (waiting)', () => {
    const plan = planSubmissions([sub(1, 'a', ['z']), sub(2, 'a')], view());
    assert.equal(plan.reject[0]?.error.message, 'name: a task named "a" is waiting; submit it again once it has finished');
  });

  it('a task planned blocked earlier in the batch is finished, so it may be submitted again in the batch', () => {
    const plan = planSubmissions([sub(1, 'a', ['f']), sub(2, 'a')], view({ dependencyStates: { f: 'failed' } }));
    assert.deepEqual(plan.reject, []);
    assert.deepEqual(plan.accept.map((t) => [t.seq, t.from, t.state]), [[1, null, 'blocked'], [2, 'blocked', 'ready']]);
  });

  for (const state of ['success', 'failed', 'blocked', 'cancelled'] as const) {
    it(`accepts a finished (${state}) task submitted again, with from = ${state}`, () => {
      const plan = planSubmissions([sub(9, 'a')], view({ existing: { a: { state, submit_seq: 3 } } }));
      assert.deepEqual(plan.reject, []);
      assert.deepEqual(plan.replay, []);
      assert.deepEqual(summary(plan.accept[0]!), { name: 'a', seq: 9, from: state, state: 'ready', reason: null, pending: 0, edges: [] });
    });
  }

  const redeliveries: [string, number, ExistingTask][] = [
    ['same seq, task running', 3, { state: 'running', submit_seq: 3 }],
    ['same seq, task finished', 3, { state: 'success', submit_seq: 3 }],
    ['older seq, task resubmitted since', 2, { state: 'waiting', submit_seq: 7 }],
  ];
  for (const [label, seq, existing] of redeliveries) {
    it(`recognizes a redelivery (${label}) as a replay`, () => {
      const plan = planSubmissions([sub(seq, 'a')], view({ existing: { a: existing } }));
      assert.deepEqual(plan, { accept: [], reject: [], replay: [{ seq, name: 'a' }] });
    });
  }

  it('a newer seq is not a replay', () => {
    const plan = planSubmissions([sub(4, 'a')], view({ existing: { a: { state: 'success', submit_seq: 3 } } }));
    assert.deepEqual(plan.replay, []);
    assert.equal(plan.accept.length, 1);
  });

  it('keeps the submission order within each list of a mixed batch', () => {
    const plan = planSubmissions(
      [sub(10, 'new1'), sub(11, 'dup'), sub(5, 'old'), sub(12, 'again'), sub(13, 'new1'), sub(14, 'new2', ['new1'])],
      view({ existing: {
        dup: { state: 'running', submit_seq: 2 },
        old: { state: 'ready', submit_seq: 5 },
        again: { state: 'failed', submit_seq: 1 },
      } }),
    );
    assert.deepEqual(plan.accept.map((t) => [t.seq, t.spec.name, t.from, t.state]),
      [[10, 'new1', null, 'ready'], [12, 'again', 'failed', 'ready'], [14, 'new2', null, 'waiting']]);
    assert.deepEqual(plan.reject.map((r) => [r.seq, r.name, r.error.code]), [[11, 'dup', 'duplicate_task'], [13, 'new1', 'duplicate_task']]);
    assert.deepEqual(plan.replay, [{ seq: 5, name: 'old' }]);
  });

  it('an empty batch plans nothing', () => {
    assert.deepEqual(planSubmissions([], view()), { accept: [], reject: [], replay: [] });
  });
});

describe('planSubmissions: cycles', () => {
  it('rejects the later submission that closes a cycle in one batch', () => {
    const plan = planSubmissions([sub(1, 'x', ['y']), sub(2, 'y', ['x'])], view());
    assert.deepEqual(plan.accept.map((t) => [t.spec.name, t.state]), [['x', 'waiting']]);
    assert.deepEqual(rejections(plan), [{
      seq: 2, name: 'y', code: 'dependency_cycle', field: 'dependencies',
      message: 'dependencies: would close a cycle y → x → y',
    }]);
  });

  it('rejects a longer cycle closed in one batch, naming the whole path', () => {
    const plan = planSubmissions([sub(1, 'a', ['b']), sub(2, 'b', ['c']), sub(3, 'c', ['a'])], view());
    assert.deepEqual(plan.accept.map((t) => t.spec.name), ['a', 'b']);
    assert.deepEqual(rejections(plan).map((r) => [r.name, r.code, r.message]),
      [['c', 'dependency_cycle', 'dependencies: would close a cycle c → a → b → c']]);
  });

  it('rejects a cycle closed through edges already in the ledger', () => {
    // The ledger holds p → q → r; submitting r with a dependency on p would close r → p → q → r.
    const plan = planSubmissions([sub(9, 'r', ['p'])], view({
      existing: {},
      dependencyStates: { p: 'waiting' },
      edges: { p: ['q'], q: ['r'] },
      dependedOn: ['r'],
    }));
    assert.deepEqual(plan.accept, []);
    assert.deepEqual(rejections(plan), [{
      seq: 9, name: 'r', code: 'dependency_cycle', field: 'dependencies',
      message: 'dependencies: would close a cycle r → p → q → r',
    }]);
  });

  it('rejects a finished task resubmitted with a dependency that would close a cycle in the ledger', () => {
    const plan = planSubmissions([sub(9, 'b', ['a'])], view({
      existing: { b: { state: 'success', submit_seq: 2 } },
      dependencyStates: { a: 'waiting' },
      edges: { a: ['b'], b: [] },
      dependedOn: ['b'],
    }));
    assert.deepEqual(rejections(plan).map((r) => [r.code, r.message]), [['dependency_cycle', 'dependencies: would close a cycle b → a → b']]);
  });

  it('mixes ledger edges and batch edges', () => {
    // Ledger: m → n. Batch: n depends on k, then k depends on m → k → m → n → k.
    const plan = planSubmissions([sub(1, 'n', ['k']), sub(2, 'k', ['m'])], view({
      dependencyStates: { m: 'waiting' },
      edges: { m: ['n'] },
      dependedOn: ['n'],
    }));
    assert.deepEqual(plan.accept.map((t) => t.spec.name), ['n']);
    assert.deepEqual(rejections(plan).map((r) => r.message), ['dependencies: would close a cycle k → m → n → k']);
  });

  it('a rejected submission adds no edges: a later one is not refused for a cycle through it', () => {
    // y would depend on a and t; it is refused (a depends on y), so t may then depend on y.
    const plan = planSubmissions([sub(1, 'a', ['y']), sub(2, 'y', ['a', 't']), sub(3, 't', ['y'])], view());
    assert.deepEqual(rejections(plan).map((r) => [r.name, r.message]), [['y', 'dependencies: would close a cycle y → a → y']]);
    assert.deepEqual(plan.accept.map((t) => [t.spec.name, t.state]), [['a', 'waiting'], ['t', 'waiting']]);
  });

  it('a diamond is not a cycle', () => {
    const plan = planSubmissions(
      [sub(1, 'top', ['l', 'r']), sub(2, 'l', ['base']), sub(3, 'r', ['base']), sub(4, 'base')],
      view(),
    );
    assert.deepEqual(plan.reject, []);
    assert.deepEqual(plan.accept.map((t) => [t.spec.name, t.state]),
      [['top', 'waiting'], ['l', 'waiting'], ['r', 'waiting'], ['base', 'ready']]);
  });

  it('ledger edges that do not lead back are not a cycle', () => {
    const plan = planSubmissions([sub(9, 'r', ['p'])], view({
      dependencyStates: { p: 'waiting' },
      edges: { p: ['q'], q: ['s'], other: ['r'] },
      dependedOn: ['r'],
    }));
    assert.deepEqual(plan.reject, []);
    assert.equal(plan.accept[0]?.state, 'waiting');
  });

  it('accepts a chain of 1000 tasks submitted in order in one batch, quickly', () => {
    const n = 1000;
    const batch = Array.from({ length: n }, (_, i) => sub(i + 1, `t${i}`, i === 0 ? [] : [`t${i - 1}`]));
    const started = performance.now();
    const plan = planSubmissions(batch, view());
    const ms = performance.now() - started;
    assert.deepEqual(plan.reject, []);
    assert.equal(plan.accept.length, n);
    assert.equal(plan.accept[0]?.state, 'ready');
    assert.ok(plan.accept.slice(1).every((t) => t.state === 'waiting' && t.pending === 1));
    assert.ok(ms < 500, `planning took ${ms.toFixed(1)} ms`);
  });

  it('accepts a chain of 1000 tasks submitted in reverse order', () => {
    const n = 1000;
    const batch = Array.from({ length: n }, (_, k) => {
      const i = n - 1 - k;
      return sub(k + 1, `t${i}`, i === 0 ? [] : [`t${i - 1}`]);
    });
    const plan = planSubmissions(batch, view());
    assert.deepEqual(plan.reject, []);
    assert.equal(plan.accept.length, n);
    assert.equal(plan.accept.at(-1)?.state, 'ready');
  });

  it('rejects the last link of a 1000-task loop, naming the whole loop', () => {
    const n = 1000;
    // t0 depends on t999, t1 on t0, …, t999 on t998: the last submission closes the loop.
    const batch = Array.from({ length: n }, (_, i) => sub(i + 1, `t${i}`, [`t${(i + n - 1) % n}`]));
    const plan = planSubmissions(batch, view());
    assert.equal(plan.accept.length, n - 1);
    assert.deepEqual(rejections(plan).map((r) => [r.name, r.code]), [[`t${n - 1}`, 'dependency_cycle']]);
    const loop = [`t${n - 1}`, ...Array.from({ length: n - 1 }, (_, i) => `t${n - 2 - i}`), `t${n - 1}`];
    assert.equal(plan.reject[0]?.error.message, `dependencies: would close a cycle ${loop.join(' → ')}`);
  });
});

describe('findPath', () => {
  const graph = new Map<string, readonly string[]>([
    ['a', ['b', 'c']],
    ['b', ['d']],
    ['c', ['d', 'e']],
    ['d', []],
    ['e', ['a']], // a cycle a → c → e → a that does not reach the targets below
  ]);

  const cases: [readonly string[], string, string[] | null][] = [
    [['a'], 'a', ['a']],
    [['b'], 'd', ['b', 'd']],
    [['c'], 'e', ['c', 'e']],
    [['b'], 'a', null],
    [['d'], 'a', null],
    [['a'], 'zzz', null],
    [[], 'a', null],
    [['unknown'], 'a', null],
    [['unknown', 'b'], 'd', ['b', 'd']],
  ];
  for (const [starts, target, expected] of cases) {
    it(`from ${JSON.stringify(starts)} to ${target}`, () => {
      assert.deepEqual(findPath(graph, starts, target), expected);
    });
  }

  it('returns a real path: starts at a start, ends at the target, every step an edge', () => {
    for (const [starts, target] of [[['a'], 'd'], [['e'], 'd'], [['a'], 'e'], [['b', 'e'], 'a']] as [string[], string][]) {
      const path = findPath(graph, starts, target);
      assert.ok(path, `no path from ${starts.join(',')} to ${target}`);
      assert.ok(starts.includes(path[0]!));
      assert.equal(path.at(-1), target);
      for (let i = 1; i < path.length; i++) assert.ok(graph.get(path[i - 1]!)?.includes(path[i]!), `${path[i - 1]} → ${path[i]}`);
      assert.equal(new Set(path).size, path.length, 'a path visits each node once');
    }
  });

  it('terminates on a graph full of cycles', () => {
    const g = new Map<string, readonly string[]>([['a', ['b']], ['b', ['a', 'c']], ['c', ['a', 'b']]]);
    assert.equal(findPath(g, ['a'], 'z'), null);
    assert.deepEqual(findPath(g, ['a'], 'c'), ['a', 'b', 'c']);
  });

  it('walks a chain of 100000 without overflowing the stack', () => {
    const n = 100_000;
    const g = new Map<string, readonly string[]>();
    for (let i = 0; i < n - 1; i++) g.set(`n${i}`, [`n${i + 1}`]);
    const path = findPath(g, ['n0'], `n${n - 1}`);
    assert.equal(path?.length, n);
    assert.equal(path?.[0], 'n0');
    assert.equal(path?.[n - 1], `n${n - 1}`);
  });

  it('does not change the graph', () => {
    const copy = new Map([...graph].map(([k, v]) => [k, [...v]]));
    findPath(graph, ['a'], 'd');
    assert.deepEqual(graph, copy);
  });
});

describe('planSubmissions: start times and cron', () => {
  const timed = (seq: number, name: string, fields: Partial<TaskSpec>, dependencies: string[] = []): Submission =>
    ({ seq, spec: { ...spec(name, dependencies), ...fields } });
  const cases: [string, Submission, LedgerView, { state: PlannedTask['state']; next_run_at: string | null }][] = [
    ['schedule_at ahead → scheduled until then', timed(1, 'a', { schedule_at: '2026-11-22T12:00:03.000Z' }), view(),
      { state: 'scheduled', next_run_at: '2026-11-22T12:00:03.000Z' }],
    ['schedule_at ahead with a dependency pending → still scheduled (the dependency is counted)',
      timed(1, 'a', { schedule_at: '2026-11-22T13:00:00.000Z' }, ['x']), view(),
      { state: 'scheduled', next_run_at: '2026-11-22T13:00:00.000Z' }],
    ['schedule_at passed → runs now', timed(1, 'a', { schedule_at: '2026-11-22T11:59:59.000Z' }), view(),
      { state: 'ready', next_run_at: null }],
    ['schedule_at exactly now → runs now', timed(1, 'a', { schedule_at: '2026-11-22T12:00:00.000Z' }), view(),
      { state: 'ready', next_run_at: null }],
    ['cron → runs now, next fire time after now', timed(1, 'a', { cron: '*/15 * * * *', timezone: 'UTC' }), view(),
      { state: 'ready', next_run_at: '2026-11-22T12:15:00.000Z' }],
    ['cron in a zone → the next fire time there', timed(1, 'a', { cron: '0 9 * * *', timezone: 'Europe/Berlin' }), view(),
      { state: 'ready', next_run_at: '2026-11-23T08:00:00.000Z' }],
    ['cron waiting for a dependency → waiting, fire time set', timed(1, 'a', { cron: '0 * * * *', timezone: 'UTC' }, ['x']), view(),
      { state: 'waiting', next_run_at: '2026-11-22T13:00:00.000Z' }],
    ['cron with a later schedule_at → scheduled at that time first',
      timed(1, 'a', { cron: '0 * * * *', timezone: 'UTC', schedule_at: '2026-11-23T00:30:00.000Z' }), view(),
      { state: 'scheduled', next_run_at: '2026-11-23T00:30:00.000Z' }],
    ['a failed dependency blocks a scheduled task at once', timed(1, 'a', { schedule_at: '2026-11-23T00:00:00.000Z' }, ['x']),
      view({ dependencyStates: { x: 'failed' } }), { state: 'blocked', next_run_at: null }],
  ];
  for (const [label, submission, ledgerView, expected] of cases) {
    it(label, () => {
      const [task] = planSubmissions([submission], ledgerView).accept;
      assert.ok(task);
      assert.deepEqual({ state: task.state, next_run_at: task.next_run_at?.toISOString() ?? null }, expected);
    });
  }
});
