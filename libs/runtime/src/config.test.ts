import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Conflicts, Settings, parseLabels, runtimeConfig } from './config.js';
import { defineConfig } from './settings.js';

// Each service's settings are tested with all of them in services/combined/src/config.test.ts.
describe('the shared settings', () => {
  it('the runner reads logs, the health port and the stop grace, with their defaults', () => {
    assert.deepEqual(runtimeConfig.compile({}), { logLevel: 'info', logPretty: false, healthPort: null, stopGraceMs: 10000 });
    assert.deepEqual(runtimeConfig.compile({ LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty', HEALTH_PORT: '0', STOP_GRACE: '1' }),
      { logLevel: 'debug', logPretty: true, healthPort: 0, stopGraceMs: 1000 });
  });

  const conflicts: [Record<string, string>, boolean][] = [
    [{}, true],
    [{ HOST_TIMEOUT: '3', HEARTBEAT_INTERVAL: '0.5' }, true],
    [{ HOST_TIMEOUT: '2' }, false],
    [{ HOST_TIMEOUT: '1.999' }, false],
    [{ HEARTBEAT_INTERVAL: '10' }, false],
  ];
  for (const [env, ok] of conflicts) {
    it(`HOST_TIMEOUT against HEARTBEAT_INTERVAL: ${JSON.stringify(env)} ${ok ? 'agrees' : 'conflicts'}`, () => {
      const spec = defineConfig({ t: Settings.hostTimeoutMs, h: Settings.heartbeatMs }, Conflicts);
      if (ok) spec.compile(env);
      else assert.throws(() => spec.compile(env), /^StartupError: HOST_TIMEOUT, HEARTBEAT_INTERVAL: HOST_TIMEOUT \(.+ s\) must be longer than HEARTBEAT_INTERVAL/);
    });
  }
});

describe('parseLabels', () => {
  it('reads HOST_LABELS text', () => assert.deepEqual(parseLabels('zone=a,gpu'), { zone: 'a', gpu: 'true' }));
  it('names HOST_LABELS when a label is bad', () => assert.throws(() => parseLabels('-x'), /^StartupError: HOST_LABELS: label "-x"/));
});
