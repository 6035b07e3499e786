import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { TaskView } from '@tangerine/contracts';
import { HttpApi, SseStream } from '../helpers/http.js';
import { TestIdentities } from '../helpers/identities.js';
import { startNats, type NatsServer } from '../helpers/nats.js';
import { createDatabase } from '../helpers/postgres.js';
import { ServiceProcess } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `npm start`'s one process (every service and the local agent, as the `tangerine` identity) serves the HTTP API
 * too: a task submitted over HTTP runs, and its events stream. Once, a deny of the api's own grants (the resolver's
 * durable consumers) stopped this process at its start.
 */
describe('the combined process serves the HTTP API', () => {
  const identities = TestIdentities.create();
  const token = randomBytes(24).toString('hex');
  let nats: NatsServer;
  let db: { url: string; drop: () => Promise<void> };
  let proc: ServiceProcess;
  let api: HttpApi;

  before(async () => {
    nats = await startNats({ config: identities.serverConfig });
    db = await createDatabase('combined_http');
    proc = new ServiceProcess('combined', {
      NATS_URL: nats.url, DATABASE_URL: db.url, HOST_ID: 'local', AGENT_EXECUTORS: 'process', API_TOKENS: `${token} write local`,
      ...identities.env({ kind: 'tangerine', host: 'local' }),
    }).start();
    const line = await proc.waitForLine((l) => l['msg'] === 'http listening' || l['msg'] === 'stopping', 60_000);
    assert.equal(line['msg'], 'http listening', JSON.stringify(proc.lines.filter((l) => Number(l['level']) >= 50).slice(0, 3)));
    api = new HttpApi(`http://127.0.0.1:${String(line['port'])}`, token);
  });
  after(async () => {
    await proc?.stop();
    await nats?.stop();
    await db?.drop();
  });

  it('health is ok; a task submitted over HTTP runs; its events stream from the start', async () => {
    assert.deepEqual((await api.get('/v1/health')).json, { status: 'ok', checks: { nats: true, ledger: true } });
    const r = await api.post('/v1/tasks', { name: 'combo', executor: 'process', command: ['echo', 'combined'] });
    assert.equal(r.status, 202, r.text);
    await waitFor('combo succeeded', async () => ((await api.get('/v1/tasks/combo')).json as TaskView).state === 'success' || undefined, 30_000);
    assert.equal((await api.get('/v1/tasks/combo/runs/1/output')).text.trim(), 'combined');
    const s = await SseStream.open(`${api.url}/v1/events?name=combo`, token, { 'last-event-id': '0' });
    const states: string[] = [];
    while (!states.includes('success')) states.push((JSON.parse((await s.next()).data) as TaskView).state);
    s.close();
    assert.deepEqual(states, ['ready', 'placed', 'running', 'success']);
  });
});
