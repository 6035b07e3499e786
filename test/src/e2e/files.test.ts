import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Objm } from '@nats-io/obj';
import { InvalidRequestError, TangerineClient } from '@tangerine/client';
import { FILES_BUCKET } from '@tangerine/contracts';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';
import { ROOT } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const HOST = 'files-a';
const MiB = 1024 * 1024;
const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/**
 * Files uploaded with a task, end to end with real servers and real containers: stored through libs/client as a
 * submitter stores them, fetched and checked by the agent, placed in the run's working directory, removed after.
 */
describe('files: uploaded with a task, placed in the run\'s working directory', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-files-'));
  const workDir = path.join(dir, 'work');
  // Retention deletes what no kept task names five seconds after it was stored (or its task finished): long enough
  // for a task to reach intake after its files were stored, on a busy machine.
  const cluster = new Cluster('files', { AGENT_WORK_DIR: workDir, FILES_MAX_BYTES: String(MiB), FILES_RETENTION: '5', PRUNE_INTERVAL: '0.5' });
  let client: TangerineClient;

  before(async () => {
    // What an agent that died left: the working directory of a process run, with a file in it.
    mkdirSync(path.join(workDir, 'left-behind-2'), { recursive: true });
    writeFileSync(path.join(workDir, 'left-behind-2', 'data.csv'), 'a,b\n');
    await cluster.start({ agents: [{ host: HOST, executors: 'docker,process', slots: 4 }] });
    client = await TangerineClient.connect({ servers: cluster.nats.url, ...cluster.identities!.options({ kind: 'submitter' }) });
  });
  after(async () => {
    await client?.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Two files, one from bytes and one from a path on disk, as a user stores them before submitting. */
  async function twoFiles(tag: string): Promise<Awaited<ReturnType<TangerineClient['putFile']>>[]> {
    const local = path.join(dir, `${tag}.json`);
    writeFileSync(local, JSON.stringify({ blanket: tag }));
    return [
      await client.putFile(new TextEncoder().encode(`hello from ${tag}\n`), { name: 'greeting.txt' }),
      await client.putFile(local),
    ];
  }

  for (const executor of ['docker', 'process'] as const) {
    it(`a ${executor} run cats its two files from its working directory, and the directory is gone after`, async () => {
      const files = await twoFiles(executor);
      assert.deepEqual(files.map((f) => f.name), ['greeting.txt', `${executor}.json`]);
      assert.equal(files[0]!.sha256, sha256(`hello from ${executor}\n`));
      const name = `cat-${executor}`;
      const command = ['sh', '-c', `pwd; cat greeting.txt ${executor}.json`];
      await client.submit(executor === 'docker' ? { name, image: TEST_IMAGE, command, files } : { name, executor, command, files });
      const t = await cluster.client.waitForState(name, 'success', 60_000);
      const output = t.runs?.[0]?.output ?? '';
      assert.match(output, new RegExp(`hello from ${executor}\\n\\{"blanket":"${executor}"\\}`));
      assert.match(output, executor === 'docker' ? /^\/tangerine\/work$/m : new RegExp(`^${workDir}/${name}-1$`, 'm'));
      assert.deepEqual(t.spec.files, files, 'the task shows its files');
      await waitFor(`the working directory of ${name} is removed`, () => !readdirSync(workDir).some((e) => e.startsWith(name)) || undefined, 10_000);
    });
  }

  it('an agent that starts removes the run directories that no run it holds needs', () => {
    assert.equal(existsSync(path.join(workDir, 'left-behind-2')), false);
  });

  it('runs the README\'s example of a task with files', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const example = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as { name: string; files?: unknown })
      .find((spec) => spec.name === 'with-files');
    assert.ok(example, 'the README shows the example');
    const stored = [await client.putFile(new TextEncoder().encode('hello\n'), { name: 'greeting.txt' }),
      await client.putFile(Readable.from([Buffer.from('{"frogs": 5}\n')]), { name: 'blanket.json' })];
    assert.deepEqual(example.files, stored, 'the example names the files as putFile returns them');
    await client.submit(example);
    const t = await cluster.client.waitForState('with-files', 'success', 60_000);
    assert.equal(t.runs?.[0]?.output, 'hello\n{"frogs": 5}\n');
  });

  it('stores the same bytes once, however often they are put', async () => {
    const store = await new Objm(cluster.client.nc).open(FILES_BUCKET);
    const bytes = new TextEncoder().encode('the same bytes');
    const first = await client.putFile(bytes, { name: 'same.txt' });
    const before = await store.info(first.sha256);
    const again = await client.putFile(Readable.from([bytes.slice(0, 4), bytes.slice(4)]), { name: 'other-name.txt' });
    assert.equal(again.sha256, first.sha256);
    const after = await store.info(first.sha256);
    // Its metadata's stream sequence and its chunks' id: the one object, not written again.
    assert.deepEqual([after?.revision, after?.nuid], [before?.revision, before?.nuid], 'nothing stored again');
    assert.deepEqual(new Uint8Array(await client.getFile(first.sha256)), bytes);
  });

  it('refuses a file over FILES_MAX_BYTES before storing it, and a spec naming one at intake, naming the field', async () => {
    const big = new Uint8Array(MiB + 1);
    const err = await client.putFile(big, { name: 'big.bin', maxBytes: MiB }).then(() => assert.fail('stored'), (e: unknown) => e);
    assert.ok(err instanceof InvalidRequestError, String(err));
    assert.equal(err.field, 'file');
    assert.equal(err.message, `file: must be at most ${MiB} bytes (FILES_MAX_BYTES; got ${MiB + 1})`);
    await client.submit({ name: 'too-big', executor: 'process', command: ['true'], files: [{ name: 'big.bin', sha256: sha256(big), size: MiB + 1 }] });
    const r = await cluster.client.waitForRejection((x) => x.name === 'too-big');
    assert.equal(r.field, 'files[0].size');
    assert.equal(r.reason, `files[0].size: must be at most ${MiB} bytes (FILES_MAX_BYTES; got ${MiB + 1})`);
    await client.submit({ name: 'bad-name', executor: 'process', command: ['true'], files: [{ name: '../x', sha256: sha256('x'), size: 1 }] });
    const bad = await cluster.client.waitForRejection((x) => x.name === 'bad-name');
    assert.equal(bad.reason, 'files[0].name: must be a plain file name, without "/" (got "../x")');
  });

  it('a missing object fails the run with the reason, once, without starting it', async () => {
    const absent = sha256('never stored');
    await client.submit({ name: 'missing', executor: 'process', command: ['cat', 'a.txt'], files: [{ name: 'a.txt', sha256: absent, size: 12 }] });
    const t = await cluster.client.waitForState('missing', 'failed', 60_000);
    assert.equal(t.runs?.length, 1, 'not retried');
    assert.equal(t.runs?.[0]?.exit_code, null);
    assert.equal(t.runs?.[0]?.reason, `file_missing: files[0] "a.txt" (sha256 ${absent}) is not in the object store ${FILES_BUCKET} (store it before submitting; or retention removed it)`);
  });

  it('an object whose bytes are not those of its name fails the run with the reason', async () => {
    // Written by the test's admin identity straight into the bucket: other bytes under the name of "expected".
    const expected = 'the bytes the spec names';
    const os_ = await new Objm(cluster.client.nc).open(FILES_BUCKET);
    await os_.putBlob({ name: sha256(expected) }, new TextEncoder().encode('other bytes!!!!!!!!!!!!!'));
    await client.submit({ name: 'corrupt', image: TEST_IMAGE, command: ['cat', 'e.txt'], files: [{ name: 'e.txt', sha256: sha256(expected), size: expected.length }] });
    const t = await cluster.client.waitForState('corrupt', 'failed', 60_000);
    assert.equal(t.runs?.length, 1, 'not retried');
    assert.match(t.runs?.[0]?.reason ?? '', new RegExp(`^file_corrupt: files\\[0\\] "e.txt" \\(sha256 ${sha256(expected)}\\): the object holds 24 bytes of sha256 ${sha256('other bytes!!!!!!!!!!!!!')}, not the 24 bytes the spec gives$`));
    assert.deepEqual((await cluster.containers()).filter((c) => c.Labels['tangerine.task'] === 'corrupt'), [], 'no container was made');
    assert.ok(!readdirSync(workDir).some((e) => e.startsWith('corrupt')), 'its directory is gone');
  });

  it('retention deletes an object no kept task names, and keeps one a live task names', async () => {
    const store = await new Objm(cluster.client.nc).open(FILES_BUCKET);
    const stored = async (sha: string): Promise<boolean> => {
      const info = await store.info(sha);
      return info !== null && !info.deleted;
    };
    const loose = await client.putFile(new TextEncoder().encode('named by no task'), { name: 'loose.txt' });
    const live = await client.putFile(new TextEncoder().encode('named by a waiting task'), { name: 'live.txt' });
    const done = await client.putFile(new TextEncoder().encode('named by a finished task'), { name: 'done.txt' });
    // Waits for a dependency never submitted: live for as long as the test runs.
    await client.submit({ name: 'keeps-file', executor: 'process', command: ['cat', 'live.txt'], dependencies: ['never-comes'], files: [live] });
    await client.submit({ name: 'used-file', executor: 'process', command: ['cat', 'done.txt'], files: [done] });
    await cluster.client.waitForState('keeps-file', 'waiting', 30_000);
    await cluster.client.waitForState('used-file', 'success', 60_000);
    await waitFor('the object no task names is deleted', async () => !(await stored(loose.sha256)) || undefined, 20_000);
    await waitFor('the object of the finished task is deleted', async () => !(await stored(done.sha256)) || undefined, 20_000);
    // Passes go on every 0.5 s: the live task's object has outlived several since it was 5 s old.
    assert.equal(await stored(live.sha256), true, 'the object a live task names stays');
    assert.deepEqual(new Uint8Array(await client.getFile(live.sha256)), new TextEncoder().encode('named by a waiting task'));
  });
});
