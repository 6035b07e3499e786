import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Subjects, type HostEvent, type TaskEvent } from '@tangerine/contracts';
import pg from 'pg';
import { Cluster } from '../helpers/cluster.js';
import type { ServiceProcess } from '../helpers/processes.js';
import { SlackReceiver, messageText, type SlackRequest } from '../helpers/slack.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

/**
 * The notifier against a local receiver that speaks Slack's webhook protocol, through the real @slack/webhook: what it
 * sends for a failed task, a blocked dependent and a lost host, how a storm becomes a handful of digests at most one
 * a second, how it honours 429 Retry-After, 5xx and 404, that a crash neither repeats nor loses a message, that two
 * replicas tell each event once, and that the webhook's URL is in no log line.
 */

const WINDOW_S = 1;
const enc = new TextEncoder();
let seq = 0;

function failedEvent(name: string, extra: Partial<TaskEvent> = {}): TaskEvent {
  return {
    name, state: 'failed', from: 'running', attempt: 1, failures: 1, version: 1000 + ++seq, host: 'feed-host', reason: 'exit code 1 is not recoverable',
    exit_code: 1, at: new Date().toISOString(), ...extra,
  };
}

/** The header's text of a message. */
function headerOf(r: SlackRequest): string {
  return r.body.blocks?.find((b) => b.type === 'header')?.text?.text ?? '';
}

/** How many of `names` a message tells of: each named one, and the "N tasks failed" of a digest beyond those named. */
function told(r: SlackRequest, prefix: string): { named: string[]; counted: number } {
  const text = messageText(r);
  const named = [...new Set([...text.matchAll(new RegExp(`${prefix}-\\d+`, 'g'))].map((m) => m[0]))];
  const digest = /^:x: ([\d,]+) tasks failed/.exec(headerOf(r));
  return { named, counted: digest ? Number(digest[1]!.replaceAll(',', '')) : named.length };
}

