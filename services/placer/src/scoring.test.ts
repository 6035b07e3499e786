import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assign, fits, score, type HostCapacity, type TaskNeeds } from './scoring.js';

function host(id: string, overrides: Partial<HostCapacity> = {}): HostCapacity {
  return {
    id, labels: {}, executors: ['docker', 'process'], slots: 4, used: 0,
    cpu: 0, cpuUsed: 0, memory: 0, memoryUsed: 0, draining: false, ...overrides,
  };
}

function task(name: string, overrides: Partial<TaskNeeds> = {}): TaskNeeds {
  return { name, attempt: 1, executor: 'docker', constraints: {}, cpu: null, memory: null, ...overrides };
}

describe('fits', () => {
  const cases: [string, Partial<HostCapacity>, Partial<TaskNeeds>, boolean][] = [
    ['an idle host with no constraints', {}, {}, true],
    // labels
    ['every constraint matches', { labels: { zone: 'a', gpu: 'true' } }, { constraints: { zone: 'a', gpu: 'true' } }, true],
    ['the host has extra labels', { labels: { zone: 'a', disk: 'ssd' } }, { constraints: { zone: 'a' } }, true],
    ['one constraint is missing on the host', { labels: { zone: 'a' } }, { constraints: { zone: 'a', gpu: 'true' } }, false],
    ['a constraint value differs', { labels: { zone: 'b' } }, { constraints: { zone: 'a' } }, false],
    ['label values compare exactly', { labels: { zone: 'A' } }, { constraints: { zone: 'a' } }, false],
    ['a constraint on a host without labels', {}, { constraints: { zone: 'a' } }, false],
    // executors
    ['the executor is offered', { executors: ['process'] }, { executor: 'process' }, true],
    ['the executor is not offered', { executors: ['docker'] }, { executor: 'process' }, false],
    ['a host offering no executor', { executors: [] }, {}, false],
    // slots and draining
    ['a draining host', { draining: true }, {}, false],
    ['a full host', { slots: 2, used: 2 }, {}, false],
    ['an overfull host', { slots: 2, used: 3 }, {}, false],
    ['a host with no slots', { slots: 0 }, {}, false],
    ['one slot left', { slots: 2, used: 1 }, {}, true],
    // cpu
    ['cpu that fits exactly', { cpu: 4, cpuUsed: 3 }, { cpu: 1 }, true],
    ['cpu over the rest', { cpu: 4, cpuUsed: 3 }, { cpu: 1.5 }, false],
    ['cpu over the whole host', { cpu: 2 }, { cpu: 3 }, false],
    ['cpu 0 on the host means unlimited', { cpu: 0, cpuUsed: 50 }, { cpu: 100 }, true],
    ['no cpu reservation on a full-cpu host', { cpu: 2, cpuUsed: 2 }, { cpu: null }, true],
    // memory
    ['memory that fits exactly', { memory: 1024, memoryUsed: 512 }, { memory: 512 }, true],
    ['memory over the rest', { memory: 1024, memoryUsed: 512 }, { memory: 513 }, false],
    ['memory 0 on the host means unlimited', { memory: 0 }, { memory: 1_000_000 }, true],
    ['no memory reservation on a full-memory host', { memory: 64, memoryUsed: 64 }, { memory: null }, true],
    ['cpu fits but memory does not', { cpu: 8, memory: 100 }, { cpu: 1, memory: 200 }, false],
    // a task's own instance (contracts' task-instance.ts): its host takes it and nothing else, it goes nowhere else
    ["a task's own host takes its task", { labels: { task: 'job' } }, { constraints: { task: 'job' } }, true],
    ["a task's own host takes no unconstrained task", { labels: { task: 'job' } }, {}, false],
    ["a task's own host takes no other task's", { labels: { task: 'job' } }, { constraints: { task: 'job2' } }, false],
    ["a task's own host takes no task of its other labels", { labels: { task: 'job', zone: 'a' } }, { constraints: { zone: 'a' } }, false],
    ['a task with its own instance goes to no ordinary host', { labels: { zone: 'a' } }, { constraints: { task: 'job' } }, false],
  ];
  for (const [label, h, t, expected] of cases) {
    it(`${label} → ${expected}`, () => assert.equal(fits(host('h', h), task('t', t)), expected));
  }
});

