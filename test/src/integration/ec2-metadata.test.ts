import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Ec2Metadata, MetadataError } from '@tangerine/agent';
import { ImdsServer } from '../helpers/imds-server.js';

/** The agent's IMDSv2 client against a local server speaking the instance metadata protocol. */
describe('EC2 instance metadata (IMDSv2)', () => {
  const imds = new ImdsServer();
  before(async () => {
    await imds.start();
  });
  beforeEach(() => {
    imds.notice = null;
    imds.rawNotice = null;
  });
  after(async () => {
    await imds.stop();
  });

  it('reads the instance id with a session token, asked once and kept', async () => {
    const md = new Ec2Metadata(imds.url);
    const first = imds.requests.length;
    assert.equal(await md.instanceId(), imds.instanceId);
    assert.equal(await md.spotNotice(), null);
    const sent = imds.requests.slice(first);
    assert.deepEqual(sent.map((r) => [r.method, r.path, r.status]), [
      ['PUT', '/latest/api/token', 200], ['GET', '/latest/meta-data/instance-id', 200], ['GET', '/latest/meta-data/spot/instance-action', 404],
    ]);
    assert.ok(sent[1]!.token && sent[1]!.token === sent[2]!.token, 'both reads carry the one token');
  });

  it('gives the interruption notice once EC2 schedules one', async () => {
    const md = new Ec2Metadata(imds.url);
    imds.notice = { action: 'terminate', time: '2026-12-02T04:02:00Z' };
    assert.deepEqual(await md.spotNotice(), { action: 'terminate', time: '2026-12-02T04:02:00Z' });
  });

  it('asks a new token when the old one is refused', async () => {
    const md = new Ec2Metadata(imds.url);
    await md.instanceId();
    imds.expireTokens();
    const first = imds.requests.length;
    assert.equal(await md.instanceId(), imds.instanceId);
    assert.deepEqual(imds.requests.slice(first).map((r) => r.status), [401, 200, 200]);
  });

  it('refuses a malformed or oversized notice, and an endpoint that is not there, with a MetadataError', async () => {
    const md = new Ec2Metadata(imds.url);
    for (const [raw, rule] of [
      ['not json', /not JSON/], ['{"action":"explode","time":"2026-12-02T04:02:00Z"}', /action must be terminate, stop or hibernate/],
      ['{"action":"terminate","time":"soon"}', /time must be an ISO 8601 time/], ['x'.repeat(100_000), /more than 4096 bytes/],
    ] as const) {
      imds.rawNotice = raw;
      await assert.rejects(md.spotNotice(), (e: Error) => e instanceof MetadataError && rule.test(e.message), raw.slice(0, 20));
    }
    await assert.rejects(new Ec2Metadata('http://127.0.0.1:1').instanceId(), (e: Error) => e instanceof MetadataError && /could not be reached/.test(e.message));
  });
});
