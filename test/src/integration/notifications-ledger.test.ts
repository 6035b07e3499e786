import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  closeDueGroups, finishNotification, migrate, openLedger, pruneNotifications, readNotificationContent, readPendingNotifications, readSkippedFires,
  recordNotifiable, type FiresCursor, type Ledger,
} from '@tangerine/ledger';
import { createLogger } from '@tangerine/runtime';
import { createDatabase } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });

/** The notifier's record in the ledger (libs/ledger notifications.ts): what makes each event told once. */
describe('notifications in the ledger', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;

  before(async () => {
    db = await createDatabase('notifications');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
  });
  after(async () => {
    await ledger.close();
    await db.drop();
  });

  const row = (key: string, group: string, state = 'failed') => ({ key, group_key: group, item: { type: 'task', task: key, state } });

  it('records an event once, however often it comes, also from two writers at once', async () => {
    assert.equal(await recordNotifiable(ledger, [row('a', 'failed'), row('b', 'failed')]), 2);
    const again = await Promise.all([recordNotifiable(ledger, [row('a', 'failed'), row('c', 'failed')]), recordNotifiable(ledger, [row('c', 'failed'), row('b', 'failed')])]);
    assert.equal(again[0] + again[1], 1, 'only c was new');
    assert.equal(await recordNotifiable(ledger, []), 0);
  });

  it('closes a group only when its window has passed, into one message of all its open events', async () => {
    assert.equal(await closeDueGroups(ledger, 60_000), 0, 'the window is still open');
    await recordNotifiable(ledger, [row('h-down', 'host:h1', 'down'), row('h-t1', 'host:h1', 'ready'), row('h-t2', 'host:h1', 'failed')]);
    assert.equal(await closeDueGroups(ledger, 0), 2, 'failed and host:h1');
    assert.equal(await closeDueGroups(ledger, 0), 0, 'nothing open is left');
    const pending = await readPendingNotifications(ledger, 10);
    assert.deepEqual(pending.map((p) => p.group_key).sort(), ['failed', 'host:h1']);
    const host = pending.find((p) => p.group_key === 'host:h1')!;
    const content = await readNotificationContent(ledger, host.id, 2);
    assert.equal(content.items.length, 2, 'the first two');
    assert.equal(content.total, 3);
    assert.deepEqual(content.byState, { down: 1, ready: 1, failed: 1 });
  });

  it('an event recorded after its group closed opens the next window of the key', async () => {
    await recordNotifiable(ledger, [row('d', 'failed')]);
    assert.equal(await closeDueGroups(ledger, 0), 1);
    const failed = (await readPendingNotifications(ledger, 10)).filter((p) => p.group_key === 'failed');
    assert.equal(failed.length, 2);
    assert.equal((await readNotificationContent(ledger, failed[1]!.id, 10)).total, 1);
  });

  it('marks a message done once (compare-and-set), and prunes what is done and old', async () => {
    const [first] = await readPendingNotifications(ledger, 1);
    assert.equal(await finishNotification(ledger, first!.id, 'sent'), true);
    assert.equal(await finishNotification(ledger, first!.id, 'refused', 'channel_not_found'), false, 'not pending any more');
    assert.ok(!(await readPendingNotifications(ledger, 10)).some((p) => p.id === first!.id));
    assert.equal(await pruneNotifications(ledger, 3_600_000), 0, 'sent just now');
    assert.equal(await pruneNotifications(ledger, 0), 1);
    assert.equal(await recordNotifiable(ledger, [row('a', 'failed')]), 1, 'a pruned message\'s events are forgotten with it');
  });

  it('reads skipped fire times page by page by the whole row, none twice and none missed', async () => {
    await ledger.query(`INSERT INTO tasks (name, spec, state) SELECT 'cron-' || i, '{}', 'scheduled' FROM generate_series(1, 5) AS i`);
    // One statement: they all share one recorded_at, as one tick of cron records them.
    await ledger.query(
      `INSERT INTO fires (task, fire_time, outcome) SELECT 'cron-' || i, '2026-12-01T00:00:00Z', CASE WHEN i = 3 THEN 'fired' ELSE 'skipped_deadline' END
         FROM generate_series(1, 5) AS i`,
    );
    let after: FiresCursor = { recorded_at: new Date(0).toISOString(), task: '', fire_time: new Date(0).toISOString() };
    const seen: string[] = [];
    for (let pages = 0; pages < 10; pages++) {
      const page = await readSkippedFires(ledger, after, 2);
      seen.push(...page.map((f) => f.task));
      if (page.length < 2) break;
      after = page.at(-1)!.position;
    }
    assert.deepEqual(seen, ['cron-1', 'cron-2', 'cron-4', 'cron-5']);
  });
});
