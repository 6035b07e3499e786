import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FORMAT, SlackLimits, TRIMMED, escape, formatMessage, tail, trim, type Digest, type SlackMessage } from './format.js';
import type { Item } from './items.js';
import { Subjects } from '@tangerine/contracts';

const AT = '2026-12-01T10:00:00.000Z';
function failed(name: string, extra: Partial<Extract<Item, { type: 'task' }>> = {}): Item {
  return {
    type: 'task', task: name, state: 'failed', attempt: 3, max_failures: 3, host: 'h1', exit_code: 2, reason: 'exit code 2 is not recoverable',
    output_tail: 'starting\nreading input\nTraceback: boom\n', duration_s: 42.5, at: AT, ...extra,
  };
}
function digest(items: Item[], extra: Partial<Digest> = {}): Digest {
  const byState: Record<string, number> = {};
  for (const i of items) byState[i.state] = (byState[i.state] ?? 0) + 1;
  return { group_key: items[0]?.type === 'task' ? items[0].state : 'x', items, total: items.length, byState, first_at: new Date(AT), last_at: new Date(AT), ...extra };
}
function texts(m: SlackMessage): string {
  return JSON.stringify(m.blocks);
}
/** Every limit of Slack's that a message must keep. */
function assertWithinLimits(m: SlackMessage): void {
  assert.ok(m.blocks.length <= SlackLimits.blocks, `${m.blocks.length} blocks`);
  assert.ok(m.text.length > 0 && m.text.length <= SlackLimits.textChars, `text of ${m.text.length}`);
  for (const b of m.blocks) {
    if (b.type === 'header') assert.ok(b.text.text.length <= SlackLimits.headerChars, `header of ${b.text.text.length}`);
    if (b.type === 'section') {
      if (b.text) assert.ok(b.text.text.length <= SlackLimits.sectionChars, `section of ${b.text.text.length}`);
      for (const f of b.fields ?? []) assert.ok(f.text.length <= SlackLimits.fieldChars);
      assert.ok((b.fields ?? []).length <= SlackLimits.fields);
    }
  }
}

describe('formatMessage: one task', () => {
  it('a failure has the header, the fields, the reason and the output tail in a code block, and a text fallback', () => {
    const m = formatMessage(digest([failed('nightly-etl')]));
    assert.deepEqual(m.blocks[0], { type: 'header', text: { type: 'plain_text', text: ':x: Task nightly-etl failed', emoji: true } });
    assert.deepEqual(m.blocks[1], {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*Task*\n`nightly-etl`' }, { type: 'mrkdwn', text: '*State*\nfailed' }, { type: 'mrkdwn', text: '*Attempt*\n3 of 3' },
        { type: 'mrkdwn', text: '*Host*\nh1' }, { type: 'mrkdwn', text: '*Exit code*\n2' }, { type: 'mrkdwn', text: '*Duration*\n42.5 s' },
      ],
    });
    assert.deepEqual(m.blocks[2], { type: 'section', text: { type: 'mrkdwn', text: '*Reason*\nexit code 2 is not recoverable' } });
    assert.deepEqual(m.blocks[3], { type: 'section', text: { type: 'mrkdwn', text: '```\nstarting\nreading input\nTraceback: boom\n```' } });
    assert.equal(m.blocks.length, 4, 'no link without STATUS_URL');
    assert.equal(m.text, 'Task nightly-etl failed: attempt 3 of 3, on h1, exit code 2, exit code 2 is not recoverable');
  });

  it('links to the status page when STATUS_URL is set', () => {
    const m = formatMessage(digest([failed('etl')]), { ...DEFAULT_FORMAT, statusUrl: 'https://t.example.com/' });
    assert.deepEqual(m.blocks.at(-1), { type: 'context', elements: [{ type: 'mrkdwn', text: '<https://t.example.com/tasks/etl|Open etl on the status page>' }] });
    assert.match(m.text, / https:\/\/t\.example\.com\/tasks\/etl$/);
  });

  const cases: [string, Item, (m: SlackMessage) => void][] = [
    ['a blocked task names its dependency', failed('b', { state: 'blocked', reason: 'dependency a is failed', exit_code: null, host: null, output_tail: null, duration_s: null }), (m) => {
      assert.equal(m.blocks[0]?.type === 'header' && m.blocks[0].text.text, ':no_entry: Task b blocked');
      assert.ok(texts(m).includes('dependency a is failed'));
      assert.ok(!texts(m).includes('Exit code'));
      assert.equal(m.text, 'Task b blocked: attempt 3 of 3, dependency a is failed');
    }],
    ['a success', failed('s', { state: 'success', exit_code: 0, reason: null }), (m) => assert.equal(m.blocks[0]?.type === 'header' && m.blocks[0].text.text, ':white_check_mark: Task s success')],
    ['only the last 10 lines of the output', failed('t', { output_tail: Array.from({ length: 30 }, (_, i) => `l${i}`).join('\n') }), (m) => {
      assert.ok(texts(m).includes('l29') && texts(m).includes('l20') && !texts(m).includes('l19\\n'));
    }],
    ['markup in the output is escaped, a ``` cannot close the block', failed('t', { output_tail: '<!channel> & ```\n' }), (m) => {
      assert.ok(texts(m).includes('&lt;!channel&gt; &amp; ` ` `'));
    }],
    ['an enormous output line is trimmed from its start, with a note', failed('t', { output_tail: 'x'.repeat(10_000) + 'END' }), (m) => {
      const code = m.blocks[3];
      assert.ok(code?.type === 'section' && code.text!.text.length <= SlackLimits.sectionChars);
      assert.ok(code?.type === 'section' && code.text!.text.includes('(trimmed) …') && code.text!.text.includes('END'));
    }],
    ['an enormous reason is trimmed with a note', failed('t', { reason: 'r'.repeat(5000) }), (m) => {
      const reason = m.blocks[2];
      assert.ok(reason?.type === 'section' && reason.text!.text.endsWith(TRIMMED) && reason.text!.text.length === SlackLimits.sectionChars);
    }],
    ['a task without a max shows its attempt alone', failed('t', { max_failures: null }), (m) => assert.ok(texts(m).includes('*Attempt*\\n3"'))],
  ];
  for (const [what, item, check] of cases) {
    it(what, () => {
      const m = formatMessage(digest([item]));
      assertWithinLimits(m);
      check(m);
    });
  }
});

