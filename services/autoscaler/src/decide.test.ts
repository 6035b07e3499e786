import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type DecisionInput, type DecisionSettings, type HostInput, type ProviderDecision, type ProviderState } from './decide.js';
import { groupReady, unplaced } from './demand.js';

const S: DecisionSettings = { idleMs: 180_000, upCooldownMs: 15_000, downCooldownMs: 120_000, joinDeadlineMs: 600_000, drainSettleMs: 5000 };
const NOW = 10_000_000;

function provider(over: Partial<ProviderState> = {}): ProviderState {
  return {
    name: 'local', min: 0, max: 5, labels: { pool: 'auto' }, slotsPerHost: 2, target: 0, instances: [],
    lastUpMs: null, lastDownMs: null, drains: [], askedAtMs: null, ...over,
  };
}

/** `n` instances running, each joined as host `h<i>` with 2 slots, `used` tasks and idle since `idleSinceMs`. */
function fleet(n: number, over: Partial<HostInput> = {}, from = 1): { instances: ProviderState['instances']; hosts: HostInput[] } {
  const ids = Array.from({ length: n }, (_, i) => i + from);
  return {
    instances: ids.map((i) => ({ instanceId: `i-${i}`, state: 'running' as const, launchedAtMs: NOW - 3_600_000 })),
    hosts: ids.map((i) => ({
      id: `h${i}`, labels: { pool: 'auto', instanceId: `i-${i}` }, slots: 2, used: 0, state: 'up' as const, idleSinceMs: NOW - 3_600_000, ...over,
    })),
  };
}

function run(over: Partial<DecisionInput> & { provider?: Partial<ProviderState> }): ProviderDecision {
  const { provider: p, ...rest } = over;
  const [d] = decide({ ready: [], hosts: [], providers: [provider(p)], nowMs: NOW, settings: S, ...rest });
  return d!;
}

describe('decide: scale-up', () => {
  const cases: Array<[string, Partial<DecisionInput> & { provider?: Partial<ProviderState> }, number, boolean]> = [
    ['nothing waits, nothing runs', {}, 0, false],
    ['40 tasks on 2-slot hosts, limit 5: 5 hosts, not 40', { ready: [{ constraints: {}, count: 40 }] }, 5, true],
    ['3 tasks: ceil(3 / 2) = 2 hosts', { ready: [{ constraints: {}, count: 3 }] }, 2, true],
    ['limit 50: 40 tasks ask for 20 hosts', { ready: [{ constraints: {}, count: 40 }], provider: { max: 50 } }, 20, true],
    ['hosts starting count: 3 asked, 6 slots for 6 tasks', {
      ready: [{ constraints: {}, count: 6 }],
      provider: { target: 3, instances: [1, 2, 3].map((i) => ({ instanceId: `i-${i}`, state: 'pending', launchedAtMs: NOW - 1000 })) },
    }, 3, false],
    ['a target not launched yet counts as starting', { ready: [{ constraints: {}, count: 4 }], provider: { target: 2, askedAtMs: NOW - 1000 } }, 2, false],
    ['the up cooldown holds a second raise', { ready: [{ constraints: {}, count: 10 }], provider: { lastUpMs: NOW - 5000 } }, 0, false],
    ['the up cooldown passed', { ready: [{ constraints: {}, count: 10 }], provider: { lastUpMs: NOW - 15_000 } }, 5, true],
    ['a recent scale-down does not hold a scale-up', { ready: [{ constraints: {}, count: 2 }], provider: { lastDownMs: NOW - 1000 } }, 1, true],
    ['tasks whose constraints the provider lacks count for nothing', { ready: [{ constraints: { gpu: 'true' }, count: 10 }] }, 0, false],
    ['tasks asking for the provider\'s labels count', { ready: [{ constraints: { pool: 'auto' }, count: 4 }] }, 2, true],
    ['a free slot on a live host takes the task', {
      ready: [{ constraints: {}, count: 2 }],
      hosts: [{ id: 'static', labels: {}, slots: 2, used: 0, state: 'up', idleSinceMs: NOW }],
    }, 0, false],
    ['a draining host\'s free slots take nothing', {
      ready: [{ constraints: {}, count: 2 }],
      hosts: [{ id: 'static', labels: {}, slots: 2, used: 0, state: 'draining', idleSinceMs: NOW }],
    }, 1, true],
    ['a free slot that lacks the label does not take a constrained task', {
      ready: [{ constraints: { pool: 'auto' }, count: 2 }],
      hosts: [{ id: 'static', labels: {}, slots: 8, used: 0, state: 'up', idleSinceMs: NOW }],
    }, 1, true],
    ['min is kept with nothing to do', { provider: { min: 1 } }, 1, false],
    ['min is kept even while the up cooldown runs', { provider: { min: 2, lastUpMs: NOW - 1 } }, 2, false],
    ['a max of 0 asks for nothing', { ready: [{ constraints: {}, count: 9 }], provider: { max: 0 } }, 0, false],
  ];
  for (const [label, input, target, up] of cases) {
    it(`${label} → target ${target}`, () => {
      const d = run(input);
      assert.equal(d.target, target);
      assert.equal(d.up, up);
      assert.deepEqual(d.drain, []);
    });
  }

  it('with joined hosts full, the waiting work adds hosts to those there', () => {
    const f = fleet(2, { used: 2, idleSinceMs: null });
    const d = run({ ready: [{ constraints: {}, count: 4 }], hosts: f.hosts, provider: { target: 2, instances: f.instances } });
    assert.deepEqual([d.target, d.actual, d.waiting, d.up], [4, 2, 4, true]);
  });

  it('work counts toward the first provider that can run it, not toward each', () => {
    const [a, b] = decide({
      ready: [{ constraints: {}, count: 4 }], hosts: [], nowMs: NOW, settings: S,
      providers: [provider({ name: 'a' }), provider({ name: 'b' })],
    });
    assert.deepEqual([a!.target, b!.target], [2, 0]);
  });
});

