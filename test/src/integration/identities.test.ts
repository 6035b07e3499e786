// `npm run identities`: the command an operator runs to make a cluster's NATS identities and to add an agent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createUser } from '@nats-io/nkeys';
import { ROOT } from '../helpers/processes.js';

const CLI = path.join(ROOT, 'libs', 'bus', 'dist', 'identities-cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('npm run identities', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-identities-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const registry = () => JSON.parse(readFileSync(path.join(dir, 'identities.json'), 'utf8')) as { identities: { name: string; public_key: string }[] };

  it('init makes every identity once, seeds readable by the owner only', () => {
    const first = run('init', dir, '--host', 'local');
    assert.equal(first.status, 0, first.stderr);
    const names = registry().identities.map((e) => e.name);
    assert.deepEqual(names, ['intake', 'resolver', 'placer', 'monitor', 'cron', 'host-health', 'relay', 'api', 'notifier', 'autoscaler', 'submitter', 'operator', 'admin', 'tangerine']);
    assert.equal(statSync(path.join(dir, 'seeds', 'submitter.nk')).mode & 0o777, 0o600);
    assert.match(readFileSync(path.join(dir, 'seeds', 'submitter.nk'), 'utf8'), /^SU[A-Z2-7]{56}\n$/);
    const keys = registry().identities.map((e) => e.public_key);
    assert.equal(run('init', dir, '--host', 'local').status, 0);
    assert.deepEqual(registry().identities.map((e) => e.public_key), keys, 'a second init changes nothing');
  });

  it('adds an agent with a seed made here, or with only the public key made on its host', () => {
    const made = run('agent', dir, 'h3');
    assert.equal(made.status, 0, made.stderr);
    assert.match(made.stdout, /NATS_INBOX_PREFIX=_INBOX_agent-h3 HOST_ID=h3/);
    const remote = createUser().getPublicKey();
    assert.equal(run('agent', dir, 'h4', '--public-key', remote).status, 0);
    const auth = readFileSync(path.join(dir, 'auth.conf'), 'utf8');
    assert.ok(auth.includes(remote), 'auth.conf has the agent made elsewhere');
    assert.ok(auth.includes('runs.h3.') || auth.includes('"runs.'), 'auth.conf grants the agent its reports');
    assert.throws(() => statSync(path.join(dir, 'seeds', 'agent-h4.nk')), 'no seed is kept for a key made elsewhere');
  });

  it('writes a configuration nats-server accepts', () => {
    const conf = path.join(dir, 'server.conf');
    writeFileSync(conf, 'include "auth.conf"\n');
    const t = spawnSync('nats-server', ['-t', '-c', conf], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr + t.stdout);
  });

  it('refuses a host id that is not one, and a key that is not a user key, naming the field', () => {
    const bad = run('agent', dir, 'no.dots');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /host: must match/);
    const key = run('agent', dir, 'h5', '--public-key', 'UNOTAKEY');
    assert.equal(key.status, 2);
    assert.match(key.stderr, /public_key: must be an nkey user public key/);
    assert.equal(run('nonsense', dir).status, 2);
  });
});
