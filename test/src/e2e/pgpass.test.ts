// Tangerine's documented set-up of a password-protected PostgreSQL with only PGPASS (issue #10): every connection
// reads it. Once, the placer's leadership connection did not, and nothing was ever placed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from '../helpers/cluster.js';

const PASSWORD = 'tangerine-S3cret-pw';

describe('PostgreSQL with a password and only PGPASS set', () => {
  const cluster = new Cluster('pgpass');

  before(async () => {
    await cluster.start({ ownPostgres: { password: PASSWORD, pgpass: true }, agents: [{ host: 'pw-a', executors: 'process', slots: 2 }] });
  });
  after(() => cluster.stop());

  it('the services reach the ledger, the placer leads, and tasks are placed and run', async () => {
    for (const p of cluster.services.values()) {
      assert.equal(p.env['DATABASE_URL'], undefined);
      assert.equal(p.env['PGPASS'], PASSWORD);
    }
    cluster.client.submit({ name: 'with-pgpass', executor: 'process', command: ['true'] });
    const t = await cluster.client.waitForState('with-pgpass', 'success', 30_000);
    assert.equal(t.host, 'pw-a');
    assert.ok(cluster.services.get('placer')!.lines.some((l) => l['msg'] === 'took leadership'));
  });

  it('no log line carries the password', () => {
    for (const p of [...cluster.services.values(), ...cluster.agents.values()]) {
      // Lines to look at: a process that logged nothing would pass the check below without proving anything.
      assert.ok(p.lines.length > 0, `${p.service} logged something`);
      assert.ok(!p.lines.some((l) => JSON.stringify(l).includes(PASSWORD)), `${p.service} logged the password`);
    }
  });
});
