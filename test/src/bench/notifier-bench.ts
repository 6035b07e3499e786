// The notifier under a storm: failed and blocked task events fed straight onto the events stream as fast as JetStream takes
// them, while the Slack receiver rate-limits (one message every 2 s, 429 with Retry-After otherwise). Measured: the
// events per second the notifier records (absorbs), its peak memory, and how many messages told them all.
import { jetstream } from '@nats-io/jetstream';
import { Subjects, type TaskEvent } from '@tangerine/contracts';
import pg from 'pg';
import { SlackReceiver } from '../helpers/slack.js';
import { peakRssMb, startStack, waitFor } from './stack.js';

export interface NotifierBench {
  events: number;
  /** Publish of the first event → the last one recorded in the ledger. */
  absorbSeconds: number;
  eventsPerSecond: number;
  peakRssMb: number;
  /** Messages delivered until every event was told (named or counted), and 429s answered meanwhile. */
  messages: number;
  rateLimited: number;
  /** Every event told by the end (false: the wait for the last digest ran out). */
  allTold: boolean;
}

const enc = new TextEncoder();

export async function runNotifierBench(opts: { events: number; timeoutMs: number }): Promise<NotifierBench> {
  const slack = await new SlackReceiver().start();
  slack.limitEveryMs = 2000;
  const stack = await startStack({ agents: [], services: ['notifier'], env: { SLACK_WEBHOOK: slack.url, NOTIFY_GROUP_WINDOW: '2', LOG_LEVEL: 'warn' } });
  const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
  try {
    const js = jetstream(stack.nc);
    const at = new Date().toISOString();
    const started = Date.now();
    const inFlight = 1000;
    for (let i = 0; i < opts.events; i += inFlight) {
      await Promise.all(Array.from({ length: Math.min(inFlight, opts.events - i) }, (_, k) => {
        const n = i + k;
        // Failures and blocked dependents: two digests at once, the second of which the receiver refuses (429) first.
        const e: TaskEvent = n % 2 === 0
          ? { name: `bench-${n}`, state: 'failed', from: 'running', attempt: 1, failures: 1, version: 1, host: 'h1', reason: 'exit code 1', exit_code: 1, at }
          : { name: `bench-${n}`, state: 'blocked', from: 'waiting', attempt: 0, failures: 0, version: 1, host: null, reason: `dependency bench-${n - 1} is failed`, exit_code: null, at };
        return js.publish(Subjects.events.make(e.name, e.state), enc.encode(JSON.stringify(e)));
      }));
    }
    const count = async (): Promise<number> => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM notification_items')).rows[0]?.n ?? 0);
    let recorded = 0;
    const deadline = Date.now() + opts.timeoutMs;
    while (recorded < opts.events && Date.now() < deadline) {
      recorded = await count();
      if (recorded < opts.events) await new Promise((r) => setTimeout(r, 100));
    }
    const absorbSeconds = (Date.now() - started) / 1000;
    const told = (): number => slack.delivered().reduce((n, r) => {
      const m = /([\d,]+) tasks (?:failed|blocked)/.exec(JSON.stringify(r.body.blocks?.[0] ?? ''));
      return n + (m ? Number(m[1]!.replaceAll(',', '')) : 1);
    }, 0);
    const allTold = await waitFor(() => told() >= opts.events, Math.max(10_000, deadline - Date.now()));
    const proc = stack.procs.find((p) => p.label === 'notifier');
    return {
      events: opts.events, absorbSeconds, eventsPerSecond: recorded / absorbSeconds, peakRssMb: peakRssMb(proc?.proc.child?.pid),
      messages: slack.delivered().length, rateLimited: slack.requests.filter((r) => r.status === 429).length, allTold,
    };
  } finally {
    await db.end();
    await stack.stop();
    await slack.stop();
  }
}