describe('formatMessage: digests', () => {
  it('37 failures in 60 s: names the first 20, counts the rest', () => {
    const items = Array.from({ length: 20 }, (_, i) => failed(`job-${i}`));
    const m = formatMessage({ group_key: 'failed', items, total: 37, byState: { failed: 37 }, first_at: new Date(AT), last_at: new Date(Date.parse(AT) + 60_000) });
    assertWithinLimits(m);
    assert.equal(m.blocks[0]?.type === 'header' && m.blocks[0].text.text, ':x: 37 tasks failed in 1 min 0 s');
    for (let i = 0; i < 20; i++) assert.ok(texts(m).includes(`\`job-${i}\``), `job-${i}`);
    assert.ok(texts(m).includes('…and 17 more'));
    assert.match(m.text, /^:x: 37 tasks failed in 1 min 0 s: job-0, job-1, .*job-19, and 17 more$/);
  });

  it('a host lost: how many tasks it held, and what became of them', () => {
    const items: Item[] = [
      { type: 'host_down', host: 'h3', state: 'down', reason: 'no heartbeat for 10 s', at: AT },
      ...Array.from({ length: 12 }, (_, i): Item => ({ type: 'task_lost', task: `t${i}`, state: i < 10 ? 'ready' : 'failed', attempt: 1, host: 'h3', reason: 'host_lost: host h3 stopped answering', at: AT })),
    ];
    const m = formatMessage({ group_key: 'host/h3', items, total: 13, byState: { down: 1, ready: 10, failed: 2 }, first_at: new Date(AT), last_at: new Date(AT) });
    assertWithinLimits(m);
    assert.equal(m.blocks[0]?.type === 'header' && m.blocks[0].text.text, ':rotating_light: host h3 lost: 12 tasks (2 failed, 10 requeued)');
    assert.ok(texts(m).includes('• `t0` (attempt 1) → requeued'));
    assert.ok(texts(m).includes('• host h3 down: no heartbeat for 10 s'));
  });

  it('a storm of 100,000 stays within every limit and counts them all', () => {
    const items = Array.from({ length: 20 }, (_, i) => failed(`storm-${i}`, { reason: 'q'.repeat(400) }));
    const m = formatMessage({ group_key: 'failed', items, total: 100_000, byState: { failed: 100_000 }, first_at: new Date(AT), last_at: new Date(AT) });
    assertWithinLimits(m);
    assert.ok(texts(m).includes('…and 99,980 more'));
    assert.ok(m.text.endsWith(', and 99,980 more'), m.text);
  });

  it('dead letters: by consumer, each with its subject and reason', () => {
    const item: Item = { type: 'dead_letter', consumer: 'monitor', stream: 'TANGERINE_REPORTS', subject: Subjects.runExited.make('h1'), seq: 7, state: 'invalid_message', reason: 'payload: is not valid JSON', at: AT };
    const m = formatMessage({ group_key: 'dead/monitor', items: [item], total: 1, byState: { invalid_message: 1 }, first_at: new Date(AT), last_at: new Date(AT) });
    assert.equal(m.blocks[0]?.type === 'header' && m.blocks[0].text.text, ':skull: 1 message set aside by monitor');
    assert.ok(texts(m).includes(`\`${Subjects.runExited.make('h1')}\` #7 (invalid_message): payload: is not valid JSON`));
  });

  it('the autoscaler: by provider, each event with its hosts, code and reason', () => {
    const items: Item[] = [
      { type: 'scaling', provider: 'spot-fleet', kind: 'error', state: 'error', from: null, to: null, host: null, instance: null, code: 'RequestLimitExceeded', reason: 'describe: Request limit exceeded.', at: AT },
      { type: 'scaling', provider: 'spot-fleet', kind: 'given_up', state: 'given_up', from: null, to: null, host: null, instance: 'i-0abc', code: null, reason: 'did not join within 600 s', at: AT },
    ];
    const m = formatMessage({ group_key: 'scaling/spot-fleet', items, total: 2, byState: { error: 1, given_up: 1 }, first_at: new Date(AT), last_at: new Date(AT) });
    assertWithinLimits(m);
    assert.equal(m.blocks[0]?.type === 'header' && m.blocks[0].text.text, ':chart_with_upwards_trend: autoscaler spot-fleet: 2 events');
    assert.ok(texts(m).includes('• error (RequestLimitExceeded): describe: Request limit exceeded.'));
    assert.ok(texts(m).includes('• given up i-0abc: did not join within 600 s'));
    assert.equal(m.text, ':chart_with_upwards_trend: autoscaler spot-fleet: 2 events: error, i-0abc');
  });

  it('cron fire times skipped past their deadline', () => {
    const items: Item[] = [
      { type: 'fire_skipped', task: 'nightly', state: 'skipped_deadline', fire_time: '2026-12-01T02:00:00.000Z', missed_from: '2026-11-30T02:00:00.000Z', at: AT },
      { type: 'fire_skipped', task: 'hourly', state: 'skipped_deadline', fire_time: '2026-12-01T09:00:00.000Z', missed_from: null, at: AT },
    ];
    const m = formatMessage({ group_key: 'cron', items, total: 2, byState: { skipped_deadline: 2 }, first_at: new Date(AT), last_at: new Date(AT) });
    assertWithinLimits(m);
    assert.equal(m.blocks[0]?.type === 'header' && m.blocks[0].text.text, ':alarm_clock: 2 cron fire times skipped past the starting deadline');
    assert.ok(texts(m).includes('• `nightly` 2026-12-01T02:00:00.000Z (missed since 2026-11-30T02:00:00.000Z)'));
    assert.equal(m.text, ':alarm_clock: 2 cron fire times skipped past the starting deadline: nightly, hourly');
  });

  it('more blocks than Slack takes: 49 kept and a note', () => {
    const items = Array.from({ length: 600 }, (_, i) => failed(`n${i}`));
    const m = formatMessage({ group_key: 'failed', items, total: 600, byState: { failed: 600 }, first_at: null, last_at: null }, { ...DEFAULT_FORMAT, named: 600 });
    assert.equal(m.blocks.length, 50);
    assert.deepEqual(m.blocks.at(-1), { type: 'context', elements: [{ type: 'mrkdwn', text: '(trimmed: 12 more blocks)' }] });
    assertWithinLimits(m);
  });
});

describe('trim, escape, tail', () => {
  const trims: [string, number, string][] = [['abc', 3, 'abc'], ['abcdef', 20, 'abcdef'], ['a'.repeat(20), 15, `aaaa${TRIMMED}`]];
  for (const [text, max, want] of trims) it(`trim(${text.length} chars, ${max})`, () => assert.equal(trim(text, max), want));
  it('escape', () => assert.equal(escape('<a> & <b>'), '&lt;a&gt; &amp; &lt;b&gt;'));
  const tails: [string, number, string][] = [['a\nb\nc\n\n', 2, 'b\nc'], ['one', 5, 'one'], ['', 3, '']];
  for (const [text, n, want] of tails) it(`tail(${JSON.stringify(text)}, ${n})`, () => assert.equal(tail(text, n), want));
});
