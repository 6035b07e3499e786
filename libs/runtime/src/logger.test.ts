import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { REDACTED_KEYS, createLogger } from './logger.js';

/** A logger whose JSON lines are kept here. */
function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
  return { lines, log: createLogger('test', { level: 'info', pretty: false, destination }) };
}

describe('log lines redact secrets', () => {
  const SECRET = 'hunter2-secret';
  for (const key of REDACTED_KEYS) {
    it(`${key}, at the top and one level down`, () => {
      const { lines, log } = capture();
      log.info({ [key]: SECRET, config: { [key]: SECRET } }, 'a line');
      assert.equal(lines.length, 1);
      assert.ok(!lines[0]!.includes(SECRET), lines[0]);
      const line = JSON.parse(lines[0]!) as Record<string, unknown> & { config: Record<string, unknown> };
      assert.equal(line[key], '[redacted]');
      assert.equal(line.config[key], '[redacted]');
    });
  }

  it('keeps what is not a secret', () => {
    const { lines, log } = capture();
    log.info({ server: 'nats://127.0.0.1:4222', identity: 'user "app"' }, 'connected');
    assert.match(lines[0]!, /"identity":"user \\"app\\""/);
  });
});
