import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseTaskSpec } from '@tangerine/contracts';
import { getTask, submitTasks } from '@tangerine/ledger';
import type { ServiceContext } from '@tangerine/platform';
import { placerOnOneHost, type OnePlacer } from '../helpers/placer.js';
import { waitFor } from '../helpers/wait.js';

/** A stored spec that no longer parses is never sent to an agent: the task fails naming the column, not waiting in placed for good. */
describe('placer: a task whose stored spec does not parse', () => {
  let placer: OnePlacer;
  let ctx: ServiceContext;

  before(async () => {
    placer = await placerOnOneHost('placer-unreadable');
    ({ ctx } = placer);
  });
  after(async () => {
    await placer?.close();
  });

  it('fails with the column at fault and closes its run, and the next task is placed', async () => {
    const spec = (name: string) => parseTaskSpec({ name, executor: 'process', command: ['true'] });
    await submitTasks(ctx.ledger, [{ seq: 1, spec: spec('broken') }, { seq: 2, spec: spec('next-in-line') }], new Date());
    // Written by hand, or by a bug: a command that is not a list.
    await ctx.ledger.query(`UPDATE tasks SET spec = jsonb_set(spec, '{command}', '5') WHERE name = 'broken'`);
    await placer.start();
    const broken = await waitFor('broken failed', async () => {
      const t = await getTask(ctx.ledger, 'broken');
      return t?.state === 'failed' ? t : undefined;
    });
    assert.match(broken.reason ?? '', /^invalid_row: tasks\.spec\.command/);
    assert.equal(broken.failures, 0, 'no run of it ever ran');
    assert.equal(broken.runs?.length, 1);
    assert.equal(broken.runs?.[0]?.reason, broken.reason);
    assert.ok(broken.runs?.[0]?.finished_at, 'its run is closed');
    const next = await waitFor('next-in-line placed', async () => {
      const t = await getTask(ctx.ledger, 'next-in-line');
      return t?.state === 'placed' ? t : undefined;
    }, 10_000);
    assert.equal(next.host, 'h1');
  });
});
