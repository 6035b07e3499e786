import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from './metrics.js';

describe('Metrics', () => {
  it('keeps the names of old: counters tangerine_<name>_total, gauges tangerine_<name>, each with its service', async () => {
    const m = new Metrics('intake');
    m.inc('messages_set_aside', 1, { durable: 'intake' });
    m.inc('messages_set_aside', 2, { durable: 'intake' });
    m.inc('unhandled_rejections');
    m.gauge('ledger_statements', () => 42);
    const text = await m.render();
    const cases: string[] = [
      'tangerine_messages_set_aside_total{durable="intake",service="intake"} 3',
      'tangerine_unhandled_rejections_total{service="intake"} 1',
      'tangerine_ledger_statements{service="intake"} 42',
      '# TYPE tangerine_messages_set_aside_total counter',
      '# TYPE tangerine_ledger_statements gauge',
    ];
    for (const line of cases) assert.ok(text.split('\n').includes(line), `${line} in:\n${text}`);
  });

  it('reads a gauge at each scrape', async () => {
    const m = new Metrics('s');
    let n = 1;
    m.gauge('things', () => n);
    assert.match(await m.render(), /^tangerine_things\{service="s"\} 1$/m);
    n = 5;
    assert.match(await m.render(), /^tangerine_things\{service="s"\} 5$/m);
  });

  it('reads a labelled gauge at most every everyMs, keeping the last values when a read fails', async () => {
    const m = new Metrics('api');
    let reads = 0;
    let fail = false;
    m.gaugeByLabel('tasks', 'tasks by state', 'state', async () => {
      reads += 1;
      if (fail) throw new Error('ledger away');
      return { ready: reads, success: 2 };
    }, 60_000);
    const first = await m.render();
    await m.render();
    assert.equal(reads, 1, 'the second scrape within everyMs reads nothing');
    assert.match(first, /^tangerine_tasks\{state="ready",service="api"\} 1$/m);
    assert.match(first, /^tangerine_tasks\{state="success",service="api"\} 2$/m);

    const m2 = new Metrics('api');
    reads = 0;
    m2.gaugeByLabel('tasks', 'tasks by state', 'state', async () => {
      reads += 1;
      if (fail) throw new Error('ledger away');
      return { ready: 7 };
    }, 0);
    await m2.render();
    fail = true;
    assert.match(await m2.render(), /^tangerine_tasks\{state="ready",service="api"\} 7$/m);
    assert.equal(reads, 2);
  });

  it('histograms: buckets, sum and count per label', async () => {
    const m = new Metrics('monitor');
    const h = m.histogram('task_hop_seconds', 'hops', ['hop'], [0.1, 1]);
    h.observe({ hop: 'placed' }, 0.05);
    h.observe({ hop: 'placed' }, 0.5);
    const text = await m.render();
    const cases: string[] = [
      'tangerine_task_hop_seconds_bucket{le="0.1",service="monitor",hop="placed"} 1',
      'tangerine_task_hop_seconds_bucket{le="1",service="monitor",hop="placed"} 2',
      'tangerine_task_hop_seconds_bucket{le="+Inf",service="monitor",hop="placed"} 2',
      'tangerine_task_hop_seconds_sum{service="monitor",hop="placed"} 0.55',
      'tangerine_task_hop_seconds_count{service="monitor",hop="placed"} 2',
    ];
    for (const line of cases) assert.ok(text.split('\n').includes(line), `${line} in:\n${text}`);
  });

  it('adds Node\'s process metrics only when asked', async () => {
    assert.doesNotMatch(await new Metrics('a').render(), /process_cpu_user_seconds_total/);
    assert.match(await new Metrics('b', { defaults: true }).render(), /^process_cpu_user_seconds_total\{service="b"\} /m);
  });
});
