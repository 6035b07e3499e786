import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { TaskView } from '@tangerine/contracts';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';
import { ROOT } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The sh blocks of the README's section on the replaced systems: their examples, as their READMEs give them. */
function sectionBlocks(): string[] {
  const start = readme.indexOf('## Coming from job-scheduler or Blanket');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Images the examples name, made here from the test image (no registry is reachable): removed after if made here. */
const STAND_INS: Record<string, string> = {
  'python:2.7-slim': 'CMD ["sh", "-c", "echo python stand-in: $key1 $key2"]',
  'alpine:latest': 'CMD ["sh"]',
};

/**
 * The examples of job-scheduler's and Blanket's READMEs (shared/seeds), as the README's section shows them, run with
 * curl against Tangerine with only the host and port changed (`$TOKEN@127.0.0.1:8080`, the token in the URL's user
 * part). What a `| python -mjson.tool` would print is read here as JSON: the pipe only pretty-prints.
 */
describe('the routes of job-scheduler and Blanket, their README examples as written', () => {
  const cluster = new Cluster('seeds', { CRON_TICK: '0.2' });
  let base = '';
  let hostPort = '';
  const made: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-seeds-'));

  /** Runs a README line with bash in `dir`, the host and port replaced; its stdout. */
  const sh = async (line: string): Promise<string> => {
    const text = line.replaceAll('$TOKEN@127.0.0.1:8080', hostPort).replace(/\s*\|\s*python -mjson\.tool\s*$/, '');
    const { stdout } = await run('bash', ['-c', text], { cwd: dir, timeout: 30_000 });
    return stdout;
  };
  const api = async (method: string, route: string): Promise<{ status: number; json: unknown; text: string }> => {
    const res = await fetch(`${base}${route}`, { method, headers: { authorization: `Bearer ${cluster.apiTokens.write}` } });
    const text = await res.text();
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, json, text };
  };
  const task = async (name: string): Promise<TaskView> => (await api('GET', `/v1/tasks/${name}`)).json as TaskView;

  before(async () => {
    for (const [image, cmd] of Object.entries(STAND_INS)) {
      const has = await run('docker', ['image', 'inspect', image]).then(() => true, () => false);
      if (has) continue;
      const ctx = mkdtempSync(path.join(os.tmpdir(), 'tangerine-standin-'));
      writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\n${cmd}\n`);
      await run('docker', ['build', '-q', '-t', image, ctx]);
      rmSync(ctx, { recursive: true, force: true });
      made.push(image);
    }
    await cluster.start({ agents: [{ host: 'seeds-a', slots: 4, executors: 'docker,process' }] });
    base = await cluster.httpUrl();
    hostPort = `${cluster.apiTokens.write}@${base.slice('http://'.length)}`;
  });
  after(async () => {
    await cluster.stop();
    for (const image of made) await run('docker', ['image', 'rm', image]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The CLI as a user runs it, as the submitter. */
  const tangerine = async (...args: string[]): Promise<string> => {
    const env = { PATH: process.env['PATH'] ?? '', NATS_URL: cluster.nats.url, ...cluster.identities!.env({ kind: 'submitter' }) };
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'cli/dist/main.js'), ...args], { cwd: ROOT, env, timeout: 30_000 });
    return stdout;
  };

  describe('job-scheduler', () => {
    it('POST /schedule (its curl example, in 6 minutes) answers 200 scheduled with an id, and the task waits for its time', async () => {
      const out = await sh(sectionBlocks()[0]!);
      assert.match(out, /^HTTP\/1\.1 200 /);
      const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { status: string; message: string; id: string };
      assert.equal(body.status, 'scheduled');
      assert.equal(body.message, 'job successfully scheduled');
      assert.match(body.id, /^[A-Za-z0-9]{32}$/);
      const t = await waitFor('the job in the ledger', async () => ((await api('GET', `/v1/tasks/${body.id}`)).status === 200 ? task(body.id) : undefined));
      assert.equal(t.state, 'scheduled');
      assert.equal(t.spec.image, 'python:2.7-slim');
      assert.deepEqual(t.spec.env, { key1: 'value', key2: 'value2' });
      const inMs = Date.parse(t.next_run_at!) - Date.now();
      assert.ok(inMs > 4 * 60_000 && inMs <= 6 * 60_000, `starts in ${inMs} ms`);

      const list = (await api('GET', '/list')).json as { jobs: { status: string; id: string; schedule: string }[] };
      assert.deepEqual(list.jobs.find((j) => j.id === body.id), { status: 'scheduled', id: body.id, schedule: t.spec.schedule_at });
      const status = (await api('GET', `/status/${body.id}`)).json as Record<string, Record<string, unknown>>;
      assert.equal(status['status'] as unknown, 'scheduled');
      assert.deepEqual(status['docker']!['environment'], ['key1=value', 'key2=value2']);
      assert.equal(status['docker']!['docker_image'], 'python:2.7-slim');
      assert.equal((await api('DELETE', `/v1/tasks/${body.id}`)).status, 202);
    });

    it('its first example (a time long past, a cmd) runs at once in a container; /status follows it to finished', async () => {
      const res = await fetch(`${base}/schedule`, {
        method: 'POST', headers: { authorization: `Bearer ${cluster.apiTokens.write}`, 'content-type': 'application/json' },
        // job-scheduler's README, "POST /schedule", with its `sleep 60` made short.
        body: JSON.stringify({ schedule: '2016-11-22T19:39:22Z', docker_image: 'alpine:latest', env: ['key=value', 'key1=value=1'], cmd: 'echo "$key1"; sleep 1' }),
      });
      assert.equal(res.status, 200);
      const { id } = (await res.json()) as { id: string };
      const running = await waitFor('the job running', async () => {
        const s = (await api('GET', `/status/${id}`)).json as Record<string, unknown> | undefined;
        return s && (s['status'] === 'running' || s['status'] === 'finished') ? s : undefined;
      }, 60_000);
      assert.equal((running['docker'] as Record<string, unknown>)['container_id'], `tangerine-${id}-1`);
      const done = await waitFor('the job finished', async () => {
        const s = (await api('GET', `/status/${id}`)).json as Record<string, unknown>;
        return s['status'] === 'finished' ? s : undefined;
      }, 60_000);
      assert.equal((done['docker'] as Record<string, unknown>)['container_exit_code'], 0);
      assert.equal((done['docker'] as Record<string, unknown>)['container_status'], 'exited');
      assert.equal((await api('GET', `/v1/tasks/${id}/runs/1/output`)).text.trim(), 'value=1');
    });

    it('answers a bad job with 400 naming the field; /healthcheck says live without a token; an unknown id is 404', async () => {
      const res = await fetch(`${base}/schedule`, {
        method: 'POST', headers: { authorization: `Bearer ${cluster.apiTokens.write}`, 'content-type': 'application/json' },
        body: JSON.stringify({ docker_image: 'alpine:latest' }),
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: { field: string } }).error.field, 'schedule');
      const health = await fetch(`${base}/healthcheck`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), 'live');
      assert.equal((await api('GET', '/status/nosuchjob')).status, 404);
      assert.equal((await fetch(`${base}/list`)).status, 401);
    });
  });

  describe('Blanket', () => {
    const lines = (): string[] => sectionBlocks()[1]!.split('\n').filter((l) => l.trim() !== '');
    const output = async (id: string): Promise<string> => {
      const t = await waitFor(`task ${id} finished`, async () => {
        const v = (await api('GET', `/v1/tasks/${id}`));
        return v.status === 200 && ['success', 'failed'].includes((v.json as TaskView).state) ? (v.json as TaskView) : undefined;
      }, 60_000);
      assert.equal(t.state, 'success', `${id}: ${t.reason}`);
      return (await api('GET', `/v1/tasks/${id}/runs/1/output`)).text;
    };

    before(async () => {
      // Blanket's task types, as the README says to load them.
      const applied = await tangerine('apply', '-f', 'examples/blanket-types.yaml');
      assert.match(applied, /bash_task/);
      writeFileSync(path.join(dir, 'blanket.json'), '{"blanket": "a file uploaded with the task"}\n');
    });

    it('GET /task/ (its curl example) answers a JSON list', async () => {
      const listed = JSON.parse(await sh(lines()[0]!)) as unknown[];
      assert.ok(Array.isArray(listed));
    });

    it('POST /task/ of its three examples (curl -d, no Content-Type of its own) runs each type with the environment merged', async () => {
      const added = [] as { id: string; type: string; state: string; defaultEnv: Record<string, string> }[];
      for (const line of lines().slice(1, 4)) added.push(JSON.parse(await sh(line)) as (typeof added)[number]);
      assert.deepEqual(added.map((a) => a.type), ['bash_task', 'bash_task', 'python_hello']);
      for (const a of added) assert.match(a.id, /^[0-9a-f-]{36}$/);
      assert.equal(added[0]!.state, 'WAIT');
      assert.deepEqual(added[0]!.defaultEnv, { DEFAULT_COMMAND: 'ls -la', HOME: '.', PANDAS: 'four', Frogs: '5', CATS: '2' });
      const first = await output(added[0]!.id);
      assert.match(first, /^PANDAS=four$/m);
      assert.match(first, /^Frogs=5$/m);
      await output(added[1]!.id);
      assert.match(await output(added[2]!.id), /^hello: frogs=5 CATS=2$/m);
      const listed = (await api('GET', '/task/')).json as { id: string; state: string }[];
      for (const a of added) assert.equal(listed.find((t) => t.id === a.id)?.state, 'SUCCESS');
    });

    it('POST /task/ as a multipart form, the task in `data` (a field, then a file): the uploaded file is in the run\'s directory', async () => {
      for (const line of [lines()[4]!, `${lines()[5]!} && ${lines()[6]!}`]) {
        const added = JSON.parse(await sh(line)) as { id: string; type: string };
        assert.equal(added.type, 'python_hello');
        const out = await output(added.id);
        assert.match(out, /^== blanket\.json$/m);
        assert.match(out, /"blanket": "a file uploaded with the task"/);
        assert.deepEqual(((await task(added.id)).spec.files ?? []).map((f) => f.name), ['blanket.json']);
      }
    });

    it('DELETE /task/<id> (its curl example, for a task that runs) cancels it and answers its id', async () => {
      const id = 'b200f6de-0453-46c9-9c70-5dad63db3ebb';
      const submitted = await api('POST', '/v1/tasks');
      assert.equal(submitted.status, 400, 'a POST without a body names it');
      const res = await fetch(`${base}/v1/tasks`, {
        method: 'POST', headers: { authorization: `Bearer ${cluster.apiTokens.write}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: id, executor: 'process', command: ['sleep', '60'] }),
      });
      assert.equal(res.status, 202);
      await waitFor('the task running', async () => ((await task(id))?.state === 'running' ? true : undefined), 30_000);
      assert.deepEqual(JSON.parse(await sh(lines()[7]!)), { id });
      await waitFor('the task cancelled', async () => ((await task(id)).state === 'cancelled' ? true : undefined), 30_000);
      assert.equal(((await api('GET', `/task/${id}`)).json as { state: string }).state, 'STOPPED');
    });

    it('refuses a task of an unknown type (404 naming type→template) and a body that is not JSON (400)', async () => {
      const unknown = await fetch(`${base}/task/`, { method: 'POST', headers: { authorization: `Bearer ${cluster.apiTokens.write}` }, body: '{"type": "no_such_type"}' });
      assert.equal(unknown.status, 404);
      assert.equal(((await unknown.json()) as { error: { code: string; field: string } }).error.code, 'template_not_found');
      const bad = await fetch(`${base}/task/`, { method: 'POST', headers: { authorization: `Bearer ${cluster.apiTokens.write}` }, body: 'type=bash_task' });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: { field: string } }).error.field, 'body');
    });

    it('`blanket ps -q | tail -n1 | xargs blanket rm` is the CLI\'s', async () => {
      const res = await fetch(`${base}/v1/tasks`, {
        method: 'POST', headers: { authorization: `Bearer ${cluster.apiTokens.write}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'zzzz-last', executor: 'process', command: ['sleep', '60'] }),
      });
      assert.equal(res.status, 202);
      await waitFor('zzzz-last running', async () => ((await api('GET', '/v1/tasks/zzzz-last')).status === 200 ? true : undefined));
      const cli = `${process.execPath} ${path.join(ROOT, 'cli/dist/main.js')}`;
      const env = { PATH: process.env['PATH'] ?? '', NATS_URL: cluster.nats.url, ...cluster.identities!.env({ kind: 'submitter' }) };
      await run('bash', ['-c', `${cli} ps -q | tail -n1 | xargs ${cli} rm`], { env, timeout: 30_000 });
      await waitFor('zzzz-last cancelled', async () => ((await task('zzzz-last')).state === 'cancelled' ? true : undefined), 30_000);
    });
  });
});
