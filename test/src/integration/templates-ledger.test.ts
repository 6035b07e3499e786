import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyTemplate, parseTaskSpec, parseTemplateDefinition } from '@tangerine/contracts';
import {
  applyFires, cancelTasks, getTask, getTemplate, listTemplates, migrate, openLedger, putTemplate, readDueTasks, readTemplates, refKey, submitTasks,
  type Ledger,
} from '@tangerine/ledger';
import { createLogger, parseSecretsKey } from '@tangerine/runtime';
import { createDatabase } from '../helpers/postgres.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const SECRET = 'v4lue-of-the-template-secret';
const def = (name: string, spec: Record<string, unknown>, description?: string) =>
  parseTemplateDefinition({ name, spec, ...(description !== undefined ? { description } : {}) });

describe('templates in the ledger', () => {
  let db: Awaited<ReturnType<typeof createDatabase>>;
  let ledger: Ledger;
  let seq = 1;

  before(async () => {
    db = await createDatabase('templates');
    ledger = openLedger({ databaseUrl: db.url, log });
    await migrate(ledger, log);
  });
  after(async () => {
    await ledger.close();
    await db.drop();
  });

  it('writes versions 1, 2 …, and no new version for the content of the latest', async () => {
    const v1 = def('py', { image: 'python:3.12', env: { LOG: 'info' } }, 'Python jobs');
    assert.deepEqual(await putTemplate(ledger, v1, seq++), { version: 1, created: true });
    // The same content, its keys in another order, as a new put: nothing new.
    const again = def('py', { env: { LOG: 'info' }, image: 'python:3.12' }, 'Python jobs');
    assert.deepEqual(await putTemplate(ledger, again, seq++), { version: 1, created: false });
    assert.deepEqual(await putTemplate(ledger, def('py', { image: 'python:3.13', env: { LOG: 'info' } }, 'Python jobs'), seq++), { version: 2, created: true });
    // Only the description changed: that is new content too.
    assert.deepEqual(await putTemplate(ledger, def('py', { image: 'python:3.13', env: { LOG: 'info' } }, 'Python 3.13 jobs'), seq++), { version: 3, created: true });
    // An older content again is a new version: versions never go back.
    assert.deepEqual(await putTemplate(ledger, v1, seq++), { version: 4, created: true });
    const rows = await ledger.query<{ version: number }>("SELECT version FROM templates WHERE name = 'py' ORDER BY version");
    assert.deepEqual(rows.map((r) => r.version), [1, 2, 3, 4]);
  });

  it('recognizes a redelivered put by its sequence, even after a newer version', async () => {
    const x = def('redelivered', { image: 'x' });
    const s = seq++;
    assert.deepEqual(await putTemplate(ledger, x, s), { version: 1, created: true });
    assert.deepEqual(await putTemplate(ledger, def('redelivered', { image: 'y' }), seq++), { version: 2, created: true });
    assert.deepEqual(await putTemplate(ledger, x, s), { version: 1, created: false }, 'the redelivery makes no version 3');
    // The stream made anew starts its sequences again: a put of other content under an old sequence is not a redelivery.
    assert.deepEqual(await putTemplate(ledger, def('redelivered', { image: 'z' }), s), { version: 3, created: true });
  });

  it('two puts of one name at once: distinct content gives two versions, the same content one', async () => {
    const [a, b] = await Promise.all([
      putTemplate(ledger, def('race', { image: 'a' }), seq++), putTemplate(ledger, def('race', { image: 'b' }), seq++),
    ]);
    assert.deepEqual([a.version, b.version].sort(), [1, 2]);
    assert.ok(a.created && b.created);
    const same = await Promise.all(Array.from({ length: 6 }, () => putTemplate(ledger, def('race-same', { image: 'a' }), seq++)));
    assert.deepEqual(same.map((r) => r.version), [1, 1, 1, 1, 1, 1]);
    assert.equal(same.filter((r) => r.created).length, 1, 'one of them wrote it');
  });

  it('reads one version, the latest, and the list by name a page at a time', async () => {
    assert.equal((await getTemplate(ledger, 'py'))?.version, 4);
    const v2 = await getTemplate(ledger, 'py', 2);
    assert.deepEqual([v2?.version, v2?.spec, v2?.description], [2, { image: 'python:3.13', env: { LOG: 'info' } }, 'Python jobs']);
    assert.equal(await getTemplate(ledger, 'py', 9), null);
    assert.equal(await getTemplate(ledger, 'nope'), null);
    const first = await listTemplates(ledger, { limit: 2 });
    assert.deepEqual(first.map((t) => [t.name, t.version]), [['py', 4], ['race', 2], ['race-same', 1]], 'two and one more: another page follows');
    const rest = await listTemplates(ledger, { after: 'race', limit: 10 });
    assert.deepEqual(rest.map((t) => t.name), ['race-same', 'redelivered']);
  });

  it('keeps secret values out of spec, sealed with the key, opened for the merge, and compared by value', async () => {
    const key = parseSecretsKey('3c'.repeat(32));
    const t = def('with-secret', { image: 'x', secret_env: { TOKEN: SECRET } });
    assert.deepEqual(await putTemplate(ledger, t, seq++, { secretsKey: key }), { version: 1, created: true });
    const [row] = await ledger.query<{ text: string; spec: unknown }>("SELECT t::text AS text, spec FROM templates t WHERE name = 'with-secret'");
    assert.ok(!row!.text.includes(SECRET), 'no column holds the value');
    assert.deepEqual(row!.spec, { image: 'x', secret_env: { TOKEN: '(secret)' } });
    assert.deepEqual((await getTemplate(ledger, 'with-secret'))?.spec, { image: 'x', secret_env: { TOKEN: '(secret)' } });
    // Sealing is random each time: the same value again is still the same content.
    assert.deepEqual(await putTemplate(ledger, t, seq++, { secretsKey: key }), { version: 1, created: false });
    assert.deepEqual(await putTemplate(ledger, def('with-secret', { image: 'x', secret_env: { TOKEN: 'other' } }), seq++, { secretsKey: key }), { version: 2, created: true });
    const found = await readTemplates(ledger, [{ name: 'with-secret', version: 1 }], { secretsKey: key });
    assert.deepEqual(found.get('with-secret:1')?.found?.spec, { image: 'x', secret_env: { TOKEN: SECRET } });
    await assert.rejects(readTemplates(ledger, [{ name: 'with-secret', version: 1 }]), (e: unknown) =>
      (e as { code?: string; field?: string }).code === 'invalid_row' && (e as { field?: string }).field === 'templates.secrets');
  });

  it('resolves a batch\'s references in one read, and says what is missing', async () => {
    const refs = [{ name: 'py', version: null }, { name: 'py', version: 2 }, { name: 'py', version: 9 }, { name: 'nope', version: null }, { name: 'py', version: null }];
    const found = await readTemplates(ledger, refs);
    assert.deepEqual([...found.keys()].sort(), ['nope', 'py', 'py:2', 'py:9']);
    assert.equal(found.get(refKey({ name: 'py', version: null }))?.found?.version, 4);
    assert.deepEqual(found.get('py:2')?.found?.spec, { image: 'python:3.13', env: { LOG: 'info' } });
    assert.deepEqual(found.get('py:9'), { found: null, latest: 4 });
    assert.deepEqual(found.get('nope'), { found: null, latest: null });
  });

  it('records the template and version a task was merged with, and forgets them on a plain resubmission', async () => {
    const [resolved] = [...(await readTemplates(ledger, [{ name: 'py', version: 2 }])).values()];
    const spec = parseTaskSpec(applyTemplate(resolved!.found!.spec, { name: 'templated', executor: 'process', command: ['true'], env: { EXTRA: '1' } }));
    await submitTasks(ledger, [{ seq: seq++, spec, template: { name: 'py', version: 2 } }], new Date());
    const view = await getTask(ledger, 'templated');
    assert.deepEqual([view?.template, view?.template_version, view?.spec.env], ['py', 2, { LOG: 'info', EXTRA: '1' }]);
    await cancelTasks(ledger, ['templated']);
    await submitTasks(ledger, [{ seq: seq++, spec: parseTaskSpec({ name: 'templated', executor: 'process', command: ['true'] }) }], new Date());
    const again = await getTask(ledger, 'templated');
    assert.deepEqual([again?.template, again?.template_version], [null, null]);
  });

  it('a run of a cron task started beside another (concurrency allow) records its parent\'s template', async () => {
    const spec = parseTaskSpec(applyTemplate({ executor: 'process', command: ['true'] }, { name: 'cron-templated', cron: '@hourly', concurrency: 'allow' }));
    await submitTasks(ledger, [{ seq: seq++, spec, template: { name: 'py', version: 3 } }], new Date());
    await ledger.query("UPDATE tasks SET next_run_at = date_trunc('second', now()) - interval '1 second' WHERE name = 'cron-templated'");
    const [due] = (await readDueTasks(ledger, new Date(), 1000)).filter((d) => d.name === 'cron-templated');
    assert.ok(due);
    const child = { name: 'cron-templated-20261122T100000', spec: { ...due.spec, name: 'cron-templated-20261122T100000', cron: null, timezone: null, concurrency: 'forbid' as const } };
    const applied = await applyFires(ledger, [{
      name: due.name, version: due.version, from: due.state, due: due.next_run_at, fire_time: due.next_run_at, missed_from: null, attempt: 0, host: null,
      outcome: 'fired', next_run_at: new Date(Date.now() + 3_600_000), child,
    }]);
    assert.equal(applied.applied.length, 1);
    const view = await getTask(ledger, child.name);
    assert.deepEqual([view?.template, view?.template_version], ['py', 3]);
  });
});
