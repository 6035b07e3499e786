// A running task's output, live (issue 13): the agent publishes it while the run runs, libs/client's follow joins it,
// `tangerine logs -f` and the HTTP follow route show it before the run ends. Real servers, a real process and a real
// container; timing is asserted on events (the line arrives while the ledger still says `running`), never on sleeps.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { TangerineClient } from '@tangerine/client';
import { jetstreamManager } from '@nats-io/jetstream';
import { OUTPUT_MAX_CONSUMERS } from '@tangerine/bus';
import { Streams, Subjects, type OutputChunk } from '@tangerine/contracts';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';
import { ROOT } from '../helpers/processes.js';

const HOST = 'live-a';
/** Prints six lines, one a second, the first after a second: a run of about 7 s. */
const SIX_LINES = 'sleep 1; for i in 1 2 3 4 5 6; do echo "line $i"; sleep 1; done';
const ALL = [1, 2, 3, 4, 5, 6].map((i) => `line ${i}\n`).join('');

/** Lines `line k` … `line 6`, in order, each once: the output heard from some point of the run to its end. */
function assertTail(text: string): void {
  const lines = text.split('\n').filter(Boolean);
  assert.ok(lines.length > 0, 'some output');
  const first = Number(/^line (\d)$/.exec(lines[0]!)?.[1]);
  assert.deepEqual(lines, Array.from({ length: 7 - first }, (_, i) => `line ${first + i}`), text);
}

