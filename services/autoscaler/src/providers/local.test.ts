import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '@tangerine/runtime';
import { ProviderError } from '../provider.js';
import { LocalProvider, type LocalOptions } from './local.js';

const log = createLogger('test', { level: 'silent', pretty: false });

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'local-provider-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

function options(dir: string, over: Partial<LocalOptions> = {}): LocalOptions {
  const agentMain = path.join(dir, 'main.js');
  writeFileSync(agentMain, '');
  return { limit: 3, min: 0, slots: 2, labels: { autoscaled: 'local' }, prefix: 'auto', identities: null, stateDir: path.join(dir, 'state'), agentMain, env: {}, log, ...over };
}

function refusal(code: string, message: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ProviderError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  };
}

describe('LocalProvider', () => {
  it('names its pool after the prefix and the limit', withDir((dir) => {
    assert.deepEqual(new LocalProvider(options(dir)).pool(), ['auto-1', 'auto-2', 'auto-3']);
  }));

  it('refuses to start when a host of the pool has no NATS identity, naming each', withDir((dir) => {
    const ids = path.join(dir, 'ids');
    mkdirSync(path.join(ids, 'seeds'), { recursive: true });
    writeFileSync(path.join(ids, 'seeds', 'agent-auto-2.nk'), 'SU…\n');
    assert.throws(() => new LocalProvider(options(dir, { identities: ids })), refusal('IdentityMissing', /no NATS identity for agent-auto-1, agent-auto-3 in .*npm run identities -- agent/));
  }));

  it('refuses to start without the agent built', withDir((dir) => {
    assert.throws(() => new LocalProvider(options(dir, { agentMain: path.join(dir, 'missing.js') })), refusal('AgentMissing', /no agent at .*missing\.js/));
  }));

  it('refuses a target outside 0..limit, and starts nothing for it', withDir(async (dir) => {
    const p = new LocalProvider(options(dir));
    await assert.rejects(p.setTarget(4), refusal('InvalidTarget', /target: must be an integer from 0 to 3 \(got 4\)/));
    await assert.rejects(p.setTarget(-1), refusal('InvalidTarget', /got -1/));
    assert.deepEqual(await p.describe(), { target: 0, instances: [] });
  }));

  it('lists an agent whose process is gone as terminated, not running', withDir(async (dir) => {
    const o = options(dir);
    mkdirSync(o.stateDir, { recursive: true });
    writeFileSync(path.join(o.stateDir, 'target'), '0\n');
    // A pid that is not this record's agent (this test's own process has no HOST_ID=auto-1).
    writeFileSync(path.join(o.stateDir, 'auto-1-x.json'), JSON.stringify({ instanceId: 'auto-1-x', host: 'auto-1', pid: process.pid, launchedAt: new Date().toISOString() }));
    const { instances } = await new LocalProvider(o).describe();
    assert.deepEqual(instances.map((i) => [i.instanceId, i.state]), [['auto-1-x', 'terminated']]);
  }));
});