describe('notifier: events to Slack', { timeout: 180_000 }, () => {
  const slack = new SlackReceiver();
  let cluster: Cluster;
  let js: JetStreamClient;
  let db: pg.Pool;
  /** Notifier processes killed along the way: their log lines are checked too. */
  const killed: ServiceProcess[] = [];
  const killNotifier = async (): Promise<void> => {
    const p = cluster.services.get('notifier')!;
    killed.push(p);
    await p.kill();
  };

  const feed = async (subject: string, payload: unknown): Promise<void> => {
    await js.publish(subject, enc.encode(JSON.stringify(payload)));
  };
  const feedFailed = (e: TaskEvent): Promise<void> => feed(Subjects.events.make(e.name, e.state), e);
  const deliveredAbout = (name: string): SlackRequest[] => slack.delivered().filter((r) => messageText(r).includes(`${name}`));

  before(async () => {
    await slack.start();
    cluster = new Cluster('notifier', {
      SLACK_WEBHOOK: slack.url, NOTIFY_GROUP_WINDOW: String(WINDOW_S), STATUS_URL: 'http://status.test', NOTIFY_RETRY_FOR: '30',
    });
    await cluster.start({
      services: ['intake', 'resolver', 'placer', 'monitor', 'host-health', 'api', 'notifier'],
      agents: [{ host: 'nh1', executors: 'process', slots: 4 }],
    });
    js = jetstream(cluster.client.nc);
    db = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2 });
    await cluster.services.get('notifier')!.waitForLine((l) => l['msg'] === 'notifying Slack');
  });

  after(async () => {
    await db?.end();
    await cluster?.stop();
    await slack.stop();
  });

  it('a failed task: one message with its fields, its output\'s tail and a link', async () => {
    cluster.client.submit({ name: 'n-fail', executor: 'process', command: ['sh', '-c', 'echo starting; echo boom >&2; exit 3'], restartable: false, max_failures: 1 });
    const [m] = await waitFor('the failure\'s message', () => (deliveredAbout('n-fail').length > 0 ? deliveredAbout('n-fail') : undefined), 30_000);
    assert.equal(headerOf(m!), ':x: Task n-fail failed');
    const fields = m!.body.blocks!.find((b) => b.fields)!.fields!.map((f) => f.text);
    assert.deepEqual(fields.slice(0, 5), ['*Task*\n`n-fail`', '*State*\nfailed', '*Attempt*\n1 of 1', '*Host*\nnh1', '*Exit code*\n3']);
    assert.match(fields[5] ?? '', /^\*Duration\*\n[\d.]+ s$/);
    const code = m!.body.blocks!.find((b) => b.text?.text.startsWith('```'))?.text?.text ?? '';
    assert.ok(code.includes('starting') && code.includes('boom'), code);
    assert.deepEqual(m!.body.blocks!.at(-1), { type: 'context', elements: [{ type: 'mrkdwn', text: '<http://status.test/tasks/n-fail|Open n-fail on the status page>' }] });
    assert.match(m!.body.text ?? '', /^Task n-fail failed: attempt 1 of 1, on nh1, exit code 3/);
    assert.equal(m!.headers['content-type'], 'application/json');
    // A moment later there is still one.
    await new Promise((r) => setTimeout(r, (WINDOW_S + 1) * 1000));
    assert.equal(deliveredAbout('n-fail').length, 1);
  });

  it('a blocked dependent: its message names the dependency', async () => {
    cluster.client.submit([
      { name: 'n-base', executor: 'process', command: ['false'], restartable: false },
      { name: 'n-child', executor: 'process', command: ['true'], dependencies: ['n-base'] },
    ]);
    const m = await waitFor('the blocked message', () => slack.delivered().find((r) => headerOf(r) === ':no_entry: Task n-child blocked'), 30_000);
    assert.ok(messageText(m).includes('dependency n-base is failed'), messageText(m));
  });

  it('a host lost: one message with the tasks it held and what became of them', async () => {
    const at = new Date().toISOString();
    const down: HostEvent = { host: 'hx', state: 'down', from: 'up', reason: 'no heartbeat for 10 s', at };
    await feed(Subjects.hostEvents.make('hx', 'down'), down);
    for (let i = 0; i < 12; i++) {
      const state = i < 10 ? 'ready' : 'failed';
      await feedFailed(failedEvent(`lost-${i}`, { state, host: 'hx', reason: 'host_lost: host hx stopped answering', exit_code: null }));
    }
    const m = await waitFor('the host\'s message', () => slack.delivered().find((r) => headerOf(r).includes('host hx lost')), 20_000);
    assert.equal(headerOf(m), ':rotating_light: host hx lost: 12 tasks (2 failed, 10 requeued)');
    for (let i = 0; i < 12; i++) assert.ok(messageText(m).includes(`\`lost-${i}\``), `lost-${i} named`);
    assert.equal(slack.delivered().filter((r) => headerOf(r).includes('host hx')).length, 1);
    assert.equal(slack.delivered().filter((r) => messageText(r).includes('lost-3')).length, 1, 'a lost task is not told again as a failure');
  });

  it('a cron fire time skipped past its deadline (recorded by cron in the ledger, no event): its message', async () => {
    await db.query(`INSERT INTO tasks (name, spec, state) VALUES ('n-cron', '{"name": "n-cron"}', 'scheduled')`);
    await db.query(`INSERT INTO fires (task, fire_time, outcome, missed_from) VALUES ('n-cron', '2026-12-01T02:00:00Z', 'skipped_deadline', '2026-11-30T02:00:00Z')`);
    const m = await waitFor('the skipped fire\'s message', () => deliveredAbout('n-cron')[0], 20_000);
    assert.equal(headerOf(m), ':alarm_clock: 1 cron fire time skipped past the starting deadline');
    assert.ok(messageText(m).includes('`n-cron` 2026-12-01T02:00:00.000Z (missed since 2026-11-30T02:00:00.000Z)'), messageText(m));
  });

  it('200 failures within a few seconds: a handful of messages, at most one a second, every task named or counted', async () => {
    const firstRequest = slack.requests.length;
    for (let burst = 0; burst < 4; burst++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => feedFailed(failedEvent(`storm-${burst * 50 + i}`))));
      await new Promise((r) => setTimeout(r, 500));
    }
    const storm = () => slack.delivered().filter((r) => messageText(r).includes('storm-'));
    await waitUntil('all 200 told', () => storm().reduce((n, r) => n + told(r, 'storm').counted, 0) >= 200, 30_000);
    const messages = storm();
    assert.equal(messages.reduce((n, r) => n + told(r, 'storm').counted, 0), 200, 'each told once');
    assert.ok(messages.length <= 6, `${messages.length} messages`);
    const named = messages.flatMap((r) => told(r, 'storm').named);
    assert.equal(new Set(named).size, named.length, 'no task named twice');
    const times = slack.requests.slice(firstRequest).map((r) => r.at);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 990, `requests ${i - 1} and ${i} ${times[i]! - times[i - 1]!} ms apart`);
  });

  it('429 with Retry-After: 2 delays the next request 2 s, then the message is delivered', async () => {
    slack.answers.push({ status: 429, body: 'rate_limited', headers: { 'Retry-After': '2' } });
    await feedFailed(failedEvent('ra-1'));
    await waitFor('delivered after the 429', () => deliveredAbout('ra-1')[0], 20_000);
    const tries = slack.requests.filter((r) => messageText(r).includes('ra-1'));
    assert.deepEqual(tries.map((r) => r.status), [429, 200]);
    assert.ok(tries[1]!.at - tries[0]!.at >= 2000, `${tries[1]!.at - tries[0]!.at} ms after the 429`);
  });

  it('500 is retried with backoff; 404 channel_not_found is not retried, logged with Slack\'s error, and the rest goes on', async () => {
    slack.answers.push({ status: 500, body: 'internal_error' });
    await feedFailed(failedEvent('five-1'));
    await waitFor('delivered after the 500', () => deliveredAbout('five-1')[0], 20_000);
    assert.deepEqual(slack.requests.filter((r) => messageText(r).includes('five-1')).map((r) => r.status), [500, 200]);

    slack.answers.push({ status: 404, body: 'channel_not_found' });
    await feedFailed(failedEvent('nf-1'));
    const line = await cluster.services.get('notifier')!.waitForLine((l) => typeof l['error'] === 'string' && (l['error'] as string).includes('channel_not_found'), 20_000);
    assert.equal(line['error'], 'HTTP 404: channel_not_found');
    await feedFailed(failedEvent('after-nf'));
    await waitFor('the next message', () => deliveredAbout('after-nf')[0], 20_000);
    assert.equal(slack.requests.filter((r) => messageText(r).includes('nf-1') && !messageText(r).includes('after-nf')).length, 1, 'the 404 was not retried');
  });

  it('SIGKILLed after a send, its event delivered again, restarted: the message is not sent twice', async () => {
    const e = failedEvent('k-sent');
    await feedFailed(e);
    await waitFor('sent', () => deliveredAbout('k-sent')[0], 20_000);
    await waitUntil('marked sent', async () => {
      const rows = await db.query(`SELECT n.state FROM notification_items i JOIN notifications n ON n.id = i.notification WHERE i.key = $1`, [`task/k-sent/${e.version}`]);
      return rows.rows[0]?.state === 'sent';
    });
    await killNotifier();
    // The same event again, as JetStream delivers one whose ack was lost.
    await feedFailed(e);
    cluster.startService('notifier');
    await feedFailed(failedEvent('k-marker'));
    await waitFor('the marker after the restart', () => deliveredAbout('k-marker')[0], 30_000);
    assert.equal(deliveredAbout('k-sent').length, 1);
  });

  it('SIGKILLed before sending: the message is sent once after the restart', async () => {
    const e = failedEvent('k-pending');
    await feedFailed(e);
    await waitUntil('recorded', async () => (await db.query(`SELECT 1 FROM notification_items WHERE key = $1`, [`task/k-pending/${e.version}`])).rows.length === 1);
    await killNotifier();
    assert.equal(slack.requests.filter((r) => messageText(r).includes('k-pending')).length, 0, 'killed before its window closed');
    cluster.startService('notifier');
    await waitFor('sent after the restart', () => deliveredAbout('k-pending')[0], 30_000);
    await new Promise((r) => setTimeout(r, (WINDOW_S + 1) * 1000));
    assert.equal(deliveredAbout('k-pending').length, 1);
  });

  it('two replicas: every event is told exactly once', async () => {
    cluster.startService('notifier', 'notifier-2');
    await cluster.services.get('notifier-2')!.waitForLine((l) => l['msg'] === 'notifying Slack');
    for (let i = 0; i < 15; i++) await feedFailed(failedEvent(`two-${i}`));
    for (let i = 0; i < 15; i++) await feedFailed(failedEvent(`two-${i + 15}`, { state: 'blocked', from: 'waiting', reason: 'dependency x is failed', exit_code: null }));
    const about = () => slack.delivered().filter((r) => messageText(r).includes('two-'));
    await waitUntil('all 30 told', () => {
      const names = new Set(about().flatMap((r) => told(r, 'two').named));
      return names.size >= 30;
    }, 30_000);
    await new Promise((r) => setTimeout(r, (WINDOW_S + 1) * 1000));
    const named = about().flatMap((r) => told(r, 'two').named);
    assert.equal(named.length, 30, `named ${named.length} times: ${named.sort().join(' ')}`);
    assert.equal(new Set(named).size, 30);
  });

  it('the webhook\'s URL is in no log line of any process, and the notifier names it redacted', () => {
    const secret = slack.secretPath.slice(1, -4);
    const lines = [...cluster.services.values(), ...cluster.agents.values(), ...killed].flatMap((p) => [...p.lines.map((l) => JSON.stringify(l)), ...p.stderrTail]);
    // The lines that could hold it were captured: every send, the retries and the refusal.
    for (const msg of ['sent to Slack', 'trying again', 'channel_not_found']) assert.ok(lines.some((l) => l.includes(msg)), `a line with "${msg}"`);
    for (const l of lines) assert.ok(!l.includes(secret), `a log line holds the webhook: ${l.slice(0, 200)}`);
    const started = cluster.services.get('notifier')!.lines.find((l) => l['msg'] === 'notifying Slack');
    assert.equal(started?.['slack'], `${new URL(slack.url).host}/…${slack.secretPath.slice(-4)}`);
  });
});