describe('live output: logs -f and the HTTP follow show a running task\'s output before it ends', () => {
  const cluster = new Cluster('live-output');
  let client: TangerineClient;

  before(async () => {
    await cluster.start({ agents: [{ host: HOST, slots: 4, executors: 'docker,process' }] });
    client = await TangerineClient.connect({ servers: cluster.nats.url, name: 'test-submitter', ...cluster.identities!.options({ kind: 'submitter' }) });
  });
  after(async () => {
    await client?.close();
    await cluster.stop();
  });

  /** `tangerine logs -f NAME` as a user runs it (the submitter): its exit code, its stdout, and the state the ledger gave when its first line came. */
  const logsFollow = async (name: string): Promise<{ code: number | null; stdout: string; stderr: string; stateAtFirstLine: string | null }> => {
    const env = { PATH: process.env['PATH'] ?? '', NATS_URL: cluster.nats.url, ...cluster.identities!.env({ kind: 'submitter' }) };
    const child = spawn(process.execPath, [path.join(ROOT, 'cli/dist/main.js'), 'logs', '-f', name, '--timeout', '60'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const first: { state: Promise<string> | null } = { state: null };
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      first.state ??= client.get(name).then((v) => v.state);
    });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    return { code, stdout, stderr, stateAtFirstLine: first.state ? await first.state : null };
  };

  for (const [label, spec] of [
    ['a process run', { executor: 'process', command: ['sh', '-c', SIX_LINES] }],
    ['a container', { image: TEST_IMAGE, command: ['sh', '-c', SIX_LINES] }],
  ] as const) {
    it(`logs -f prints ${label}'s first line while it still runs, then the rest, and exits with its result`, async () => {
      const name = `live-cli-${spec.image ? 'docker' : 'process'}`;
      cluster.client.submit({ name, ...spec, restartable: false });
      await client.waitForState(name, ['placed', 'running'], { timeoutMs: 60_000 });
      const { code, stdout, stderr, stateAtFirstLine } = await logsFollow(name);
      assert.equal(stateAtFirstLine, 'running', `the first line came while the ledger said running (stderr: ${stderr})`);
      assertTail(stdout);
      assert.equal(code, 0, stderr);
      // Once ended, follow gives the stored output, whole.
      let stored = '';
      for await (const c of client.follow(name, 1)) stored += c.data;
      assert.equal(stored, ALL);
    });
  }

  it('GET /v1/tasks/:name/runs/:attempt/output?follow=true streams the output as text while the run runs, ending with it', async () => {
    const name = 'live-http';
    cluster.client.submit({ name, executor: 'process', command: ['sh', '-c', SIX_LINES], restartable: false });
    // The README's `nats sub` of a run's live output, as the submitter: it hears the chunks too.
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const subject = /`nats sub '(output\.[^']+)'`/.exec(readme)?.[1];
    assert.ok(subject, 'the README shows a nats sub of live output');
    const raw: Uint8Array[] = [];
    const sub = client.nc.subscribe(subject.replace('NAME', name), { callback: (_e, m) => { raw.push(m.data); } });
    await client.waitForState(name, ['placed', 'running'], { timeoutMs: 60_000 });
    const base = await cluster.httpUrl();
    const res = await fetch(`${base}/v1/tasks/${name}/runs/1/output?follow=true`, { headers: { authorization: `Bearer ${cluster.apiTokens.read}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    let stateAtFirst: string | null = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      if (stateAtFirst === null && text.includes('line')) stateAtFirst = (await client.get(name)).state;
    }
    assert.equal(stateAtFirst, 'running', 'the first line came while the ledger said running');
    assertTail(text);
    assert.equal((await client.get(name)).state, 'success', 'the response ended with the run');
    sub.unsubscribe();
    const heard: OutputChunk[] = raw.map((d) => Subjects.liveOutput.parse(JSON.parse(new TextDecoder().decode(d))));
    assert.ok(heard.length > 0, 'the README\'s subscription heard chunks');
    assert.ok(heard.every((c) => c.name === name && c.attempt === 1 && c.host === HOST && c.data.length <= 16 * 1024));
    assert.ok(ALL.endsWith(heard.map((c) => c.data).join('')), 'the chunks are the output, in order');
  });

  it('logs -f of a run already printing shows it from its first line, then live, as docker logs -f does', async () => {
    const name = 'live-late';
    const printed: string[] = [];
    const sub = client.nc.subscribe(Subjects.liveOutput.make('*', name, 1), {
      callback: (_e, m) => { printed.push(Subjects.liveOutput.parse(JSON.parse(new TextDecoder().decode(m.data))).data); },
    });
    cluster.client.submit({ name, executor: 'process', command: ['sh', '-c', SIX_LINES], restartable: false });
    // Joined once the run has printed its second line: nothing of the follow was listening before.
    const deadline = Date.now() + 60_000;
    while (!printed.join('').includes('line 2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    sub.unsubscribe();
    assert.ok(printed.join('').includes('line 2'), 'the run printed two lines before the follow began');
    const { code, stdout, stderr, stateAtFirstLine } = await logsFollow(name);
    assert.equal(stateAtFirstLine, 'running', `the first lines came while the ledger said running (stderr: ${stderr})`);
    assert.equal(stdout, ALL, 'every line once, from the first');
    assert.equal(code, 0, stderr);
  });

  it('a follow still hears a run when the output stream holds all the consumers it allows (1,000 followers)', async () => {
    const jsm = await jetstreamManager(cluster.client.nc);
    const held = (await jsm.streams.info(Streams.output.name)).state.consumer_count;
    const names = Array.from({ length: OUTPUT_MAX_CONSUMERS - held }, (_, i) => `hold-${i}`);
    for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => jsm.consumers.add(Streams.output.name, { name: n, inactive_threshold: 120_000_000_000 })));
    try {
      await assert.rejects(jsm.consumers.add(Streams.output.name, { name: 'one-more' }), /maximum consumers limit reached/);
      const name = 'live-at-limit';
      cluster.client.submit({ name, executor: 'process', command: ['sh', '-c', SIX_LINES], restartable: false });
      await cluster.client.waitForState(name, 'running', 30_000);
      let text = '';
      for await (const c of client.follow(name, 1)) text += c.data;
      assert.equal(text, ALL, 'every line once: heard from a core subscription, or the stored output at the end');
    } finally {
      for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => jsm.consumers.delete(Streams.output.name, n)));
    }
  });

  it('the HTTP follow of a run that never comes (its task is finished) is not_found, as the plain read', async () => {
    const base = await cluster.httpUrl();
    const res = await fetch(`${base}/v1/tasks/live-cli-process/runs/9/output?follow=true`, { headers: { authorization: `Bearer ${cluster.apiTokens.read}` } });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
  });
});
