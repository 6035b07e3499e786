import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Streams, Subjects, type DeadLetter, type TaskView } from '@tangerine/contracts';
import pg from 'pg';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

const HOST = 'secrets-a';
/** Recognizable anywhere it might leak: a log line, an event, a reply, a stream message. */
const SECRET = `tangerine-secret-${Math.random().toString(36).slice(2, 12)}`;
const SECRET_HASH = createHash('sha256').update(SECRET).digest('hex');
const dec = new TextDecoder();

/** The task prints the hash of what it was given, never the value: its output may be read by anyone. */
const printHash = ['sh', '-c', 'printf %s "$DB_PASSWORD" | sha256sum; printf "mode=%s\\n" "$MODE"'];

/** Every message a stream holds now, as text. */
async function streamTexts(jsm: JetStreamManager, stream: string): Promise<string[]> {
  const { state } = await jsm.streams.info(stream);
  const texts: string[] = [];
  for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m) texts.push(`${m.subject} ${dec.decode(m.data)}`);
  }
  return texts;
}

/** The ledger's key, as a swarm secret is mounted: a file that SECRETS_KEY_FILE names. */
function keyFile(): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'tangerine-secrets-')), 'secrets_key');
  writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  return file;
}

/**
 * Secret env values end to end: the task's container and process get them, and nothing else does. Every process of
 * the cluster logs at debug; every line of each, every event and dead letter kept, and every read is searched for
 * the value. The ledger seals them with the key of SECRETS_KEY_FILE.
 */
