import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from '../helpers/cluster.js';
import { healthPort, scrape, value } from '../helpers/metrics.js';

/** Scrapes until `check` holds (the events that feed the hop histograms come a moment after the state). */
async function scrapeUntil(port: number, check: (text: string) => boolean, timeoutMs = 15000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape(port);
    if (check(text) || Date.now() > deadline) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every service serves its metrics through prom-client: the process's, the counters of old, the hops and depths. */
describe('metrics on /metrics', () => {
  const cluster = new Cluster('metrics', { HEALTH_PORT: '0' });
  const ports = new Map<string, number>();

  before(async () => {
    await cluster.start({ services: ['intake', 'resolver', 'placer', 'monitor', 'host-health', 'api'], agents: [{ host: 'metrics-a', executors: 'process', slots: 2 }] });
    for (const [name, p] of cluster.services) ports.set(name, await healthPort(p));
    ports.set('agent', await healthPort(cluster.agents.get('metrics-a')!));
    // The monitor reads events from the moment it started: it has (its health endpoint comes last).
    cluster.client.submit({ name: 'after', executor: 'process', command: ['true'], dependencies: ['first'] });
    await cluster.client.waitForState('after', 'waiting');
    cluster.client.submit({ name: 'first', executor: 'process', command: ['true'] });
    await cluster.client.waitForState('after', 'success');
  });
  after(async () => {
    await cluster.stop();
  });

  it('every process serves Node\'s process metrics, labelled with its service', async () => {
    for (const [name, port] of ports) {
      const text = await scrape(port);
      assert.ok((value(text, 'process_cpu_user_seconds_total', { service: name }) ?? -1) > 0, `${name}: process_cpu_user_seconds_total`);
      assert.ok((value(text, 'process_resident_memory_bytes', { service: name }) ?? -1) > 0, `${name}: process_resident_memory_bytes`);
      assert.notEqual(value(text, 'nodejs_eventloop_lag_seconds', { service: name }), null, `${name}: nodejs_eventloop_lag_seconds`);
    }
  });

  it('the monitor times every hop of the two tasks', async () => {
    const port = ports.get('monitor')!;
    const count = (text: string, hop: string): number => value(text, 'tangerine_task_hop_seconds_count', { service: 'monitor', hop }) ?? 0;
    const text = await scrapeUntil(port, (t) => count(t, 'finished') >= 2);
    // "after" waited for "first": its ready hop; "first" was submitted ready (no hop there).
    assert.equal(count(text, 'ready'), 1, 'ready');
    assert.equal(count(text, 'placed'), 2, 'placed');
    assert.equal(count(text, 'running'), 2, 'running');
    assert.equal(count(text, 'finished'), 2, 'finished');
    const sum = value(text, 'tangerine_task_hop_seconds_sum', { service: 'monitor', hop: 'finished' });
    assert.ok(sum !== null && sum >= 0 && sum < 30, `finished sum ${sum}`);
    assert.equal(value(text, 'tangerine_task_hop_seconds_bucket', { service: 'monitor', hop: 'finished', le: '+Inf' }), 2);
  });

  it('the api counts the tasks by state, every state shown', async () => {
    const text = await scrape(ports.get('api')!);
    assert.equal(value(text, 'tangerine_tasks', { service: 'api', state: 'success' }), 2);
    for (const state of ['waiting', 'ready', 'placed', 'running', 'failed']) {
      assert.equal(value(text, 'tangerine_tasks', { service: 'api', state }), 0, state);
    }
  });

  it('consumers show their failed deliveries and messages set aside (none here), and services their statements', async () => {
    for (const [service, durable] of [['intake', 'intake'], ['monitor', 'monitor'], ['agent', 'agent-metrics-a']] as const) {
      const text = await scrape(ports.get(service)!);
      for (const kind of ['outage', 'retry', 'refuse']) {
        assert.equal(value(text, 'tangerine_deliveries_failed_total', { service, durable, kind }), 0, `${service} ${kind}`);
      }
      assert.equal(value(text, 'tangerine_messages_set_aside_total', { service, durable }), 0, `${service} set aside`);
    }
    const statements = value(await scrape(ports.get('placer')!), 'tangerine_ledger_statements', { service: 'placer' });
    assert.ok(statements !== null && statements > 0, `placer statements ${statements}`);
  });
});
