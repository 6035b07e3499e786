import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

const helpers = path.resolve(new URL('.', import.meta.url).pathname, '../helpers');

/** Runs the fixture file as scripts/run-tests.mjs runs a test file, with the leak it is told to make. */
async function runFixture(leak: string): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  // The check runs in the file's own process, as node --test starts it; NODE_TEST_CONTEXT is the runner's own mark.
  const env: NodeJS.ProcessEnv = { ...process.env, LEAK: leak };
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn(process.execPath, [
    '--test', '--test-reporter=spec', '--import', pathToFileURL(path.join(helpers, 'leak-check.js')).href, path.join(helpers, 'leak-fixture.js'),
  ], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, out, ms: Date.now() - started };
}

/** The leaked-handle check fails a file for what it leaves behind, names it, and does not hang on it. */
describe('leaked-handle check', () => {
  it('passes a file that leaves nothing behind', async () => {
    const r = await runFixture('none');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /pass 1/);
  });

  const cases: [string, RegExp][] = [
    ['server', /server listening on \{"address":"127\.0\.0\.1"/],
    ['socket', /socket to 127\.0\.0\.1:\d+/],
    ['timer', /1 timer\(s\): Timeout/],
    ['child', /child process \d+ \(sleep 60\)/],
    ['detached', /process \d+ \(sleep 60\)/],
    ['container', /container [0-9a-f]{12} of host leak-fixture-\d+ \(task leaked\)/],
  ];
  for (const [leak, named] of cases) {
    it(`fails a file that leaves a ${leak} behind, naming it`, async () => {
      const r = await runFixture(leak);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /leaked-handle check: .*leak-fixture\.js left these behind/);
      assert.match(r.out, named);
      // 3 s of grace for handles that are closing, then it releases them: the file ends instead of hanging.
      assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    });
  }
});
