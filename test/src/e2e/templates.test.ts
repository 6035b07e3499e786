import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ServerError, TangerineClient } from '@tangerine/client';
import { Subjects, type TaskView, type TemplateList, type TemplateStored, type TemplateView } from '@tangerine/contracts';
import { Cluster } from '../helpers/cluster.js';
import { ROOT } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const HOST = 'templates-a';
const SECRET = `template-secret-${Math.random().toString(36).slice(2, 12)}`;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The `nats pub` / `nats req` lines of the README's Templates section, in order: subject, payload, and which. */
function readmeLines(): { verb: 'pub' | 'req' | 'sub'; subject: string; payload: string }[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Templates'), readme.indexOf('\n## ', readme.indexOf('## Templates') + 1));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const sub = /^nats sub '([^']+)'(?:\s+#.*)?$/.exec(line);
    if (sub) return { verb: 'sub' as const, subject: sub[1]!, payload: '' };
    const m = /^nats (pub|req) (\S+) '(.*?)'(?:\s+#.*)?$/.exec(line);
    assert.ok(m, `a README line that is not a nats pub, req or sub: ${line}`);
    return { verb: m[1] as 'pub' | 'req', subject: m[2]!, payload: m[3]! };
  });
}

/**
 * Templates end to end, as a submitter: every call is made with the submitter's identity (what `npm start` prints),
 * so the grants are shown too. The README's examples are run as written, then the rest through libs/client.
 */