describe('score', () => {
  const cases: [Partial<HostCapacity>, number][] = [
    [{ slots: 4, used: 0 }, 1],
    [{ slots: 4, used: 1 }, 0.75],
    [{ slots: 4, used: 4 }, 0],
    [{ slots: 10, used: 5 }, 0.5],
    [{ slots: 1, used: 0 }, 1],
    [{ slots: 0, used: 0 }, 0],
  ];
  for (const [h, expected] of cases) {
    it(`${h.used}/${h.slots} used → ${expected}`, () => assert.equal(score(host('h', h)), expected));
  }

  it('an emptier host scores higher', () => {
    assert.ok(score(host('a', { slots: 8, used: 2 })) > score(host('b', { slots: 2, used: 1 })));
  });
});

describe('assign', () => {
  it('places nothing when there are no hosts or no tasks', () => {
    assert.deepEqual(assign([task('t1')], []), []);
    assert.deepEqual(assign([], [host('h1')]), []);
  });

  it('keeps name and attempt in the assignment', () => {
    assert.deepEqual(assign([task('t1', { attempt: 3 })], [host('h1')]), [{ name: 't1', attempt: 3, host: 'h1' }]);
  });

  it('places only on hosts whose labels match every constraint', () => {
    const hosts = [host('a', { labels: { zone: 'eu' } }), host('b', { labels: { zone: 'us', gpu: 'true' } }), host('c', { labels: { zone: 'us' } })];
    assert.deepEqual(assign([task('t1', { constraints: { zone: 'us', gpu: 'true' } })], hosts), [{ name: 't1', attempt: 1, host: 'b' }]);
  });

  it('places only on hosts offering the executor', () => {
    const hosts = [host('a', { executors: ['docker'] }), host('b', { executors: ['process'] })];
    assert.deepEqual(assign([task('t1', { executor: 'process' })], hosts).map((x) => x.host), ['b']);
  });

  it('gives a draining host nothing', () => {
    assert.deepEqual(assign([task('t1'), task('t2')], [host('a', { draining: true })]), []);
    assert.deepEqual(assign([task('t1'), task('t2')], [host('a', { draining: true }), host('b', { slots: 1 })]).map((x) => x.host), ['b']);
  });

  it('gives a full host nothing', () => {
    assert.deepEqual(assign([task('t1')], [host('a', { slots: 3, used: 3 })]), []);
    assert.deepEqual(assign([task('t1')], [host('a', { slots: 3, used: 3 }), host('z', { slots: 1, used: 0 })]).map((x) => x.host), ['z']);
  });

  it('fills the free slots and no more', () => {
    const tasks = ['t1', 't2', 't3', 't4', 't5'].map((n) => task(n));
    const out = assign(tasks, [host('a', { slots: 2, used: 1 }), host('b', { slots: 2 })]);
    assert.equal(out.length, 3);
    assert.deepEqual(out.map((x) => x.name), ['t1', 't2', 't3']);
    assert.equal(out.filter((x) => x.host === 'a').length, 1);
    assert.equal(out.filter((x) => x.host === 'b').length, 2);
  });

  it('respects cpu reservations, counting the ones it makes', () => {
    const out = assign(['t1', 't2', 't3'].map((n) => task(n, { cpu: 1 })), [host('a', { slots: 10, cpu: 2.5, cpuUsed: 0.5 })]);
    assert.deepEqual(out.map((x) => x.name), ['t1', 't2']);
  });

  it('respects memory reservations, counting the ones it makes', () => {
    const out = assign(['t1', 't2', 't3'].map((n) => task(n, { memory: 300 })), [host('a', { slots: 10, memory: 1000, memoryUsed: 100 })]);
    assert.deepEqual(out.map((x) => x.name), ['t1', 't2', 't3']);
    const tight = assign(['t1', 't2', 't3'].map((n) => task(n, { memory: 300 })), [host('a', { slots: 10, memory: 1000, memoryUsed: 101 })]);
    assert.deepEqual(tight.map((x) => x.name), ['t1', 't2']);
  });

  it('treats 0 cpu and memory capacity as unlimited', () => {
    const tasks = ['t1', 't2', 't3'].map((n) => task(n, { cpu: 64, memory: 1_000_000 }));
    assert.equal(assign(tasks, [host('a', { slots: 3, cpu: 0, memory: 0 })]).length, 3);
  });

  it('sends a reservation elsewhere when the emptiest host lacks the cpu', () => {
    const hosts = [host('a', { slots: 4, cpu: 1 }), host('b', { slots: 4, used: 3, cpu: 8 })];
    assert.deepEqual(assign([task('t1', { cpu: 2 })], hosts).map((x) => x.host), ['b']);
  });

  it('spreads work to the emptiest host', () => {
    const hosts = [host('a', { slots: 4, used: 3 }), host('b', { slots: 4, used: 1 }), host('c', { slots: 4, used: 2 })];
    assert.deepEqual(assign([task('t1')], hosts).map((x) => x.host), ['b']);
  });

  it('compares hosts by their free share, not their free count', () => {
    // a: 3 of 10 free (0.3); b: 1 of 2 free (0.5)
    const hosts = [host('a', { slots: 10, used: 7 }), host('b', { slots: 2, used: 1 })];
    assert.deepEqual(assign([task('t1')], hosts).map((x) => x.host), ['b']);
  });

  it('alternates between equal hosts as they fill', () => {
    const tasks = ['t1', 't2', 't3', 't4'].map((n) => task(n));
    assert.deepEqual(assign(tasks, [host('b', { slots: 2 }), host('a', { slots: 2 })]).map((x) => [x.name, x.host]),
      [['t1', 'a'], ['t2', 'b'], ['t3', 'a'], ['t4', 'b']]);
  });

  const ties: [string, string[], string][] = [
    ['in order', ['h1', 'h2', 'h3'], 'h1'],
    ['reversed', ['h3', 'h2', 'h1'], 'h1'],
    ['shuffled', ['h2', 'h3', 'h1'], 'h1'],
    ['lexicographic ids', ['host-b', 'host-a10', 'host-a2'], 'host-a10'],
  ];
  for (const [label, ids, expected] of ties) {
    it(`breaks a tie by the lowest host id (${label})`, () => {
      assert.deepEqual(assign([task('t1')], ids.map((id) => host(id))).map((x) => x.host), [expected]);
    });
  }

  it('places the oldest tasks first when slots run out', () => {
    const tasks = ['old', 'mid', 'new'].map((n) => task(n));
    assert.deepEqual(assign(tasks, [host('a', { slots: 1 }), host('b', { slots: 1 })]).map((x) => x.name), ['old', 'mid']);
  });

  it('skips a task no host fits and still places later ones', () => {
    const tasks = [
      task('needs-gpu', { constraints: { gpu: 'true' } }),
      task('plain'),
      task('too-big', { cpu: 64 }),
      task('process', { executor: 'process' }),
    ];
    const hosts = [host('a', { slots: 4, cpu: 8, executors: ['docker', 'process'] })];
    assert.deepEqual(assign(tasks, hosts).map((x) => x.name), ['plain', 'process']);
  });

  it('a skipped task does not use up a slot', () => {
    const tasks = [task('nope', { executor: 'wasm' }), task('yes')];
    assert.deepEqual(assign(tasks, [host('a', { slots: 1 })]), [{ name: 'yes', attempt: 1, host: 'a' }]);
  });

  it('does not change the capacities passed in', () => {
    const hosts = [
      host('a', { slots: 2, used: 1, cpu: 4, cpuUsed: 1, memory: 1000, memoryUsed: 10, labels: { zone: 'x' } }),
      host('b', { slots: 3, cpu: 2, memory: 500 }),
    ];
    const tasks = [task('t1', { cpu: 1, memory: 100 }), task('t2', { cpu: 1, memory: 100 }), task('t3')];
    const before = structuredClone(hosts);
    const tasksBefore = structuredClone(tasks);
    const out = assign(tasks, hosts);
    assert.equal(out.length, 3);
    assert.deepEqual(hosts, before);
    assert.deepEqual(tasks, tasksBefore);
  });

  it('gives the same answer twice for the same input', () => {
    const hosts = [host('a', { slots: 2 }), host('b', { slots: 3, used: 1 })];
    const tasks = ['t1', 't2', 't3'].map((n) => task(n));
    assert.deepEqual(assign(tasks, hosts), assign(tasks, hosts));
  });
});

