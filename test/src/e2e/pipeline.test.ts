import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
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
});