describe('templates end to end', () => {
  const cluster = new Cluster('templates', { SECRETS_KEY: '7e'.repeat(32) });
  let client: TangerineClient;

  before(async () => {
    await cluster.start({ agents: [{ host: HOST, slots: 4 }] });
    client = await TangerineClient.connect({ servers: cluster.nats.url, name: 'test-submitter', ...cluster.identities!.options({ kind: 'submitter' }) });
  });
  after(async () => {
    await client?.close();
    await cluster.stop();
  });

  const finished = (name: string): Promise<TaskView> => client.waitForState(name, ['success', 'failed', 'blocked', 'cancelled'], { timeoutMs: 60_000 });
  const outputOf = async (t: TaskView): Promise<string> => (await client.output(t.name, t.attempt)).output.trim();

  it('runs the README\'s examples as written', async () => {
    const replies: unknown[] = [];
    // What `nats sub 'templates.events.>'` shows: intake's answer to each put.
    const answers: TemplateStored[] = [];
    const subs: { unsubscribe(): void }[] = [];
    for (const line of readmeLines()) {
      if (line.verb === 'sub') {
        subs.push(client.nc.subscribe(line.subject, { callback: (_e, m) => { answers.push(JSON.parse(dec.decode(m.data)) as TemplateStored); } }));
        await client.nc.flush();
        replies.push(null);
        continue;
      }
      if (line.verb === 'pub') {
        // What `nats pub` sends: a core publish, no headers, no reply.
        client.nc.publish(line.subject, enc.encode(line.payload));
        await client.nc.flush();
        replies.push(null);
        continue;
      }
      if (line.subject === Subjects.get.subject) {
        // A user asks again until the task has run.
        const name = (JSON.parse(line.payload) as { name: string }).name;
        replies.push(await finished(name));
        continue;
      }
      const reply = JSON.parse(dec.decode((await client.nc.request(line.subject, enc.encode(line.payload), { timeout: 5000 })).data)) as { seq?: number };
      replies.push(reply);
      // The reply to a put is JetStream's ack (stored); a user reads on when intake's answer comes.
      if (line.subject === Subjects.templatePut.subject) await waitFor(`the answer to put ${reply.seq}`, () => answers.find((a) => a.seq === reply.seq));
    }
    for (const sub of subs) sub.unsubscribe();
    assert.deepEqual(answers.map((a) => [a.name, a.version, a.created]), [['greeter', 1, true], ['greeter', 2, true]]);
    const world = replies[3] as TaskView;
    assert.deepEqual([world.state, world.template, world.template_version], ['success', 'greeter', 1]);
    assert.deepEqual(world.spec.env, { GREETING: 'hello', WHO: 'world' }, 'env merged key by key');
    assert.equal(world.spec.max_failures, 1, 'a field the task did not give comes from the template');
    assert.equal(await outputOf(world), 'hello, world');
    // Submitted after version 2 was stored, naming version 1.
    const again = await finished('greet-again');
    assert.deepEqual([again.state, again.template, again.template_version], ['success', 'greeter', 1]);
    assert.equal(await outputOf(again), 'hello, again');
    const latest = replies[6] as TemplateView;
    assert.deepEqual([latest.name, latest.version, latest.description, latest.spec['env']], ['greeter', 2, null, { GREETING: 'hi' }]);
    const list = replies[7] as TemplateList;
    assert.deepEqual(list.templates.map((t) => [t.name, t.version]), [['greeter', 2]]);
    // The first put's reply is JetStream's publish ack: stored, then handled by intake.
    assert.equal((replies[1] as { stream?: string }).stream, 'TANGERINE_COMMANDS');
  });

  it('a template put twice is one version; a task naming it runs with the merged env and its secret, and shows its version', async () => {
    const def = {
      name: 'reporter', description: 'Reports', spec: {
        executor: 'process', command: ['sh', '-c', 'echo "$MODE $REGION token:${#TOKEN}"'], env: { MODE: 'batch', REGION: 'eu' },
        secret_env: { TOKEN: SECRET },
      },
    };
    const first = await client.putTemplate(def, { wait: true });
    assert.deepEqual([first.outcome?.stored?.version, first.outcome?.stored?.created, first.outcome?.stored?.seq], [1, true, first.seq]);
    // The same content, keys in another order: nothing new.
    const second = await client.putTemplate({ spec: { ...def.spec, env: { REGION: 'eu', MODE: 'batch' } }, description: 'Reports', name: 'reporter' }, { wait: true });
    assert.deepEqual([second.outcome?.stored?.version, second.outcome?.stored?.created], [1, false]);
    const shown = await client.getTemplate('reporter');
    assert.deepEqual([shown.version, shown.spec['secret_env']], [1, { TOKEN: '(secret)' }]);

    const { outcome } = await client.submit({ name: 'report-1', template: 'reporter', env: { MODE: 'adhoc' } }, { wait: true });
    assert.equal(outcome?.event?.name, 'report-1', JSON.stringify(outcome));
    const task = await finished('report-1');
    assert.deepEqual([task.state, task.template, task.template_version], ['success', 'reporter', 1]);
    assert.deepEqual(task.spec.env, { MODE: 'adhoc', REGION: 'eu' });
    assert.deepEqual(task.spec.secret_env, { TOKEN: '(secret)' });
    assert.equal(await outputOf(task), `adhoc eu token:${SECRET.length}`, 'the run got the template\'s secret');
    assert.ok(!JSON.stringify([shown, task]).includes(SECRET));
  });

  it('a new version, and a task naming the old one by its version', async () => {
    const v2 = await client.putTemplate({ name: 'reporter', spec: { executor: 'process', command: ['sh', '-c', 'echo "v2 $MODE"'], env: { MODE: 'stream' } } }, { wait: true });
    assert.deepEqual([v2.outcome?.stored?.version, v2.outcome?.stored?.created], [2, true]);
    await client.submit({ name: 'report-new', template: 'reporter' });
    await client.submit({ name: 'report-old', template: 'reporter:1', env: { REGION: 'us' } });
    const [fresh, old] = await Promise.all([finished('report-new'), finished('report-old')]);
    assert.deepEqual([fresh.template_version, await outputOf(fresh)], [2, 'v2 stream']);
    assert.deepEqual([old.template_version, await outputOf(old)], [1, `batch us token:${SECRET.length}`]);
    assert.equal((await client.getTemplate('reporter', 1)).description, 'Reports');
    const page = await client.listTemplates({ limit: 1 });
    assert.deepEqual([page.templates.map((t) => t.name), page.next], [['greeter'], 'greeter']);
    const all: string[] = [];
    for await (const t of client.templatesAll({ limit: 1 })) all.push(`${t.name}:${t.version}`);
    assert.deepEqual(all, ['greeter:2', 'reporter:2']);
  });

  it('merges each spec with the template as it stood at its place in stream order', async () => {
    // Published back to back, so intake takes them in one batch or a few: a spec before a put gets the version
    // before it, a spec after it the new one.
    await client.putTemplate({ name: 'ordered', spec: { executor: 'process', command: ['echo', 'one'] } }, { wait: true });
    await client.submit({ name: 'ordered-before', template: 'ordered' });
    await client.putTemplate({ name: 'ordered', spec: { executor: 'process', command: ['echo', 'two'] } });
    await client.submit({ name: 'ordered-after', template: 'ordered' });
    const [before, after] = await Promise.all([finished('ordered-before'), finished('ordered-after')]);
    assert.deepEqual([before.template_version, await outputOf(before)], [1, 'one']);
    assert.deepEqual([after.template_version, await outputOf(after)], [2, 'two']);
  });

  it('an unknown template, or an unknown version, is rejected naming template', async () => {
    const cases: [string, string][] = [
      ['nope', 'template: no template named "nope"'],
      ['reporter:9', 'template: template "reporter" has no version 9 (its latest is 2)'],
    ];
    for (const [template, reason] of cases) {
      const { outcome } = await client.submit({ name: 'unknown-template', template }, { wait: true });
      assert.deepEqual([outcome?.rejected?.code, outcome?.rejected?.field, outcome?.rejected?.reason], ['template_not_found', 'template', reason]);
    }
    await assert.rejects(client.get('unknown-template'), (e: unknown) => e instanceof ServerError && e.code === 'not_found');
  });

  it('a template that breaks a rule is rejected naming the field, and stores nothing', async () => {
    const { outcome } = await client.putTemplate({ name: 'broken', spec: { image: 5 } }, { wait: true });
    assert.deepEqual([outcome?.rejected?.code, outcome?.rejected?.field], ['invalid_template', 'spec.image']);
    assert.equal(outcome?.rejected?.name, 'broken');
    await assert.rejects(client.getTemplate('broken'), (e: unknown) => e instanceof ServerError && e.code === 'template_not_found' && e.field === 'name');
    await assert.rejects(client.getTemplate('reporter', 7), (e: unknown) => e instanceof ServerError && e.code === 'template_not_found' && e.field === 'version');
  });

  it('leaves no permission refused to the cluster\'s processes', () => {
    assert.deepEqual(cluster.serviceViolations(), []);
  });
});