/** The rule, written the plain way: for each task, every host is looked at. `assign` must agree with it exactly. */
function reference(tasks: readonly TaskNeeds[], hosts: readonly HostCapacity[]) {
  const pool = hosts.map((h) => ({ ...h }));
  const out: { name: string; attempt: number; host: string }[] = [];
  let free = pool.reduce((n, h) => n + (h.draining ? 0 : Math.max(0, h.slots - h.used)), 0);
  for (const t of tasks) {
    if (free <= 0) break;
    let best: HostCapacity | null = null;
    for (const h of pool) {
      if (fits(h, t) && (best === null || score(h) > score(best) || (score(h) === score(best) && h.id < best.id))) best = h;
    }
    if (!best) continue;
    best.used += 1;
    best.cpuUsed += t.cpu ?? 0;
    best.memoryUsed += t.memory ?? 0;
    free -= 1;
    out.push({ name: t.name, attempt: t.attempt, host: best.id });
  }
  return out;
}

/** A small deterministic generator (mulberry32), so a failing case can be run again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('assign agrees with the plain rule (label index and heaps)', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`random fleet and queue #${seed}`, () => {
      const rnd = random(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const hosts = Array.from({ length: 1 + Math.floor(rnd() * 40) }, (_, i) => host(`h${Math.floor(rnd() * 1000)}-${i}`, {
        labels: { zone: pick(['a', 'b', 'c']), ...(rnd() < 0.5 ? { size: pick(['small', 'large']) } : {}), ...(rnd() < 0.2 ? { gpu: 'true' } : {}), ...(rnd() < 0.1 ? { task: pick(['t1', 't2']) } : {}) },
        executors: pick([['docker', 'process'], ['process'], ['docker']]),
        slots: Math.floor(rnd() * 6), used: Math.floor(rnd() * 4),
        cpu: pick([0, 2, 4]), cpuUsed: pick([0, 1]), memory: pick([0, 1024]), memoryUsed: pick([0, 256]),
        draining: rnd() < 0.1,
      }));
      const tasks = Array.from({ length: Math.floor(rnd() * 120) }, (_, i) => task(`t${i}`, {
        attempt: Math.floor(rnd() * 3),
        executor: pick(['docker', 'process']),
        constraints: pick<Record<string, string>>([{}, { zone: 'a' }, { zone: 'b' }, { zone: 'a', size: 'small' }, { size: 'large' }, { gpu: 'true' }, { zone: 'z' }, { task: 't1' }, { task: 't2', zone: 'a' }]),
        cpu: rnd() < 0.2 ? pick([0.5, 1, 3]) : null,
        memory: rnd() < 0.2 ? pick([100, 800]) : null,
      }));
      assert.deepEqual(assign(tasks, hosts), reference(tasks, hosts));
    });
  }

  it("keeps a task's own host for that task, with the fleet's other hosts emptier", () => {
    const hosts = [host('own', { labels: { task: 't1' }, slots: 1 }), host('h1', { slots: 8 }), host('h2', { slots: 8 })];
    const tasks = [task('t0'), task('t1', { constraints: { task: 't1' } }), task('t2'), task('t3', { constraints: { task: 't3' } })];
    assert.deepEqual(assign(tasks, hosts), [
      { name: 't0', attempt: 1, host: 'h1' }, { name: 't1', attempt: 1, host: 'own' }, { name: 't2', attempt: 1, host: 'h2' },
    ]);
  });

  it('places 5,000 tasks on 10,000 hosts in well under a second', () => {
    const hosts = Array.from({ length: 10000 }, (_, i) => host(`sim-${String(i).padStart(5, '0')}`, {
      labels: { zone: `z${i % 10}`, size: Math.floor(i / 10) % 2 === 0 ? 'small' : 'large' }, slots: 4, used: i % 3,
    }));
    const tasks = Array.from({ length: 5000 }, (_, i) => task(`t${i}`, {
      executor: 'process', constraints: i % 3 === 0 ? { zone: `z${i % 10}`, size: i % 2 === 0 ? 'small' : 'large' } : { zone: `z${i % 10}` },
    }));
    const t0 = performance.now();
    const out = assign(tasks, hosts);
    const ms = performance.now() - t0;
    assert.equal(out.length, 5000);
    assert.deepEqual(out.slice(0, 50), reference(tasks.slice(0, 50), hosts));
    assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
  });
});