describe('decide: scale-down', () => {
  const idle = fleet(3);
  const base = { hosts: idle.hosts, provider: { target: 3, instances: idle.instances, min: 1 } };
  const cases: Array<[string, Partial<DecisionInput> & { provider?: Partial<ProviderState> }, string[]]> = [
    ['three idle hosts, min 1: two drained', base, ['h1', 'h2']],
    ['min 3: none', { ...base, provider: { ...base.provider, min: 3 } }, []],
    ['a ready task for the provider holds every drain', { ...base, ready: [{ constraints: {}, count: 1 }] }, []],
    ['a ready task it cannot run holds nothing', { ...base, ready: [{ constraints: { gpu: 'yes' }, count: 1 }] }, ['h1', 'h2']],
    ['idle too short', { ...base, hosts: fleet(3, { idleSinceMs: NOW - 60_000 }).hosts }, []],
    ['a host holding a task is never drained', { ...base, hosts: fleet(3, { used: 1, idleSinceMs: null }).hosts }, []],
    ['the down cooldown after a scale-up', { ...base, provider: { ...base.provider, lastUpMs: NOW - 60_000 } }, []],
    ['the down cooldown after a scale-down', { ...base, provider: { ...base.provider, lastDownMs: NOW - 60_000 } }, []],
    ['cooldowns passed', { ...base, provider: { ...base.provider, lastUpMs: NOW - 120_000, lastDownMs: NOW - 130_000 } }, ['h1', 'h2']],
    ['a host drained by an operator is not the autoscaler\'s to drain', { ...base, hosts: fleet(3, { state: 'draining' }).hosts }, []],
    ['own drains under way count against the room', {
      ...base, hosts: idle.hosts.map((h) => (h.id === 'h3' ? { ...h, state: 'draining' as const } : h)), provider: { ...base.provider, drains: [{ host: 'h3', instanceId: 'i-3', atMs: NOW - 1000 }] },
    }, ['h1']],
  ];
  for (const [label, input, drained] of cases) {
    it(`${label} → ${drained.join(', ') || 'none'}`, () => {
      const d = run(input);
      assert.deepEqual(d.drain.map((r) => r.host), drained);
      assert.equal(d.down, drained.length > 0);
      assert.equal(d.target, input.provider?.target ?? 3, 'a drain alone keeps the target');
    });
  }

  it('the longest idle goes first', () => {
    const f = fleet(3);
    f.hosts[2]!.idleSinceMs = NOW - 7_200_000;
    const d = run({ hosts: f.hosts, provider: { target: 3, instances: f.instances, min: 2 } });
    assert.deepEqual(d.drain.map((r) => r.host), ['h3']);
  });
});

