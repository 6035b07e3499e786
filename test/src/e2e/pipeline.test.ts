import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../helpers/wait.js';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';

/** Every service as its own process, two agents, real containers. */
describe('task pipeline end to end', () => {
  const cluster = new Cluster('pipeline');
  const shared = mkdtempSync(path.join(os.tmpdir(), 'tangerine-e2e-'));
  chmodSync(shared, 0o777);

  before(async () => {
    await cluster.start({ agents: [{ host: 'pipe-a', labels: 'zone=a', slots: 3 }, { host: 'pipe-b', labels: 'zone=b', slots: 3 }] });
  });
  after(async () => {
    await cluster.stop();
  });

  const append = (name: string, deps: string[] = []) => ({
    name, image: TEST_IMAGE, dependencies: deps, volumes: [`${shared}:/shared`],
    command: ['sh', '-c', `echo ${name} >> /shared/order.txt`],
  });

  it('runs a diamond a → {b, c} → d in order, with d submitted first', async () => {
    const c = cluster.client;
    c.submit(append('d', ['b', 'c']));
    await c.waitForState('d', 'waiting');
    c.submit(append('b', ['a']));
    c.submit(append('c', ['a']));
    c.submit(append('a'));
    const d = await c.waitForState('d', 'success');
    const order = readFileSync(path.join(shared, 'order.txt'), 'utf8').trim().split('\n');
    assert.equal(order.length, 4);
    assert.equal(order[0], 'a');
    assert.deepEqual(order.slice(1, 3).sort(), ['b', 'c']);
    assert.equal(order[3], 'd');
    assert.equal(d.runs?.length, 1);
    assert.equal(d.runs?.[0]?.exit_code, 0);
    assert.ok(['pipe-a', 'pipe-b'].includes(d.runs?.[0]?.host ?? ''));
    // Events of every state change, in the documented tree.
    await c.waitForEvent((e) => e.name === 'd' && e.state === 'success');
    const states = c.events.filter((e) => e.name === 'd').map((e) => e.state);
    assert.deepEqual(states, ['waiting', 'ready', 'placed', 'running', 'success']);
  });

  it('gives the container its env, volumes and entrypoint, and keeps the output', async () => {
    const c = cluster.client;
    writeFileSync(path.join(shared, 'input.txt'), 'from the host\n');
    c.submit({
      name: 'env-check', imageuuid: `docker:${TEST_IMAGE}`, entrypoint: ['/bin/sh', '-c'],
      command: ['echo "$GREETING $OTHER"; cat /in/input.txt; echo done > /in/out.txt'],
      environment: [['GREETING', 'hello'], ['OTHER', 'world']], datavolumes: [`${shared}:/in`],
    });
    const t = await c.waitForState('env-check', 'success');
    const output = t.runs?.[0]?.output ?? '';
    assert.match(output, /hello world/);
    assert.match(output, /from the host/);
    assert.equal(readFileSync(path.join(shared, 'out.txt'), 'utf8').trim(), 'done');
  });

  it('retries a recoverable exit code, then succeeds', async () => {
    const c = cluster.client;
    c.submit({
      name: 'flaky', image: TEST_IMAGE, volumes: [`${shared}:/shared`], recoverable_exitcodes: [3], max_failures: 3,
      command: ['sh', '-c', 'n=$(cat /shared/flaky 2>/dev/null || echo 0); n=$((n+1)); echo $n > /shared/flaky; [ $n -ge 2 ] || exit 3'],
    });
    const t = await c.waitForState('flaky', 'success');
    assert.equal(t.failures, 1);
    assert.deepEqual(t.runs?.map((r) => r.exit_code), [3, 0]);
    assert.deepEqual(t.runs?.map((r) => r.attempt), [1, 2]);
  });

  it('ends in failed after max_failures runs of a code that always recurs', async () => {
    const c = cluster.client;
    c.submit({ name: 'always-3', image: TEST_IMAGE, command: ['sh', '-c', 'exit 3'], recoverable_exitcodes: [3], max_failures: 2 });
    const t = await c.waitForState('always-3', 'failed');
    assert.equal(t.failures, 2);
    assert.equal(t.runs?.length, 2);
    assert.match(t.reason ?? '', /max_failures \(2\) reached/);
  });

  it('fails at once on a code that is not recoverable, and blocks its dependent, which never runs', async () => {
    const c = cluster.client;
    c.submit({ name: 'child-of-bad', image: TEST_IMAGE, command: ['true'], dependencies: ['bad-parent'] });
    c.submit({ name: 'grandchild-of-bad', image: TEST_IMAGE, command: ['true'], dependencies: ['child-of-bad'] });
    c.submit({ name: 'bad-parent', image: TEST_IMAGE, command: ['sh', '-c', 'exit 7'], recoverable_exitcodes: [3] });
    const parent = await c.waitForState('bad-parent', 'failed');
    assert.equal(parent.failures, 1);
    assert.match(parent.reason ?? '', /exit code 7 is not in recoverable_exitcodes/);
    const child = await c.waitForState('child-of-bad', 'blocked');
    assert.equal(child.reason, 'dependency bad-parent is failed');
    assert.equal(child.runs?.length, 0);
    const grandchild = await c.waitForState('grandchild-of-bad', 'blocked');
    assert.equal(grandchild.reason, 'dependency child-of-bad is blocked');
    assert.equal(grandchild.runs?.length, 0);
  });

  it('places a task only on a host whose labels match', async () => {
    const c = cluster.client;
    for (let i = 0; i < 4; i++) c.submit({ name: `zone-b-${i}`, image: TEST_IMAGE, command: ['true'], constraints: { zone: 'b' } });
    for (let i = 0; i < 4; i++) {
      const t = await c.waitForState(`zone-b-${i}`, 'success');
      assert.equal(t.runs?.[0]?.host, 'pipe-b');
    }
    c.submit({ name: 'zone-c', image: TEST_IMAGE, command: ['true'], constraints: { zone: 'c' } });
    await c.waitForState('zone-c', 'ready');
    // A task submitted after it and placed: the placer has had passes that saw zone-c ready and left it there.
    c.submit({ name: 'zone-b-after-c', image: TEST_IMAGE, command: ['true'], constraints: { zone: 'b' } });
    await c.waitForState('zone-b-after-c', 'success');
    const waiting = await c.waitForState('zone-c', 'ready');
    assert.equal(waiting.runs?.length, 0, 'no host has zone=c: the task stays ready');
    c.cancel('zone-c');
    await c.waitForState('zone-c', 'cancelled');
  });

  it('pulls an image it does not have, and fails the run that cannot get it', async () => {
    const c = cluster.client;
    c.submit({ name: 'no-such-image', image: 'tangerine-test/does-not-exist:1', command: ['true'], recoverable_exitcodes: [1] });
    const t = await c.waitForState('no-such-image', 'failed', 60000);
    assert.equal(t.runs?.length, 1, 'a run that never started has no exit code: not recoverable, no retry');
    assert.equal(t.runs?.[0]?.exit_code, null);
    assert.match(t.runs?.[0]?.reason ?? '', /^pull image tangerine-test\/does-not-exist:1: /);
    assert.match(t.reason ?? '', /no exit code/);
  });

  it('runs the process executor without Docker', async () => {
    const c = cluster.client;
    c.submit({ name: 'proc', executor: 'process', command: ['sh', '-c', 'echo "$WHO ran"; exit 0'], env: ['WHO=process'] });
    const t = await c.waitForState('proc', 'success');
    assert.match(t.runs?.[0]?.output ?? '', /process ran/);
    assert.equal(t.spec.image, null);
    assert.match(t.runs?.[0]?.started_at ?? '', /^\d{4}-/);
    // A run this short is reported once, start and end together: its events still show every change, in order.
    await c.waitForEvent((e) => e.name === 'proc' && e.state === 'success');
    const events = c.events.filter((e) => e.name === 'proc');
    assert.deepEqual(events.map((e) => [e.state, e.from]), [['ready', null], ['placed', 'ready'], ['running', 'placed'], ['success', 'running']]);
    const versions = events.map((e) => e.version);
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b));
    assert.equal(new Set(versions).size, versions.length, 'each change has its own version, hence its own dedupe id');
  });

  it('rejects each bad input with the field and the rule, and still runs a valid task sent after them', async () => {
    const c = cluster.client;
    c.submit('{"name": "broken", ');
    c.submit({ name: 'no-image', command: ['true'] });
    c.submit({ name: 'bad name!', image: TEST_IMAGE });
    c.submit({ name: 'cycle-x', image: TEST_IMAGE, command: ['true'], dependencies: ['cycle-y'] });
    await c.waitForState('cycle-x', 'waiting');
    c.submit({ name: 'cycle-y', image: TEST_IMAGE, command: ['true'], dependencies: ['cycle-x'] });
    c.submit({ name: 'long-one', image: TEST_IMAGE, command: ['sleep', '30'] });
    await c.waitForState('long-one', 'running');
    c.submit({ name: 'long-one', image: TEST_IMAGE, command: ['true'] });
    c.submit({ name: 'after-bad', image: TEST_IMAGE, command: ['true'] });

    const json = await c.waitForRejection((r) => r.code === 'invalid_json');
    assert.match(json.reason, /^payload: is not valid JSON/);
    assert.match(json.payload, /"broken"/);
    const image = await c.waitForRejection((r) => r.name === 'no-image');
    assert.equal(image.field, 'image');
    assert.match(image.reason, /^image: is required/);
    const name = await c.waitForRejection((r) => r.name === 'bad name!');
    assert.equal(name.reason, 'name: must match [A-Za-z0-9][A-Za-z0-9_-]{0,99} (got "bad name!")');
    const cycle = await c.waitForRejection((r) => r.name === 'cycle-y');
    assert.equal(cycle.code, 'dependency_cycle');
    assert.equal(cycle.reason, 'dependencies: would close a cycle cycle-y → cycle-x → cycle-y');
    const dup = await c.waitForRejection((r) => r.name === 'long-one');
    assert.equal(dup.code, 'duplicate_task');
    assert.match(dup.reason, /is running/);

    await c.waitForState('after-bad', 'success');
    const missing = await c.get('cycle-y');
    assert.ok('error' in missing && missing.error.code === 'not_found', 'nothing half-written stays in the ledger');
    const long = await c.waitForState('long-one', 'running');
    assert.equal(long.runs?.length, 1);
    assert.deepEqual(long.spec.command, ['sleep', '30'], 'the duplicate did not replace the running spec');
    c.cancel('long-one');
    await c.waitForState('long-one', 'cancelled');
  });

  it('takes a list of specs in one message: each runs or is rejected on its own', async () => {
    const c = cluster.client;
    c.submit([
      { name: 'listed-1', image: TEST_IMAGE, command: ['true'] },
      { name: 'listed-2', image: TEST_IMAGE, command: ['true'], dependencies: ['listed-1'] },
      { name: 'listed bad', image: TEST_IMAGE },
      { name: 'listed-1', image: TEST_IMAGE, command: ['true'] },
    ]);
    assert.equal((await c.waitForState('listed-2', 'success')).runs?.length, 1);
    assert.equal((await c.waitForState('listed-1', 'success')).runs?.length, 1);
    const bad = await c.waitForRejection((r) => r.name === 'listed bad');
    assert.equal(bad.field, 'name');
    const dup = await c.waitForRejection((r) => r.name === 'listed-1');
    assert.equal(dup.code, 'duplicate_task');
    assert.equal(dup.payload, JSON.stringify({ name: 'listed-1', image: TEST_IMAGE, command: ['true'] }));
  });

  it('runs a duplicate submission once, and a finished task again when submitted again', async () => {
    const c = cluster.client;
    const spec = { name: 'twice', image: TEST_IMAGE, command: ['sleep', '1'] };
    c.submit(spec);
    c.submit(spec);
    await c.waitForRejection((r) => r.name === 'twice' && r.code === 'duplicate_task');
    const first = await c.waitForState('twice', 'success');
    assert.equal(first.runs?.length, 1);
    c.submit({ ...spec, command: ['sh', '-c', 'echo second'] });
    const second = await c.waitFor('twice', (t) => t.state === 'success' && (t.runs?.length ?? 0) === 2);
    assert.deepEqual(second.runs?.map((r) => r.attempt), [1, 2]);
    assert.match(second.runs?.[1]?.output ?? '', /second/);
  });

  it('cancel stops a running container', async () => {
    const c = cluster.client;
    c.submit({ name: 'to-cancel', image: TEST_IMAGE, command: ['sleep', '300'] });
    await c.waitForState('to-cancel', 'running');
    const running = await cluster.containers();
    assert.ok(running.some((x) => x.Labels['tangerine.task'] === 'to-cancel'), 'its container runs');
    c.cancel('to-cancel');
    await c.waitForState('to-cancel', 'cancelled');
    const t = await c.waitFor('to-cancel', (x) => x.runs?.[0]?.finished_at !== null, 20000);
    assert.ok([137, 143].includes(t.runs?.[0]?.exit_code ?? -1), `stopped by a signal, got ${t.runs?.[0]?.exit_code}`);
    const left = await cluster.containersLeft('to-cancel');
    assert.ok(!left.some((x) => x.Labels['tangerine.task'] === 'to-cancel'), 'its container is gone');
  });

  it('answers tasks.get for an unknown name and tasks.list by state', async () => {
    const c = cluster.client;
    const unknown = await c.get('no-such-task');
    assert.deepEqual(unknown, { error: { code: 'not_found', message: 'name: no task named "no-such-task"', field: 'name' } });
    const list = await c.request<{ tasks: { name: string; state: string }[] }>('tasks.list', { state: 'blocked' });
    assert.deepEqual(list.tasks.map((t) => t.name).sort(), ['child-of-bad', 'grandchild-of-bad']);
    const bad = await c.request<{ error: { code: string; message: string } }>('tasks.list', { state: 'sleeping' });
    assert.equal(bad.error.code, 'invalid_request');
    assert.match(bad.error.message, /^state: /);
  });

  it('logs the task name, attempt and host on every line about a task, and no secrets', () => {
    const lines = [...cluster.services.values(), ...cluster.agents.values()].flatMap((p) => p.lines);
    const taskLines = lines.filter((l) => typeof l['task'] === 'string');
    assert.ok(taskLines.length > 20);
    for (const l of taskLines) {
      assert.ok('attempt' in l && 'host' in l, `missing attempt or host: ${JSON.stringify(l)}`);
    }
    assert.ok(!JSON.stringify(lines).includes(cluster.databaseUrl), 'the database URL never reaches a log');
  });

  it('leaves no container behind', async () => {
    // An agent removes a container once its exit report is stored: give the last ones up to 5 s.
    const left = await waitFor('no container left', async () => ((await cluster.containers()).length === 0 ? [] : undefined), 5000)
      .catch(() => cluster.containers());
    assert.deepEqual(left.map((x) => x.Names), []);
  });
});
