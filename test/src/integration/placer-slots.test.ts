import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseTaskSpec } from '@tangerine/contracts';
import { getTask, markStarted, requeueLostRuns, submitTasks } from '@tangerine/ledger';
import { publishEvents, type ServiceContext } from '@tangerine/platform';
import { placerOnOneHost, type OnePlacer } from '../helpers/placer.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The placer frees a slot on the event of a task that left its host, whatever state it went to. With the usage it
 * reads from the ledger refreshed only once an hour here, the event is the only way the slot comes free.
 */
describe('placer: a run that leaves its host frees its slot at once', () => {
  let placer: OnePlacer;
  let ctx: ServiceContext;

  before(async () => {
    placer = await placerOnOneHost('placer-slots');
    ({ ctx } = placer);
  });
  after(async () => {
    await placer?.close();
  });

  it('a cron run lost to an agent restart (running → scheduled) lets the next ready task have its slot', async () => {
    const spec = (name: string, extra: Record<string, unknown> = {}) => parseTaskSpec({ name, executor: 'process', command: ['true'], ...extra });
    // Both ready at once, one slot: the first pass places the cron task (submitted first) and leaves the other.
    await submitTasks(ctx.ledger, [
      { seq: 1, spec: spec('nightly', { cron: '0 3 * * *', restartable: false }) },
      { seq: 2, spec: spec('next-in-line') },
    ], new Date());
    await placer.start({ usageRefreshMs: 3_600_000 });
    const placed = await waitFor('nightly placed', async () => {
      const t = await getTask(ctx.ledger, 'nightly');
      return t?.state === 'placed' ? t : undefined;
    });
    assert.equal(placed.host, 'h1');
    await markStarted(ctx.ledger, [{ name: 'nightly', attempt: placed.attempt, host: 'h1', run_id: 'pid:1', at: new Date(Date.now() - 1000).toISOString() }]);
    assert.equal((await getTask(ctx.ledger, 'next-in-line'))?.state, 'ready', 'the slot is taken: the other task waits');

    // The agent of h1 restarted without the run: the cron task, not restartable, waits for its next fire time.
    const events = await requeueLostRuns(ctx.ledger, 'h1', new Date(Date.now() + 60_000), []);
    assert.deepEqual(events.map((e) => [e.name, e.from, e.state]), [['nightly', 'running', 'scheduled']]);
    await publishEvents(ctx, events);

    const next = await waitFor('next-in-line placed', async () => {
      const t = await getTask(ctx.ledger, 'next-in-line');
      return t?.state === 'placed' ? t : undefined;
    }, 10_000);
    assert.equal(next.host, 'h1');
  });
});
