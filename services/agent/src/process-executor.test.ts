import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseTaskSpec } from '@tangerine/contracts';
import { createLogger } from '@tangerine/runtime';
import { Launcher } from './launcher.js';
import { StartedBeforeError } from './executor.js';
import { ProcessExecutor, runDirectory } from './process-executor.js';
import { resolveUser } from './sandbox.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const dispatch = (name: string, command: string[], env: Record<string, string> = {}) =>
  ({ name, attempt: 1, host: 'h', spec: parseTaskSpec({ name, executor: 'process', command, env }) });

const launcher = await Launcher.start(log);
const runDir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-process-test-'));
after(() => {
  launcher?.close();
  rmSync(runDir, { recursive: true, force: true });
});

// Both ways of starting a process must behave the same: through the launcher, and Node's own spawn without it.
for (const [label, make] of [
  ['through the launcher', () => new ProcessExecutor(500, launcher, undefined, runDir)],
  ['with Node spawn', () => new ProcessExecutor(500, null, undefined, runDir)],
] as const) {
  describe(`process executor ${label}`, () => {
    it('has a launcher to test with', () => assert.ok(launcher, 'python3 is on this machine'));

    it('reports the exit code and both output streams, with the task env and none of the agent\'s', async () => {
      process.env['AGENT_SECRET'] = 'do-not-leak';
      const run = await make().start(dispatch('p', ['sh', '-c', 'echo "out $GREETING"; echo err >&2; echo "[$AGENT_SECRET]"; exit 4'], { GREETING: 'hi' }));
      const end = await run.done;
      assert.equal(end.exit_code, 4);
      assert.equal(end.reason, null);
      assert.match(end.output, /out hi/);
      assert.match(end.output, /err/);
      assert.match(end.output, /\[\]/);
      assert.match(run.runId, /^pid:\d+$/);
    });

    it('follows the output while the run runs: the first line comes before the run ends', async () => {
      const run = await make().start(dispatch('live', ['sh', '-c', 'echo first; sleep 30']));
      let text = '';
      let ended = false;
      void run.done.then(() => { ended = true; });
      const stop = run.follow!({ write: (b) => { text += b.toString(); }, skip: () => undefined });
      const deadline = Date.now() + 10_000;
      while (!text.includes('first') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(text, 'first\n');
      assert.equal(ended, false, 'the line came while the run was running');
      await run.stop('done');
      stop();
      assert.equal(text, 'first\n');
    });

    it('keeps only the last 64 KiB of output', async () => {
      const run = await make().start(dispatch('big', ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo "line $i 0123456789012345678901234567890123456789"; i=$((i+1)); done']));
      const end = await run.done;
      assert.equal(end.exit_code, 0);
      assert.equal(Buffer.byteLength(end.output), 64 * 1024);
      assert.match(end.output, /line 2999 /);
      assert.doesNotMatch(end.output, /line 0 /);
    });

    it('stops a run and its children with SIGTERM', async () => {
      const run = await make().start(dispatch('stop-me', ['sh', '-c', 'sleep 30 & wait']));
      const t0 = Date.now();
      await run.stop('cancelled');
      const end = await run.done;
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(end.exit_code, 143);
      assert.match(end.reason ?? '', /signal|SIGTERM/);
    });

    it('kills at once when asked, without the grace a stop gives', async () => {
      // Ignores SIGTERM: only a kill ends it before the grace (10 s here) is over.
      const run = await new ProcessExecutor(10000, label === 'through the launcher' ? launcher : null, undefined, runDir)
        .start(dispatch('kill-me', ['sh', '-c', 'trap "" TERM; sleep 30 & wait; sleep 30']));
      await new Promise((r) => setTimeout(r, 200));
      const t0 = Date.now();
      await run.stop('timeout', { kill: true });
      const end = await run.done;
      assert.ok(Date.now() - t0 < 3000, `ended after ${Date.now() - t0} ms`);
      assert.equal(end.exit_code, 137);
    });

    it('fails to start a command that does not exist, saying which', async () => {
      await assert.rejects(make().start(dispatch('nope', ['/no/such/binary'])), /spawn \/no\/such\/binary/);
    });
  });
}

describe('process executor: a launcher that dies', () => {
  it('ends its run lost, not as a failure of the run, and spawns from Node after', async () => {
    const own = (await Launcher.start(log))!;
    const executor = new ProcessExecutor(500, own, undefined, runDir);
    const run = await executor.start(dispatch('launcher-dies', ['sleep', '30']));
    const pid = Number(run.runId.slice(4));
    after(() => {
      try {
        process.kill(-pid, 'SIGKILL'); // had the agent's side not killed it, it would outlive this test
      } catch {
        // gone, as it should be
      }
    });
    process.kill(own.pid!, 'SIGKILL');
    const end = await run.done;
    assert.equal(end.lost, 'run_lost: the agent\'s process launcher died, and the run was killed with it');
    // Gone, or a zombie left to init (which reads its status when it gets to it).
    const alive = (): boolean => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat[stat.lastIndexOf(')') + 2] !== 'Z';
      } catch {
        return false;
      }
    };
    for (const deadline = Date.now() + 3000; alive() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    assert.equal(alive(), false, 'the run was killed');
    const next = await executor.start(dispatch('after-launcher', ['sh', '-c', 'echo from node']));
    assert.equal((await next.done).exit_code, 0);
    assert.match((await next.done).output, /from node/);
    await run.cleanup?.();
  });
});

describe('process executor: a run directory kept across agents', () => {
  it('refuses a run an earlier agent of the host started, until its exit is reported', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-run-dir-test-'));
    try {
      const run = dispatch('once', ['sh', '-c', 'echo hello']);
      const first = await new ProcessExecutor(500, launcher, undefined, dir).start(run);
      assert.equal((await first.done).exit_code, 0);
      // The next agent of the host (a new executor on the same directory) gets the same dispatch again.
      await assert.rejects(new ProcessExecutor(500, launcher, undefined, dir).start(run), (err: Error) => {
        assert.ok(err instanceof StartedBeforeError);
        assert.equal(err.message, 'once:1 was started by an earlier agent of this host');
        return true;
      });
      await first.cleanup?.();
      assert.deepEqual(readdirSync(dir), [], 'the output file goes once the exit is reported');
      const again = await new ProcessExecutor(500, launcher, undefined, dir).start(run);
      assert.equal((await again.done).exit_code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a host\'s directory across agents of one dispatch stream, and removes files a day old', () => {
    const host = `run-dir-test-${process.pid}`;
    const dir = runDirectory(host, '2026-11-22T10:00:00.123456789Z');
    let next = dir;
    try {
      assert.match(path.basename(dir), new RegExp(`^tangerine-runs-${host}-20261122T100000123456789Z$`));
      writeFileSync(path.join(dir, 'old-1.out'), '');
      writeFileSync(path.join(dir, 'new-1.out'), '');
      const dayAgo = new Date(Date.now() - 86_400_000 - 1000);
      utimesSync(path.join(dir, 'old-1.out'), dayAgo, dayAgo);
      assert.equal(runDirectory(host, '2026-11-22T10:00:00.123456789Z'), dir);
      assert.deepEqual(readdirSync(dir), ['new-1.out']);
      // A new stream (a new cluster, or NATS's store wiped): its dispatches never name the old runs.
      next = runDirectory(host, '2026-11-23T08:00:00Z');
      assert.notEqual(next, dir);
      assert.equal(existsSync(dir), false, 'the old stream\'s directory is gone');
      assert.deepEqual(readdirSync(next), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(next, { recursive: true, force: true });
    }
  });
});

const nobody = resolveUser('nobody', readFileSync('/etc/passwd', 'utf8'), readFileSync('/etc/group', 'utf8'));
const sandboxed = await Launcher.start(log, undefined, { user: nobody, cgroups: null });
after(() => sandboxed?.close());

describe('process executor: the sandbox of a process run', () => {
  for (const [label, make] of [
    ['through the launcher', () => new ProcessExecutor(500, sandboxed, undefined, runDir, { user: nobody, limitsRefused: 'no cgroups here' })],
    ['with Node spawn', () => new ProcessExecutor(500, null, undefined, runDir, { user: nobody, limitsRefused: 'no cgroups here' })],
  ] as const) {
    it(`runs as the unprivileged user ${label}, in the temporary directory, its output kept`, async () => {
      const run = await make().start(dispatch('as-nobody', ['sh', '-c', 'id -u; id -g; echo "$HOME"; pwd; echo more >&2']));
      const end = await run.done;
      assert.equal(end.exit_code, 0, end.output);
      assert.deepEqual(end.output.trim().split('\n'), [String(nobody.uid), String(nobody.gid), nobody.home, os.tmpdir(), 'more']);
    });

    it(`cannot become root again ${label}`, async () => {
      const run = await make().start(dispatch('no-root', ['sh', '-c', 'grep -E "^(Uid|Gid|CapEff):" /proc/self/status']));
      const end = await run.done;
      assert.match(end.output, new RegExp(`^Uid:\\s+${nobody.uid}\\s+${nobody.uid}\\s+${nobody.uid}\\s+${nobody.uid}$`, 'm'), 'real, effective, saved and fs uid');
      assert.match(end.output, new RegExp(`^Gid:\\s+${nobody.gid}\\s+${nobody.gid}\\s+${nobody.gid}\\s+${nobody.gid}$`, 'm'));
      assert.match(end.output, /^CapEff:\s+0000000000000000$/m);
    });

    it(`refuses a run asking for cpu or memory it cannot enforce ${label}, naming the field`, async () => {
      const spec = (extra: Record<string, unknown>) => ({ name: 'limited', attempt: 1, host: 'h', spec: parseTaskSpec({ name: 'limited', executor: 'process', command: ['true'], ...extra }) });
      await assert.rejects(make().start(spec({ memory: 64 })), /^ExecutorError: memory: the process executor of this host cannot enforce it \(/);
      await assert.rejects(make().start(spec({ cpu: 0.5, memory: 64 })), /^ExecutorError: cpu, memory: the process executor of this host cannot enforce it \(/);
    });
  }

  it('the launcher keeps running as root between runs, so a run cannot signal it', async () => {
    const pid = sandboxed!.pid!;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^Uid:\s+0\s+0\s+0\s+0$/m);
    const run = await new ProcessExecutor(500, sandboxed, undefined, runDir, { user: nobody, limitsRefused: null })
      // After a moment: right at its start, before the launcher has taken its own uid back, a run may still reach it.
      .start(dispatch('signal-launcher', ['sh', '-c', `sleep 0.3; kill -0 ${pid} && echo reached || echo refused`]));
    assert.match((await run.done).output, /refused/);
    assert.equal(sandboxed!.running, true);
  });
});
