import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, type ServiceName } from '../helpers/processes.js';

/** Runs a service's real main with `env` and gives its exit code and stderr (it must end on its own). */
function run(service: ServiceName, env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    // Nothing listens on port 1: a process that got past its config would fail to connect, not hang on a real NATS.
    const child = spawn(process.execPath, [path.join(ROOT, 'services', service, 'dist/main.js')], {
      env: { PATH: process.env['PATH'] ?? '', NATS_URL: 'nats://127.0.0.1:1', LOG_LEVEL: 'fatal', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${service} did not exit within 20 s`)); }, 20_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stderr, stdout }); });
  });
}

/** A bad or conflicting setting stops the process before it connects, naming the variable(s) and the rule. */
describe('a process started with a bad setting exits with the reason', () => {
  const cases: [ServiceName, Record<string, string>, string[]][] = [
    // Was read as 0 before settings were parsed.
    ['agent', { START_REPORT_DELAY: 'abc' }, ['START_REPORT_DELAY: must be a positive number of seconds, or 0 for off (got "abc")']],
    ['placer', { HOST_TIMEOUT: '1', HEARTBEAT_INTERVAL: '2' },
      ['HOST_TIMEOUT, HEARTBEAT_INTERVAL: HOST_TIMEOUT (1 s) must be longer than HEARTBEAT_INTERVAL (2 s)']],
    ['host-health', { HOST_TIMEOUT: '2' }, ['HOST_TIMEOUT, HEARTBEAT_INTERVAL: HOST_TIMEOUT (2 s) must be longer than HEARTBEAT_INTERVAL (2 s)']],
    ['intake', { BATCH_SIZE: 'many', TZ: 'Mars/Olympus' },
      ['BATCH_SIZE: must be an integer from 1 to 10000 (got "many")', 'TZ: must be an IANA time zone name']],
    // The combined process compiles every service's config: an agent's setting stops it too, and the runner's own.
    ['combined', { AGENT_EXECUTORS: 'wasm', HEALTH_PORT: 'http' },
      ['AGENT_EXECUTORS: each item must be one of docker, process (got "wasm")', 'HEALTH_PORT: must be an integer from 0 to 65535 (got "http")']],
    // Two ways to authenticate, and a secret given twice: both named, the secret never quoted.
    ['agent', { NATS_TOKEN: 'tok-3n', NATS_USER: 'app', NATS_PASSWORD: 'pw-3n' },
      ['NATS_USER, NATS_TOKEN: NATS_USER and NATS_TOKEN are two ways to authenticate to NATS: give one']],
    ['intake', { PGPASSWORD: 'pw-3n', PGPASSWORD_FILE: '/run/secrets/pg', PGSSLMODE: 'prefer' },
      ['PGPASSWORD, PGPASSWORD_FILE: give the secret once: PGPASSWORD or PGPASSWORD_FILE, not both', 'PGSSLMODE: must be one of disable, require, verify-ca, verify-full']],
  ];
  for (const [service, env, messages] of cases) {
    it(`${service} with ${JSON.stringify(env)}`, async () => {
      const { code, stderr, stdout } = await run(service, env);
      assert.equal(code, 2, `exit code (stderr: ${stderr})`);
      for (const m of messages) assert.ok(stderr.includes(m), `stderr lacks "${m}": ${stderr}`);
      assert.equal(stdout, '', 'nothing logged: it stopped before it started');
      assert.ok(!stderr.includes('-3n'), `no secret value in stderr: ${stderr}`);
    });
  }
});