describe('secret env values end to end', () => {
  const cluster = new Cluster('secrets', { LOG_LEVEL: 'debug', SECRETS_KEY_FILE: keyFile() });
  const deadLetters: DeadLetter[] = [];
  let jsm: JetStreamManager;

  before(async () => {
    await cluster.start({ agents: [{ host: HOST, slots: 4 }] });
    cluster.client.nc.subscribe(Subjects.deadLetters.wildcard, {
      callback: (_e, m) => { deadLetters.push(JSON.parse(dec.decode(m.data)) as DeadLetter); },
    });
    await cluster.client.nc.flush();
    jsm = await jetstreamManager(cluster.client.nc);
  });
  after(async () => {
    await cluster.stop();
  });

  const spec = (name: string, extra: Record<string, unknown>) =>
    ({ name, env: { MODE: 'plain' }, secret_env: { DB_PASSWORD: SECRET }, command: printHash, restartable: false, ...extra });

  for (const [executor, extra] of [['docker', { image: TEST_IMAGE }], ['process', { executor: 'process' }]] as const) {
    it(`a ${executor} task gets the value in its environment; tasks.get, tasks.list and tasks.runs show the name alone`, async () => {
      const name = `secret-${executor}`;
      cluster.client.submit(spec(name, extra));
      const done = await cluster.client.waitForState(name, 'success', 60_000);
      const output = (await cluster.client.client.output(name, 1)).output;
      assert.match(output, new RegExp(`^${SECRET_HASH}\\s+-\\nmode=plain\\n$`), 'the run saw the value and the plain env');
      assert.deepEqual(done.spec.secret_env, { DB_PASSWORD: '(secret)' });
      assert.deepEqual(done.spec.env, { MODE: 'plain' });
      const replies: unknown[] = [
        done, await cluster.client.get(name), await cluster.client.client.list({ prefix: 'secret-' }),
        await cluster.client.client.runs(name), await cluster.client.request('tasks.get', { name }),
      ];
      for (const reply of replies) assert.ok(!JSON.stringify(reply).includes(SECRET), JSON.stringify(reply).slice(0, 500));
    });
  }

  it('a task that fails and is retried gets the value on every attempt', async () => {
    // Exits 3 (recoverable) until the second attempt, which sees the secret and succeeds.
    cluster.client.submit({
      name: 'secret-retried', executor: 'process', secret_env: { DB_PASSWORD: SECRET }, recoverable_exitcodes: [3], retry_delay: 0,
      command: ['sh', '-c', '[ "$TANGERINE_ATTEMPT" = 2 ] || exit 3; printf %s "$DB_PASSWORD" | sha256sum'],
    });
    const done = await cluster.client.waitForState('secret-retried', 'success', 60_000);
    assert.equal(done.attempt, 2);
    assert.match((await cluster.client.client.output('secret-retried', 2)).output, new RegExp(`^${SECRET_HASH}\\s`));
  });

  it('the ledger holds the values of a task still to run sealed, and forgets them when it is cancelled', async () => {
    cluster.client.submit(spec('secret-waiting', { image: TEST_IMAGE, dependencies: ['secret-never-submitted'] }));
    await cluster.client.waitForState('secret-waiting', 'waiting', 20_000);
    const db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
    try {
      const rows = (await db.query<{ text: string }>("SELECT env::text AS text FROM task_secrets WHERE task = 'secret-waiting'")).rows;
      assert.equal(rows.length, 1);
      assert.match(rows[0]!.text, /^"aes-256-gcm:[0-9a-f]{8}:/);
      assert.ok(!rows[0]!.text.includes(SECRET));
      cluster.client.cancel('secret-waiting');
      await cluster.client.waitForState('secret-waiting', 'cancelled', 20_000);
      assert.equal((await db.query("SELECT 1 FROM task_secrets WHERE task = 'secret-waiting'")).rowCount, 0);
    } finally {
      await db.end();
    }
  });

  it('rejections of bad specs carrying the value name the field and show the names, never the value', async () => {
    const bad: [string, unknown, string][] = [
      ['secret-bad-image', spec('secret-bad-image', { image: 5 }), 'image'],
      ['secret-in-both', spec('secret-in-both', { image: TEST_IMAGE, env: { DB_PASSWORD: SECRET } }), 'secret_env.DB_PASSWORD'],
      ['secret-no-name', spec('secret-no-name', { image: TEST_IMAGE, secret_env: [SECRET] }), 'secret_env[0]'],
    ];
    for (const [, body] of bad) cluster.client.submit(body);
    cluster.client.submit(`{"name": "secret-not-json", "secret_env": {"DB_PASSWORD": "${SECRET}"`);
    for (const [name, , field] of bad) {
      const r = await cluster.client.waitForRejection((x) => x.name === name);
      assert.equal(r.field, field);
      assert.ok(!JSON.stringify(r).includes(SECRET), JSON.stringify(r));
    }
    const first = await cluster.client.waitForRejection((x) => x.name === 'secret-bad-image');
    assert.deepEqual((JSON.parse(first.payload) as { secret_env: unknown }).secret_env, { DB_PASSWORD: '***' });
    const broken = await cluster.client.waitForRejection((x) => x.code === 'invalid_json' && x.payload.includes('secret_env'));
    assert.ok(!JSON.stringify(broken).includes(SECRET), JSON.stringify(broken));
  });

  it('a dispatch the agent cannot read is set aside with its secret values hidden', async () => {
    const js = jetstream(cluster.client.nc);
    const ack = await js.publish(Subjects.agentRun.make(HOST), JSON.stringify({
      name: 'secret-forged', attempt: 1, host: HOST, spec: { name: 'secret-forged', secret_env: { DB_PASSWORD: SECRET } },
    }));
    const letter = await waitFor('the dead letter of the dispatch', () => deadLetters.find((d) => d.seq === ack.seq && d.stream === Streams.dispatch.name), 30_000);
    assert.equal(letter.code, 'invalid_message');
    assert.ok(letter.payload.includes('"DB_PASSWORD":"***"'), letter.payload);
    assert.ok(!JSON.stringify(letter).includes(SECRET));
  });

  it('no event, dead letter, command left, log line of any process or read holds the value', async () => {
    const tasks = (await cluster.client.client.list({ prefix: 'secret-' })).tasks;
    assert.deepEqual(tasks.map((t: TaskView) => [t.name, t.state]), [
      ['secret-docker', 'success'], ['secret-process', 'success'], ['secret-retried', 'success'], ['secret-waiting', 'cancelled'],
    ]);
    // The submissions, which held the value, are gone from the commands stream once intake took them.
    await waitUntil('the commands stream is empty of the value', async () =>
      (await streamTexts(jsm, Streams.commands.name)).every((t) => !t.includes(SECRET)), 10_000);
    for (const stream of [Streams.events.name, Streams.dead.name, Streams.reports.name, Streams.dispatch.name]) {
      const texts = await streamTexts(jsm, stream);
      const leak = texts.find((t) => t.includes(SECRET));
      assert.equal(leak, undefined, `${stream} holds the value`);
    }
    const events = await streamTexts(jsm, Streams.events.name);
    assert.ok(events.some((t) => t.includes('secret-docker')), 'the events stream was read');
    for (const [key, p] of [...cluster.services, ...cluster.agents]) {
      assert.ok(p.lines.length > 0, `${key} logged`);
      const leak = p.lines.find((l) => JSON.stringify(l).includes(SECRET));
      assert.equal(leak, undefined, `${key} logged the value: ${JSON.stringify(leak)}`);
    }
  });
});