describe('decide: own drains', () => {
  const f = fleet(2);
  const drained = f.hosts.map((h) => ({ ...h, state: 'draining' as const }));
  const drains = [{ host: 'h1', instanceId: 'i-1', atMs: NOW - 10_000 }, { host: 'h2', instanceId: 'i-2', atMs: NOW - 1000 }];
  const cases: Array<[string, Partial<DecisionInput> & { provider?: Partial<ProviderState> }, Partial<Record<'terminate' | 'undrain' | 'gone', string[]>>, number]> = [
    ['settled and empty: terminated; still settling: waits', { hosts: drained, provider: { target: 2, instances: f.instances, drains } }, { terminate: ['h1'] }, 1],
    ['a task placed before the drain took: undone', {
      hosts: [{ ...drained[0]!, used: 1 }, drained[1]!], provider: { target: 2, instances: f.instances, drains },
    }, { undrain: ['h1'] }, 2],
    ['work came back: drained hosts return before any launch', {
      ready: [{ constraints: {}, count: 3 }], hosts: drained, provider: { target: 2, instances: f.instances, drains },
    }, { undrain: ['h1', 'h2'] }, 2],
    ['the instance is gone: the record closes', {
      hosts: [drained[1]!], provider: { target: 1, instances: [f.instances[1]!], drains },
    }, { gone: ['h1'] }, 1],
    ['terminated but still listed: an orphan, not capacity', {
      hosts: drained, provider: { target: 1, instances: [{ ...f.instances[0]!, state: 'terminated' }, f.instances[1]!], drains: [drains[1]!] },
    }, {}, 1],
    ['min holds a terminated host back to a new one', { hosts: drained, provider: { min: 2, target: 2, instances: f.instances, drains } }, { terminate: ['h1'] }, 2],
  ];
  for (const [label, input, expected, target] of cases) {
    it(label, () => {
      const d = run(input);
      assert.deepEqual(d.terminate.map((r) => r.host), expected.terminate ?? []);
      assert.deepEqual(d.undrain.map((r) => r.host), expected.undrain ?? []);
      assert.deepEqual(d.gone.map((r) => r.host), expected.gone ?? []);
      assert.equal(d.target, target);
    });
  }

  it('a host up again (killed between the record and the drain, or undrained by hand): the drain lapses', () => {
    const d = run({ hosts: [f.hosts[0]!, drained[1]!], provider: { target: 2, instances: f.instances, drains } });
    assert.deepEqual(d.lapsed.map((r) => r.host), ['h1']);
    assert.deepEqual(d.terminate, []);
  });

  it('an orphan is reported with its instance', () => {
    const d = run({ hosts: drained, provider: { target: 1, instances: [{ ...f.instances[0]!, state: 'shutting-down' }, f.instances[1]!] } });
    assert.deepEqual(d.orphans, [{ host: 'h1', instanceId: 'i-1' }]);
    assert.equal(d.actual, 1);
  });
});

describe('decide: launches given up', () => {
  it('an instance that never joined within the deadline is given up and no longer counts', () => {
    const d = run({
      ready: [{ constraints: {}, count: 2 }],
      provider: { target: 2, instances: [
        { instanceId: 'i-old', state: 'pending', launchedAtMs: NOW - 600_000 },
        { instanceId: 'i-new', state: 'pending', launchedAtMs: NOW - 1000 },
      ] },
    });
    assert.deepEqual(d.giveUp, ['i-old']);
    assert.deepEqual([d.starting, d.target], [1, 1]);
  });

  it('capacity asked for and never launched within the deadline comes off the target', () => {
    const d = run({ provider: { target: 3, askedAtMs: NOW - 600_001, min: 1 } });
    assert.deepEqual([d.unlaunchedGivenUp, d.target], [3, 1]);
  });

  it('capacity asked for recently waits', () => {
    const d = run({ provider: { target: 3, askedAtMs: NOW - 1000 } });
    assert.deepEqual([d.unlaunchedGivenUp, d.target, d.starting], [0, 3, 3]);
  });
});

describe('demand', () => {
  it('the most constrained tasks take the slots they fit first', () => {
    const left = unplaced(
      [{ constraints: {}, count: 2 }, { constraints: { gpu: 'yes' }, count: 2 }],
      [{ labels: { gpu: 'yes' }, free: 2 }, { labels: {}, free: 1 }],
    );
    assert.deepEqual(left, [1, 0]);
  });

  it('groups tasks by label set, key order and instance ids aside', () => {
    const groups = groupReady([{ a: '1', b: '2' }, { b: '2', a: '1' }, {}, { a: '1' }]);
    assert.deepEqual(groups.map((g) => g.count), [2, 1, 1]);
  });
});
