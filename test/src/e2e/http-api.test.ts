import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { ErrorReply, HostList, RunList, Streams, TaskList, TaskView, compile, type TaskEvent } from '@tangerine/contracts';
import { Cluster } from '../helpers/cluster.js';
import { ROOT } from '../helpers/processes.js';
import { HttpApi, SseStream, type HttpReply } from '../helpers/http.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

const HOST = 'http-a';
const MAX_STREAMS = 3;
const check = { task: compile(TaskView), list: compile(TaskList), runs: compile(RunList), hosts: compile(HostList), error: compile(ErrorReply) };

/** A quick process run: no image needed. */
function quick(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, executor: 'process', command: ['sh', '-c', `echo "hello from ${name}"`], ...extra };
}

/**
 * The commands of the README's "HTTP API" example block (a line ending in `\\` or `|` goes on in the next), each
 * with the output shown under it in `# ` lines. TOKEN= and HOST= are the test's: its cluster's token and host.
 */
function readmeHttpExamples(): { command: string; expected: string }[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## HTTP API'), readme.indexOf('\n## ', readme.indexOf('## HTTP API') + 1));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const out: { command: string; expected: string }[] = [];
  let current: string[] = [];
  let open = false;
  for (const line of block.split('\n')) {
    if (line.startsWith('TOKEN=') || line.startsWith('HOST=') || line.trim() === '') continue;
    if (line.startsWith('# ') && !open) {
      const last = out.at(-1);
      if (last) last.expected += (last.expected ? '\n' : '') + line.slice(2);
      continue;
    }
    current.push(line);
    open = /(\\|\|)\s*$/.test(line);
    if (!open) {
      out.push({ command: current.join('\n'), expected: '' });
      current = [];
    }
  }
  return out;
}

/** Does the output show what the README shows? `...` there stands for anything. */
function matchesShown(output: string, shown: string): boolean {
  if (shown === '') return true;
  const pattern = shown.split('...').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*?');
  return new RegExp(`^${pattern}`).test(output.trim());
}

function assertError(r: HttpReply, status: number, code: string, field?: string): void {
  assert.equal(r.status, status, r.text);
  assert.ok(check.error.check(r.json), `an error body: ${r.text}`);
  const e = (r.json as { error: { code: string; field?: string; message: string } }).error;
  assert.equal(e.code, code, r.text);
  if (field !== undefined) assert.equal(e.field, field, r.text);
  assert.ok(e.message.length > 5, r.text);
}

/**
 * The HTTP API end to end: the api service as its own process (port 0, the cluster's tokens) beside every service
 * and an agent of process runs. Every route's success and errors, paging over 10,000 tasks, and an event stream
 * dropped and resumed with Last-Event-ID.
 */
