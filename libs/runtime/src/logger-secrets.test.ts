import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

const SECRET = 'v4lue-never-logged';

/** What a process logs with createLogger, each line parsed: pino writes to the process's stdout. */
function logged(objects: unknown[]): Record<string, unknown>[] {
  const script = `
    const { createLogger } = await import(${JSON.stringify(new URL('./logger.js', import.meta.url).href)});
    const log = createLogger('test', { level: 'info', pretty: false });
    for (const o of ${JSON.stringify(objects)}) log.info(o, 'line');
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('createLogger redacts env and secret values', () => {
  it('at every place a spec or a dispatch is logged from', () => {
    const spec = { name: 'a', env: { MODE: SECRET }, secret_env: { DB_PASSWORD: SECRET } };
    const lines = logged([
      { secret_env: { K: SECRET } }, { env: { K: SECRET } }, { spec }, { dispatch: { name: 'a', spec } }, { run: { secret_env: { K: SECRET } } },
    ]);
    assert.equal(lines.length, 5);
    for (const line of lines) assert.ok(!JSON.stringify(line).includes(SECRET), JSON.stringify(line));
    assert.deepEqual(lines[2]!['spec'], { name: 'a', env: '[redacted]', secret_env: '[redacted]' }, 'the rest of the spec is kept');
  });
});
