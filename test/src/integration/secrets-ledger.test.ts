import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SECRET_SHOWN, parseTaskSpec, type TaskSpec } from '@tangerine/contracts';
import {
  applyFires, cancelTasks, getTask, listTasks, markStarted, migrate, openLedger, placeTasks, readDueTasks, readStalePlacements,
  recordExits, submitTasks, type Ledger,
} from '@tangerine/ledger';
import { createLogger, parseSecretsKey } from '@tangerine/runtime';
import { createDatabase } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const SECRET = 'v4lue-of-the-secret';
const spec = (name: string, extra: Record<string, unknown> = {}): TaskSpec =>
  parseTaskSpec({ name, executor: 'process', command: ['true'], env: { MODE: 'test' }, secret_env: { DB_PASSWORD: SECRET }, ...extra });

/** Secret rows per task. */
async function secretsOf(ledger: Ledger, name: string): Promise<unknown> {
  const [row] = await ledger.query<{ env: unknown }>('SELECT env FROM task_secrets WHERE task = $1', [name]);
  return row?.env ?? null;
}

describe('secret env values in the ledger', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;
  let seq = 1;
  const submit = (...specs: TaskSpec[]) => submitTasks(ledger, specs.map((s) => ({ seq: seq++, spec: s })), new Date());
  const exit = (name: string, attempt: number, code: number) => {
    const at = new Date().toISOString();
    return { name, attempt, host: 'h1', exit_code: code, reason: null, output: '', started_at: at, finished_at: at, run_id: 'pid:1' };
  };

  before(async () => {
    db = await createDatabase('secrets');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
    await ledger.query(`INSERT INTO hosts (id, labels, slots, executors, cpu, memory, last_seen) VALUES ('h1', '{}', 100, '{process}', 8, 8192, now())`);
  });
  after(async () => {
    await ledger.close();
    await db.drop();
  });

  it('keeps the values out of tasks.spec, tasks.get and tasks.list, which show each name with (secret)', async () => {
    await submit(spec('kept'));
    const [row] = await ledger.query<{ text: string; secret_env: unknown }>("SELECT t::text AS text, spec->'secret_env' AS secret_env FROM tasks t WHERE name = 'kept'");
    assert.ok(!row!.text.includes(SECRET), 'no column of the task row holds the value');
    assert.deepEqual(row!.secret_env, { DB_PASSWORD: SECRET_SHOWN });
    assert.deepEqual(await secretsOf(ledger, 'kept'), { DB_PASSWORD: SECRET });
    const view = await getTask(ledger, 'kept');
    assert.deepEqual([view!.spec.secret_env, view!.spec.env], [{ DB_PASSWORD: '(secret)' }, { MODE: 'test' }]);
    assert.ok(!JSON.stringify(view).includes(SECRET));
    const list = await listTasks(ledger, { limit: 1000 });
    assert.ok(list.some((t) => t.name === 'kept'));
    assert.ok(!JSON.stringify(list).includes(SECRET));
  });

  it('gives the values to the placement alone, and to a placement sent again', async () => {
    await submit(spec('placed-one'), parseTaskSpec({ name: 'no-secrets', executor: 'process', command: ['true'] }));
    const placed = await placeTasks(ledger, ['placed-one', 'no-secrets'].map((name) => ({ name, attempt: 0, host: 'h1' })));
    const byName = new Map(placed.map((p) => [p.event.name, p.spec]));
    assert.deepEqual(byName.get('placed-one')?.secret_env, { DB_PASSWORD: SECRET });
    assert.deepEqual(byName.get('no-secrets')?.secret_env, {});
    assert.ok(!JSON.stringify(placed.map((p) => p.event)).includes(SECRET), 'the placement event holds no value');
    await ledger.query("UPDATE tasks SET updated_at = now() - interval '1 hour' WHERE name = 'placed-one'");
    const stale = (await readStalePlacements(ledger, 60)).find((p) => p.event.name === 'placed-one');
    assert.deepEqual(stale?.spec?.secret_env, { DB_PASSWORD: SECRET });
  });

  it('fails the placement of a task whose secret values are missing, naming the secret and not the value', async () => {
    await submit(spec('lost-secret'));
    await ledger.query("DELETE FROM task_secrets WHERE task = 'lost-secret'");
    const [p] = await placeTasks(ledger, [{ name: 'lost-secret', attempt: 0, host: 'h1' }]);
    assert.equal(p?.spec, null);
    assert.equal(p?.error?.field, 'task_secrets.env');
    assert.match(p!.error!.message, /no value for the secret DB_PASSWORD/);
  });

  it('keeps the values through a retry and forgets them when the task is finished for good', async () => {
    await submit(spec('retried', { recoverable_exitcodes: [3] }), spec('fails', { max_failures: 1 }), spec('cancelled'), spec('blocked-later'));
    await placeTasks(ledger, ['retried', 'fails'].map((name) => ({ name, attempt: 0, host: 'h1' })));
    await recordExits(ledger, [exit('retried', 1, 3), exit('fails', 1, 1)]);
    assert.deepEqual(await secretsOf(ledger, 'retried'), { DB_PASSWORD: SECRET }, 'a retry runs with them');
    assert.equal(await secretsOf(ledger, 'fails'), null, 'failed for good');
    await ledger.query("UPDATE tasks SET retry_at = NULL WHERE name = 'retried'");
    await placeTasks(ledger, [{ name: 'retried', attempt: 1, host: 'h1' }]);
    await markStarted(ledger, [{ name: 'retried', attempt: 2, host: 'h1', run_id: 'pid:2', at: new Date().toISOString() }]);
    await recordExits(ledger, [exit('retried', 2, 0)]);
    assert.equal(await secretsOf(ledger, 'retried'), null, 'success');
    await cancelTasks(ledger, ['cancelled']);
    assert.equal(await secretsOf(ledger, 'cancelled'), null, 'cancelled');
  });

  it('does not keep the values of a task submitted blocked, and replaces them when a finished task comes again', async () => {
    await submit(parseTaskSpec({ name: 'dep-fails', executor: 'process', command: ['false'], max_failures: 1 }));
    await placeTasks(ledger, [{ name: 'dep-fails', attempt: 0, host: 'h1' }]);
    await recordExits(ledger, [exit('dep-fails', 1, 1)]);
    const [accepted] = (await submit(spec('born-blocked', { dependencies: ['dep-fails'] }))).events;
    assert.equal(accepted?.state, 'blocked');
    assert.equal(await secretsOf(ledger, 'born-blocked'), null);
    // `fails` failed for good above: submitted again, it brings new values; without secret_env, none.
    await submit(spec('fails', { secret_env: { DB_PASSWORD: 'n3w-value', TOKEN: 't0ken' } }));
    assert.deepEqual(await secretsOf(ledger, 'fails'), { DB_PASSWORD: 'n3w-value', TOKEN: 't0ken' });
    await cancelTasks(ledger, ['fails']);
    await submit(parseTaskSpec({ name: 'fails', executor: 'process', command: ['true'] }));
    assert.equal(await secretsOf(ledger, 'fails'), null);
  });

  it('keeps the values of a cron task between its runs, and gives them to a run of concurrency allow', async () => {
    await submit(spec('hourly', { cron: '@hourly', concurrency: 'allow' }));
    // Times of millisecond precision, as a JavaScript Date holds them: the fire is a compare-and-set on next_run_at.
    await ledger.query("UPDATE tasks SET next_run_at = date_trunc('second', now()) - interval '1 second' WHERE name = 'hourly'");
    const [due] = (await readDueTasks(ledger, new Date(), 1000)).filter((d) => d.name === 'hourly');
    assert.ok(due);
    const fire = { name: due.name, version: due.version, from: due.state, due: due.next_run_at, fire_time: due.next_run_at, missed_from: null, attempt: 0, host: null };
    const first = await applyFires(ledger, [{ ...fire, outcome: 'fired', next_run_at: new Date(Date.now() + 3_600_000), child: null }]);
    assert.equal(first.applied.length, 1);
    assert.equal((await placeTasks(ledger, [{ name: 'hourly', attempt: 0, host: 'h1' }])).length, 1);
    const ended = await recordExits(ledger, [exit('hourly', 1, 1)]);
    assert.equal(ended.events.at(-1)?.state, 'scheduled');
    assert.deepEqual(await secretsOf(ledger, 'hourly'), { DB_PASSWORD: SECRET }, 'a cron task runs again at its next fire time');
    // A fire time during a run (concurrency allow) runs as a child task with the parent's spec and secrets.
    const [again] = (await ledger.query<{ version: string; state: string; next_run_at: Date }>(
      "UPDATE tasks SET next_run_at = date_trunc('second', now()) - interval '1 second' WHERE name = 'hourly' RETURNING version, state, next_run_at"));
    const child = { name: 'hourly-20261122T100000', spec: { ...due.spec, name: 'hourly-20261122T100000', cron: null, timezone: null, concurrency: 'forbid' as const } };
    const applied = await applyFires(ledger, [{
      ...fire, version: Number(again!.version), from: again!.state as 'scheduled', due: again!.next_run_at, fire_time: again!.next_run_at,
      outcome: 'fired', next_run_at: new Date(Date.now() + 3_600_000), child,
    }]);
    assert.equal(applied.applied.length, 1);
    assert.deepEqual(await secretsOf(ledger, child.name), { DB_PASSWORD: SECRET });
    const [placed] = await placeTasks(ledger, [{ name: child.name, attempt: 0, host: 'h1' }]);
    assert.deepEqual(placed?.spec?.secret_env, { DB_PASSWORD: SECRET });
  });

  it('seals the values with SECRETS_KEY: the row holds no value, and only a placement with that key opens it', async () => {
    const key = parseSecretsKey('5a'.repeat(32));
    await submitTasks(ledger, [{ seq: seq++, spec: spec('sealed') }, { seq: seq++, spec: spec('sealed-2') }], new Date(), { secretsKey: key });
    const [row] = await ledger.query<{ text: string; env: unknown }>("SELECT s::text AS text, env FROM task_secrets s WHERE task = 'sealed'");
    assert.equal(typeof row!.env, 'string');
    assert.ok(!row!.text.includes(SECRET) && !row!.text.includes('DB_PASSWORD'), row!.text);
    const [without] = await placeTasks(ledger, [{ name: 'sealed', attempt: 0, host: 'h1' }]);
    assert.equal(without?.spec, null);
    assert.match(without!.error!.message, new RegExp(`task_secrets.env: is sealed with the key ${key.id}, and SECRETS_KEY is not set here`));
    const [withKey] = await placeTasks(ledger, [{ name: 'sealed-2', attempt: 0, host: 'h1' }], { secretsKey: key });
    assert.deepEqual(withKey?.spec?.secret_env, { DB_PASSWORD: SECRET });
  });
});