describe('HTTP API end to end', () => {
  const cluster = new Cluster('http-api', { API_MAX_STREAMS: String(MAX_STREAMS), API_HEARTBEAT: '0.3' });
  let api: HttpApi;
  let reader: HttpApi;
  let anon: HttpApi;

  before(async () => {
    await cluster.start({ services: ['intake', 'resolver', 'placer', 'monitor', 'host-health', 'relay', 'api'], agents: [{ host: HOST, executors: 'process', slots: 4 }] });
    const url = await cluster.httpUrl();
    api = new HttpApi(url, cluster.apiTokens.write);
    reader = new HttpApi(url, cluster.apiTokens.read);
    anon = new HttpApi(url, null);
  });
  after(async () => {
    await cluster.stop();
  });

  const commandsStored = async (): Promise<number> => (await (await jetstreamManager(cluster.client.nc)).streams.info(Streams.commands.name)).state.last_seq;
  const waitForState = (name: string, state: string, timeoutMs = 30_000): Promise<TaskView> =>
    waitFor(`${name} ${state}`, async () => {
      const r = await reader.get(`/v1/tasks/${name}`);
      return r.status === 200 && (r.json as TaskView).state === state ? (r.json as TaskView) : undefined;
    }, timeoutMs);

  describe('tokens', () => {
    it('a read route without a token is 401 unauthorized, with a Bearer challenge', async () => {
      const r = await anon.get('/v1/tasks');
      assertError(r, 401, 'unauthorized', 'authorization');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    });

    it('an unknown token is 401; a token not sent as Bearer is 401', async () => {
      assertError(await anon.get('/v1/tasks', { token: 'x'.repeat(48) }), 401, 'unauthorized', 'authorization');
      assertError(await anon.get('/v1/tasks', { headers: { authorization: `Basic ${cluster.apiTokens.write}` } }), 401, 'unauthorized');
    });

    it('a read token reads, and is 403 forbidden on a write route, which then publishes nothing', async () => {
      assert.equal((await reader.get('/v1/tasks')).status, 200);
      const before = await commandsStored();
      assertError(await reader.post('/v1/tasks', quick('by-reader')), 403, 'forbidden', 'authorization');
      assertError(await reader.delete('/v1/tasks/anything'), 403, 'forbidden');
      assertError(await reader.post(`/v1/hosts/${HOST}/drain`), 403, 'forbidden');
      assert.equal(await commandsStored(), before);
    });

    it('health, metrics and the OpenAPI document need no token', async () => {
      const h = await anon.get('/v1/health');
      assert.equal(h.status, 200, h.text);
      assert.deepEqual(h.json, { status: 'ok', checks: { nats: true, ledger: true } });
      assert.equal((await anon.get('/healthz')).status, 200);
      // The request id: the caller's when it is plain, else one made here.
      assert.equal((await anon.get('/healthz', { headers: { 'x-request-id': 'probe-42' } })).headers.get('x-request-id'), 'probe-42');
      assert.match((await anon.get('/healthz', { headers: { 'x-request-id': 'x'.repeat(500) } })).headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      const m = await anon.get('/metrics');
      assert.equal(m.status, 200);
      assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(m.text, /^tangerine_http_requests_total\{.*service="api"/m);
    });
  });

  describe('tasks', () => {
    it('POST one spec: 202 with its name once stored; the task runs; its view, runs and output are served', async () => {
      const r = await api.post('/v1/tasks', quick('http-one'));
      assert.equal(r.status, 202, r.text);
      assert.deepEqual(r.json, { names: ['http-one'] });
      assert.equal(r.headers.get('location'), '/v1/tasks/http-one');
      const done = await waitForState('http-one', 'success');
      assert.ok(check.task.check(done), 'a TaskView');
      assert.equal(done.runs?.length, 1);

      const runs = await reader.get('/v1/tasks/http-one/runs');
      assert.equal(runs.status, 200);
      assert.ok(check.runs.check(runs.json), runs.text);
      assert.deepEqual((runs.json as RunList).runs.map((x) => [x.attempt, x.exit_code]), [[1, 0]]);

      const out = await reader.get('/v1/tasks/http-one/runs/1/output');
      assert.equal(out.status, 200);
      assert.match(out.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(out.text.trim(), 'hello from http-one');
    });

    it('concurrent one-spec requests are stored together, fewer messages than requests, and every one of them runs', async () => {
      const before = await commandsStored();
      const names = Array.from({ length: 40 }, (_, i) => `http-many-${i}`);
      const replies = await Promise.all(names.map((name) => api.post('/v1/tasks', quick(name))));
      for (const [i, r] of replies.entries()) assert.deepEqual([r.status, r.json], [202, { names: [names[i]] }], r.text);
      const stored = (await commandsStored()) - before;
      assert.ok(stored >= 1 && stored < names.length, `40 requests at once went out as ${stored} messages`);
      for (const name of names) assert.equal((await waitForState(name, 'success')).runs?.length, 1, name);
    });

    it('a bad spec is 400 at once, naming the field and the rule, and nothing is published', async () => {
      const before = await commandsStored();
      const r = await api.post('/v1/tasks', { name: 'bad name', executor: 'process', command: ['true'] });
      assertError(r, 400, 'invalid_spec', 'name');
      assert.match((r.json as { error: { message: string } }).error.message, /^name: must match/);
      assert.equal(await commandsStored(), before);
    });

    it('a list with bad specs is 400 naming every bad one by its index; none of the list is published', async () => {
      const before = await commandsStored();
      const r = await api.post('/v1/tasks', [quick('list-good'), { name: 'list-bad-1', executor: 'process', command: 'true', cpu: -1 }, { name: 'list-bad-2', executor: 'nope', command: ['true'] }]);
      assertError(r, 400, 'invalid_spec', '[1].cpu');
      const message = (r.json as { error: { message: string } }).error.message;
      assert.match(message, /^\[1\]\.cpu: must be a number/);
      assert.match(message, /; \[2\]\.image: is required/);
      assert.equal(await commandsStored(), before);
      assertError(await reader.get('/v1/tasks/list-good'), 404, 'not_found', 'name');
    });

    it('a JSON list: 202 with every name; YAML documents (a list in one, kind: task in another) likewise', async () => {
      const list = await api.post('/v1/tasks', [quick('list-a'), quick('list-b')]);
      assert.equal(list.status, 202, list.text);
      assert.deepEqual(list.json, { names: ['list-a', 'list-b'] });
      const yaml = [
        'kind: task', 'name: yaml-a', 'executor: process', 'command: [sh, -c, "echo from yaml"]', '---',
        '- name: yaml-b', '  executor: process', '  command: ["true"]',
      ].join('\n');
      const y = await api.post('/v1/tasks', yaml, { type: 'application/yaml' });
      assert.equal(y.status, 202, y.text);
      assert.deepEqual(y.json, { names: ['yaml-a', 'yaml-b'] });
      for (const n of ['list-a', 'list-b', 'yaml-a', 'yaml-b']) await waitForState(n, 'success');
    });

    it('YAML that does not parse is 400 naming its line; a template document is 400 here', async () => {
      const bad = await api.post('/v1/tasks', 'name: a\n  image: [x\n', { type: 'text/yaml' });
      assertError(bad, 400, 'invalid_request', 'body');
      assert.match(bad.text, /line \d+/);
      assertError(await api.post('/v1/tasks', 'kind: template\nname: t\nspec: {image: busybox}\n', { type: 'application/yaml' }), 400, 'invalid_spec', 'kind');
    });

    it('a spec naming a task that is not finished is 409 duplicate_task; cancel is 202, then 409; unknown is 404', async () => {
      assert.equal((await api.post('/v1/tasks', { name: 'http-long', executor: 'process', command: ['sleep', '60'] })).status, 202);
      await waitForState('http-long', 'running');
      const before = await commandsStored();
      assertError(await api.post('/v1/tasks', { name: 'http-long', executor: 'process', command: ['true'] }), 409, 'duplicate_task', 'name');
      assertError(await api.post('/v1/tasks', [quick('dup-other'), { name: 'http-long', executor: 'process', command: ['true'] }]), 409, 'duplicate_task', '[1].name');
      assert.equal(await commandsStored(), before);

      const c = await api.delete('/v1/tasks/http-long');
      assert.equal(c.status, 202, c.text);
      assert.deepEqual(c.json, { name: 'http-long' });
      await waitForState('http-long', 'cancelled');
      assertError(await api.delete('/v1/tasks/http-long'), 409, 'not_cancellable', 'name');
      assertError(await api.delete('/v1/tasks/no-such-task'), 404, 'not_found', 'name');
      // A finished task may be submitted again.
      assert.equal((await api.post('/v1/tasks', quick('http-long'))).status, 202);
      await waitForState('http-long', 'success');
    });

    it('GET of an unknown task, run or output is 404; a bad name or attempt is 400 naming it', async () => {
      assertError(await reader.get('/v1/tasks/no-such-task'), 404, 'not_found', 'name');
      assertError(await reader.get('/v1/tasks/no-such-task/runs'), 404, 'not_found', 'name');
      assertError(await reader.get('/v1/tasks/http-one/runs/9/output'), 404, 'not_found', 'attempt');
      assertError(await reader.get('/v1/tasks/http-one/runs/zero/output'), 400, 'invalid_request', 'attempt');
      assertError(await reader.get(`/v1/tasks/${'x'.repeat(101)}`), 400, 'invalid_request', 'name');
      assertError(await reader.get(`/v1/tasks/${'x'.repeat(300)}`), 400, 'invalid_request', 'url');
    });

    it('query parameters are checked by the schema: a bad state or limit, an unknown parameter', async () => {
      assertError(await reader.get('/v1/tasks?state=sleeping'), 400, 'invalid_request', 'state');
      assertError(await reader.get('/v1/tasks?limit=abc'), 400, 'invalid_request', 'limit');
      assertError(await reader.get('/v1/tasks?limit=0'), 400, 'invalid_request', 'limit');
      assertError(await reader.get('/v1/tasks?colour=red'), 400, 'invalid_request', 'colour');
    });
  });

  describe('Fastify\'s own failures have the same body', () => {
    it('an unknown route is 404, a known route with another method 405 with Allow', async () => {
      assertError(await anon.get('/v1/nothing-here'), 404, 'not_found', 'url');
      const r = await api.call('PUT', '/v1/tasks');
      assertError(r, 405, 'method_not_allowed', 'method');
      assert.match(r.headers.get('allow') ?? '', /GET/);
      assert.match(r.headers.get('allow') ?? '', /POST/);
    });

    it('bad JSON is 400 invalid_json; another Content-Type is 415; a body over API_BODY_LIMIT is 413', async () => {
      assertError(await api.post('/v1/tasks', '{"name": ', { type: 'application/json' }), 400, 'invalid_json', 'body');
      assertError(await api.post('/v1/tasks', 'name=x', { type: 'text/plain' }), 415, 'unsupported_media_type', 'content-type');
      const big = JSON.stringify({ name: 'big', executor: 'process', command: ['echo', 'x'.repeat(1024 * 1024 + 10)] });
      assertError(await api.post('/v1/tasks', big, { type: 'application/json' }), 413, 'body_too_large', 'body');
    });
  });

  describe('templates', () => {
    it('POST /v1/templates stores a version (201), the same again none (200); a task naming it runs merged; GET reads it', async () => {
      const def = { name: 'h-tpl', description: 'greets', spec: { executor: 'process', command: ['sh', '-c', 'echo "$GREETING"'], env: { GREETING: 'hello' } } };
      const first = await api.post('/v1/templates', def);
      assert.equal(first.status, 201, first.text);
      assert.deepEqual([(first.json as { version: number }).version, (first.json as { created: boolean }).created], [1, true]);
      const again = await api.post('/v1/templates', def);
      assert.equal(again.status, 200, again.text);
      assert.deepEqual([(again.json as { version: number }).version, (again.json as { created: boolean }).created], [1, false]);
      const yaml = 'kind: template\nname: h-tpl\nspec:\n  executor: process\n  command: [sh, -c, \'echo "$GREETING!"\']\n  env: {GREETING: hi}\n';
      const second = await api.post('/v1/templates', yaml, { type: 'application/yaml' });
      assert.equal(second.status, 201, second.text);
      assert.equal((second.json as { version: number }).version, 2);
      assert.equal(((await reader.get('/v1/templates/h-tpl')).json as { version: number }).version, 2);
      assert.equal(((await reader.get('/v1/templates/h-tpl?version=1')).json as { description: string }).description, 'greets');
      assert.ok(((await reader.get('/v1/templates')).json as { templates: { name: string }[] }).templates.some((t) => t.name === 'h-tpl'));

      assert.equal((await api.post('/v1/tasks', { name: 'h-tpl-task', template: 'h-tpl:1', env: { GREETING: 'merged' } })).status, 202);
      const done = await waitForState('h-tpl-task', 'success');
      assert.deepEqual([done.template, done.template_version], ['h-tpl', 1]);
      assert.equal((await reader.get('/v1/tasks/h-tpl-task/runs/1/output')).text.trim(), 'merged');
    });

    it('a bad template is 400 naming the field; an unknown one 404; a task naming an unknown template 404 at once, publishing nothing', async () => {
      assertError(await api.post('/v1/templates', { name: 'h-bad', spec: { name: 'x' } }), 400, 'invalid_template', 'spec.name');
      assertError(await reader.get('/v1/templates/h-none'), 404, 'template_not_found', 'name');
      assertError(await reader.get('/v1/templates/h-tpl?version=9'), 404, 'template_not_found', 'version');
      const before = await commandsStored();
      assertError(await api.post('/v1/tasks', { name: 'h-orphan', template: 'h-none' }), 404, 'template_not_found', 'template');
      assertError(await api.post('/v1/tasks', { name: 'h-merged-bad', template: 'h-tpl', executor: 'docker' }), 400, 'invalid_spec', 'image');
      assert.equal(await commandsStored(), before);
      assertError(await reader.post('/v1/templates', { name: 'h-r', spec: {} }), 403, 'forbidden');
    });
  });

  describe('hosts', () => {
    it('lists the hosts; drain and undrain go through host-health; an unknown host is 404', async () => {
      const r = await waitFor('the host listed', async () => {
        const x = await reader.get('/v1/hosts');
        return x.status === 200 && (x.json as HostList).hosts.length > 0 ? x : undefined;
      });
      assert.ok(check.hosts.check(r.json), r.text);
      assert.deepEqual((r.json as HostList).hosts.map((h) => [h.host, h.state]), [[HOST, 'up']]);
      assert.deepEqual((await reader.get('/v1/hosts?state=down')).json, { hosts: [], next: null });

      const d = await api.post(`/v1/hosts/${HOST}/drain`);
      assert.equal(d.status, 200, d.text);
      assert.deepEqual(d.json, { host: HOST, state: 'draining' });
      assert.deepEqual((await reader.get('/v1/hosts?state=draining')).json && ((await reader.get('/v1/hosts?state=draining')).json as HostList).hosts.map((h) => h.host), [HOST]);
      const u = await api.post(`/v1/hosts/${HOST}/undrain`);
      assert.deepEqual(u.json, { host: HOST, state: 'up' });
      assertError(await api.post('/v1/hosts/no-such-host/drain'), 404, 'not_found');
      assertError(await reader.get('/v1/hosts?state=gone'), 400, 'invalid_request', 'state');
    });
  });

  describe('events (server-sent)', () => {
    it('a stream dropped mid-way and resumed with Last-Event-ID misses no event and repeats none', async () => {
      const names = Array.from({ length: 10 }, (_, i) => `sse-${i}`);
      const s1 = await SseStream.open(`${api.url}/v1/events?kinds=task`, cluster.apiTokens.read);
      assert.equal(s1.status, 200);
      for (const n of names.slice(0, 5)) assert.equal((await api.post('/v1/tasks', quick(n))).status, 202);
      const first: { id: number; event: TaskEvent }[] = [];
      for (let i = 0; i < 8; i++) {
        const e = await s1.next();
        assert.equal(e.event, 'task');
        first.push({ id: Number(e.id), event: JSON.parse(e.data) as TaskEvent });
      }
      s1.close();
      // While no one listens: the rest of the first five go on, and five more come.
      for (const n of names.slice(5)) assert.equal((await api.post('/v1/tasks', quick(n))).status, 202);
      for (const n of names) await waitForState(n, 'success');

      const lastId = first.at(-1)!.id;
      const s2 = await SseStream.open(`${api.url}/v1/events?kinds=task`, cluster.apiTokens.read, { 'last-event-id': String(lastId) });
      const second: { id: number; event: TaskEvent }[] = [];
      const succeeded = new Set(first.filter((e) => e.event.state === 'success').map((e) => e.event.name));
      while (!names.every((n) => succeeded.has(n))) {
        const e = await s2.next();
        const event = JSON.parse(e.data) as TaskEvent;
        second.push({ id: Number(e.id), event });
        if (event.state === 'success') succeeded.add(event.name);
      }
      s2.close();

      // The stream itself, read from the first id to the last one seen: what the two connections together must be.
      const end = second.at(-1)!.id;
      const watch = await cluster.client.client.watch({ from: first[0]!.id, kinds: ['task'] });
      const expected: { id: number; event: TaskEvent }[] = [];
      for await (const e of watch) {
        if (e.kind === 'task') expected.push({ id: e.seq!, event: e.event });
        if (e.seq! >= end) break;
      }
      watch.stop();
      assert.deepEqual([...first, ...second].map((e) => e.id), expected.map((e) => e.id), 'no event lost, none repeated');
      assert.deepEqual([...first, ...second].map((e) => e.event), expected.map((e) => e.event));
      assert.ok(second.length > 0 && second[0]!.id > lastId);
    });

    it('?name= gives one task\'s events; ?last_event_id= resumes as the header does; bad filters are 400', async () => {
      const s = await SseStream.open(`${api.url}/v1/events?name=sse-named&last_event_id=0`, cluster.apiTokens.read);
      assert.equal((await api.post('/v1/tasks', quick('sse-named'))).status, 202);
      const states: string[] = [];
      while (!states.includes('success')) {
        const e = await s.next();
        const event = JSON.parse(e.data) as TaskEvent;
        assert.equal(event.name, 'sse-named');
        states.push(event.state);
      }
      // Nothing more comes for this task: the stream stays open, with a heartbeat comment each API_HEARTBEAT.
      await waitUntil('two heartbeats', async () => {
        await s.next(400).catch(() => undefined);
        return s.comments.filter((c) => c === 'heartbeat').length >= 2;
      }, 5000);
      s.close();
      assert.equal(states[0], 'ready');
      assertError(await reader.get('/v1/events?kinds=task,weather'), 400, 'invalid_request', 'kinds');
      assertError(await reader.get('/v1/events', { headers: { 'last-event-id': 'abc' } }), 400, 'invalid_request', 'last_event_id');
      assertError(await anon.get('/v1/events'), 401, 'unauthorized');
    });

    it(`at most API_MAX_STREAMS (${MAX_STREAMS}) streams: one more is 503 too_many_streams; a closed one frees its place`, async () => {
      const open = await Promise.all(Array.from({ length: MAX_STREAMS }, () => SseStream.open(`${api.url}/v1/events`, cluster.apiTokens.read)));
      for (const s of open) assert.equal(s.status, 200);
      assertError(await reader.get('/v1/events'), 503, 'too_many_streams');
      open[0]!.close();
      const again = await waitFor('a place freed', async () => {
        const s = await SseStream.open(`${api.url}/v1/events`, cluster.apiTokens.read);
        if (s.status === 200) return s;
        s.close();
        return undefined;
      }, 10_000);
      again.close();
      for (const s of open.slice(1)) s.close();
    });
  });

  describe('README: the HTTP API examples', () => {
    it('every curl example of the README\'s "HTTP API" section runs as written and prints what the README shows', async () => {
      const examples = readmeHttpExamples();
      assert.ok(examples.length >= 10, `${examples.length} examples`);
      for (const ex of examples) {
        const events = ex.command.includes('/v1/events');
        // The event stream does not end by itself: it is cut after 3 s (curl's exit code 28), what came is checked.
        const command = events ? ex.command.replace('curl -sSN', 'curl -sSN --max-time 3') : ex.command;
        const expected = ex.expected.replace(/"host":"local"/g, `"host":"${HOST}"`);
        let last = '';
        const ran = await waitFor(`README example: ${ex.command.slice(0, 120)}`, () => {
          const r = spawnSync('bash', ['-c', `set -o pipefail; ${command.replaceAll('http://127.0.0.1:8080', api.url)}`], {
            env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', TOKEN: cluster.apiTokens.write, HOST }, encoding: 'utf8', timeout: 15_000,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          const ok = (r.status === 0 || (events && r.status === 28)) && matchesShown(r.stdout, expected);
          last = `exit ${r.status}: ${r.stdout.slice(0, 500)}${r.stderr.slice(0, 300)}`;
          return ok ? r.stdout : undefined;
        }, 30_000).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}\nexpected: ${expected}\nlast: ${last}`);
        });
        assert.ok(ran.length > 0);
      }
    });
  });

  describe('paging', () => {
    it('pages over 10,000 tasks with next and the Link header: each once, in order; prefix and state filter', async () => {
      const N = 10_000;
      const name = (i: number): string => `page-${String(i).padStart(5, '0')}`;
      // Scheduled far ahead: stored, never run.
      for (let start = 0; start < N; start += 1000) {
        const specs = Array.from({ length: 1000 }, (_, j) => ({ name: name(start + j), executor: 'process', command: ['true'], schedule_at: '2099-01-01T00:00:00Z' }));
        const r = await api.post('/v1/tasks', specs);
        assert.equal(r.status, 202, r.text);
      }
      await waitUntil('every task stored', async () => (await reader.get(`/v1/tasks/${name(N - 1)}`)).status === 200, 120_000);

      const seen: string[] = [];
      let path: string | null = '/v1/tasks?prefix=page-&limit=1000';
      let pages = 0;
      while (path !== null) {
        const r = await reader.get(path);
        assert.equal(r.status, 200, r.text);
        const page = r.json as TaskList;
        assert.ok(check.list.check(page));
        seen.push(...page.tasks.map((t) => t.name));
        const link = r.headers.get('link');
        if (page.next === null) {
          assert.equal(link, null);
          path = null;
        } else {
          assert.equal(page.next, page.tasks.at(-1)!.name);
          const m = /^<([^>]+)>; rel="next"$/.exec(link ?? '');
          assert.ok(m, `a Link header: ${link}`);
          assert.ok(m[1]!.includes(`after=${page.next}`) && m[1]!.includes('prefix=page-') && m[1]!.includes('limit=1000'), m[1]);
          path = m[1]!;
        }
        pages++;
      }
      assert.equal(seen.length, N);
      assert.deepEqual(seen, Array.from({ length: N }, (_, i) => name(i)));
      assert.ok(pages >= 10, `${pages} pages`);

      const small = await reader.get('/v1/tasks?prefix=page-&state=scheduled&limit=5');
      assert.deepEqual((small.json as TaskList).tasks.map((t) => [t.name, t.state]), [0, 1, 2, 3, 4].map((i) => [name(i), 'scheduled']));
      assert.equal((small.json as TaskList).next, name(4));
      assert.deepEqual((await reader.get('/v1/tasks?prefix=page-&state=running')).json, { tasks: [], next: null });
      // A limit over the page bound is taken as the bound.
      assert.equal(((await reader.get('/v1/tasks?prefix=page-&limit=5000')).json as TaskList).tasks.length, 1000);
    });
  });

  describe('OpenAPI', () => {
    it('lists every route, with its parameters, the bearer scheme, and the error body', async () => {
      const r = await anon.get('/v1/openapi.json');
      assert.equal(r.status, 200);
      const doc = r.json as { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string }[]; responses: Record<string, unknown> }>>; components: { securitySchemes: Record<string, unknown> } };
      assert.match(doc.openapi, /^3\./);
      const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
      assert.deepEqual(routes, [
        'DELETE /task/{id}', 'DELETE /v1/tasks/{name}', 'GET /', 'GET /healthcheck', 'GET /healthz', 'GET /list', 'GET /metrics', 'GET /status/{id}', 'GET /task/',
        'GET /task/{id}', 'GET /v1/events', 'GET /v1/health', 'GET /v1/hosts', 'GET /v1/openapi.json',
        'GET /v1/overview', 'GET /v1/schedule', 'GET /v1/tasks/{name}/graph',
        'GET /v1/tasks', 'GET /v1/tasks/{name}', 'GET /v1/tasks/{name}/runs', 'GET /v1/tasks/{name}/runs/{attempt}/output',
        'GET /v1/templates', 'GET /v1/templates/{name}',
        'POST /schedule', 'POST /task/', 'POST /v1/hosts/{id}/drain', 'POST /v1/hosts/{id}/undrain', 'POST /v1/tasks', 'POST /v1/templates',
      ].sort());
      assert.deepEqual(doc.paths['/v1/tasks']!['get']!.parameters!.map((p) => p.name).sort(), ['after', 'limit', 'prefix', 'state']);
      assert.ok(doc.paths['/v1/tasks']!['post']!.responses['400'], 'the 400 of a submission');
      assert.ok(doc.components.securitySchemes['bearer']);
    });
  });
});
