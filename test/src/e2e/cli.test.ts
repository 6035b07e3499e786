import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { Streams, type Role, type TaskView } from '@tangerine/contracts';
import { Cluster } from '../helpers/cluster.js';
import { ROOT } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const MAIN = path.join(ROOT, 'cli', 'dist', 'main.js');
/** Where `npm start` keeps the identities, as the READMEs write it: replaced by the cluster's own in their examples. */
const NPM_START_IDENTITIES = '/var/tmp/tangerine/nats-identities';

interface Ran { code: number | null; stdout: string; stderr: string }

/**
 * The `tangerine` CLI as a user types it: the built cli/dist/main.js as a child process (and as `tangerine` on the
 * PATH, for pipes through sh), with the submitter's identity of a whole Tangerine in its environment.
 */
describe('the tangerine CLI end to end', () => {
  const cluster = new Cluster('cli');
  let bin = '';
  let work = '';

  before(async () => {
    await cluster.start({ agents: [{ host: 'local', slots: 4, executors: 'process' }] });
    bin = mkdtempSync(path.join(os.tmpdir(), 'tangerine-cli-bin-'));
    work = mkdtempSync(path.join(os.tmpdir(), 'tangerine-cli-work-'));
    writeFileSync(path.join(bin, 'tangerine'), `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`);
    chmodSync(path.join(bin, 'tangerine'), 0o755);
  });
  after(async () => {
    rmSync(bin, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    await cluster.stop();
  });

  function env(role: Role = { kind: 'submitter' }): Record<string, string> {
    return {
      PATH: `${bin}:${path.dirname(process.execPath)}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      HOME: process.env['HOME'] ?? os.tmpdir(),
      NATS_URL: cluster.nats.url,
      ...cluster.identities!.env(role),
    };
  }

  /** Runs a command to its end (60 s at most), with `input` on stdin. */
  function spawnRun(file: string, args: string[], opts: { input?: string; role?: Role; cwd?: string; timeoutMs?: number } = {}): Promise<Ran> {
    return new Promise((resolve, reject) => {
      // Its own process group, so that a timeout ends a pipe's every process, not only the shell.
      const child = spawn(file, args, { cwd: opts.cwd ?? work, env: env(opts.role), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(opts.input ?? '');
    });
  }
  const tangerine = (args: string[], opts: Parameters<typeof spawnRun>[2] = {}) => spawnRun(process.execPath, [MAIN, ...args], opts);
  const sh = (script: string, opts: Parameters<typeof spawnRun>[2] = {}) => spawnRun('/bin/sh', ['-c', script], opts);
  const spec = (s: Record<string, unknown>): string => JSON.stringify({ executor: 'process', ...s });
  const get = (name: string): Promise<TaskView> => cluster.client.request<TaskView>('tasks.get', { name });

  it('submit --wait exits 0 on success and tells the end with -o json', async () => {
    const r = await tangerine(['submit', '-f', '-', '--wait', '-o', 'json'], { input: spec({ name: 'c-ok', command: ['echo', 'fine'] }) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { name: 'c-ok', state: 'success', exit_code: 0, reason: null });
    assert.match(r.stderr, /c-ok: success, exit 0/);
  });

  it('submit --wait exits with a failed task\'s own exit code', async () => {
    const r = await tangerine(['submit', '-f', '-', '--wait'], { input: spec({ name: 'c-seven', command: 'exit 7' }) });
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /c-seven: failed.*exit 7/);
  });

  it('submit exits 65 for a rejection, naming the field and the rule', async () => {
    const r = await tangerine(['submit', '-f', '-', '--wait'], { input: spec({ name: 'c-tiny', command: ['true'], memory: 1 }) });
    assert.equal(r.code, 65);
    assert.match(r.stderr, /c-tiny rejected: memory: .*\(invalid_spec\)/);
  });

  it('submit --wait exits 66 for a task blocked by a failed dependency', async () => {
    const dep = await tangerine(['submit', '-f', '-', '--wait'], { input: spec({ name: 'c-dep', command: 'exit 1' }) });
    assert.equal(dep.code, 1, dep.stderr);
    const r = await tangerine(['submit', '-f', '-', '--wait'], { input: spec({ name: 'c-child', command: ['true'], dependencies: ['c-dep'] }) });
    assert.equal(r.code, 66, r.stderr);
    assert.match(r.stderr, /c-child: blocked/);
  });

  it('submit --wait exits 67 when the task is cancelled meanwhile', async () => {
    const waiting = tangerine(['submit', '-f', '-', '--wait'], { input: spec({ name: 'c-parked', command: ['true'], constraints: { zone: 'nowhere' } }) });
    await cluster.client.waitForState('c-parked', 'ready', 20_000);
    const rm = await tangerine(['rm', 'c-parked']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'c-parked cancelled\n');
    const r = await waiting;
    assert.equal(r.code, 67, r.stderr);
  });

  it('submit --wait of many documents follows each, and exits with the first failure in the order of the file', async () => {
    const file = path.join(work, 'many.yaml');
    writeFileSync(file, [
      'name: c-many-ok', 'executor: process', 'command: ["true"]',
      '---', 'name: c-many-bad', 'executor: process', 'command: exit 4',
    ].join('\n'));
    const r = await tangerine(['submit', '-f', file, '--wait', '-o', 'json']);
    assert.equal(r.code, 4, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { name: string; exit_code: number }[]).map((t) => [t.name, t.exit_code]), [['c-many-ok', 0], ['c-many-bad', 4]]);
  });

  it('apply -f of a YAML twice: the second run sends nothing and says unchanged; a finished task changed is submitted again', async () => {
    const file = path.join(work, 'apply.yaml');
    const yaml = (last: string) => [
      'name: c-ap-extract', 'executor: process', 'command: [sh, -c, "echo extract"]', 'env: {STAGE: "1"}',
      '---', '- {name: c-ap-a, executor: process, command: ["true"], dependencies: [c-ap-extract]}',
      '- {kind: task, name: c-ap-b, executor: process, command: ["true"], dependencies: [c-ap-extract], environment: [[K, "v"]]}',
      '---', 'kind: task', 'name: c-ap-load', 'executor: process', `command: ${last}`, 'dependencies: [c-ap-a, c-ap-b]',
    ].join('\n');
    writeFileSync(file, yaml('["true"]'));
    const first = await tangerine(['apply', '-f', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, ['c-ap-extract created', 'c-ap-a created', 'c-ap-b created', 'c-ap-load created', ''].join('\n'));
    await cluster.client.waitForState('c-ap-load', 'success', 30_000);

    const jsm = await jetstreamManager(cluster.client.nc);
    const commands = async () => (await jsm.streams.info(Streams.commands.name)).state.last_seq;
    const before = await commands();
    const views = await Promise.all(['c-ap-extract', 'c-ap-a', 'c-ap-b', 'c-ap-load'].map(get));
    const second = await tangerine(['apply', '-f', file, '-o', 'json']);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual((JSON.parse(second.stdout) as { name: string; result: string }[]).map((x) => `${x.name} ${x.result}`),
      ['c-ap-extract unchanged', 'c-ap-a unchanged', 'c-ap-b unchanged', 'c-ap-load unchanged']);
    assert.equal(await commands(), before, 'the second apply sent no command');
    assert.deepEqual(await Promise.all(['c-ap-extract', 'c-ap-a', 'c-ap-b', 'c-ap-load'].map(async (n) => (await get(n)).updated_at)), views.map((v) => v.updated_at));

    writeFileSync(file, yaml('[sh, -c, "echo changed"]'));
    const third = await tangerine(['apply', '-f', file]);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(third.stdout, ['c-ap-extract unchanged', 'c-ap-a unchanged', 'c-ap-b unchanged', 'c-ap-load submitted', ''].join('\n'));
    assert.equal(await commands(), before + 1);
  });

  it('apply -f of a YAML with templates twice: one version each, tasks run merged, the second run sends nothing', async () => {
    const file = path.join(work, 'templates.yaml');
    writeFileSync(file, [
      'kind: template', 'name: c-tp-echo', 'description: prints its GREETING', 'spec:', '  executor: process',
      '  command: [sh, -c, \'echo "$GREETING from $WHO"\']', '  env: {GREETING: hello, WHO: the template}',
      '---', 'name: c-tp-one', 'template: c-tp-echo', 'env: {WHO: one}',
      '---', 'kind: task', 'name: c-tp-two', 'template: c-tp-echo:1', 'env: {GREETING: hi}',
    ].join('\n'));
    const first = await tangerine(['apply', '-f', file]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, ['template c-tp-echo:1 created', 'c-tp-one created', 'c-tp-two created', ''].join('\n'));
    const one = await cluster.client.waitForState('c-tp-one', 'success', 30_000);
    const two = await cluster.client.waitForState('c-tp-two', 'success', 30_000);
    assert.deepEqual([one.template, one.template_version, two.template, two.template_version], ['c-tp-echo', 1, 'c-tp-echo', 1]);
    assert.equal((await tangerine(['logs', 'c-tp-one'])).stdout.trim(), 'hello from one');
    assert.equal((await tangerine(['logs', 'c-tp-two'])).stdout.trim(), 'hi from the template');

    const jsm = await jetstreamManager(cluster.client.nc);
    const before = (await jsm.streams.info(Streams.commands.name)).state.last_seq;
    const second = await tangerine(['apply', '-f', file]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, ['template c-tp-echo:1 unchanged', 'c-tp-one unchanged', 'c-tp-two unchanged', ''].join('\n'));
    // The template's put is sent again (intake answers whether it is new), and no task is.
    assert.equal((await jsm.streams.info(Streams.commands.name)).state.last_seq, before + 1);
    assert.equal((await cluster.client.client.getTemplate('c-tp-echo')).version, 1);
  });

  it('get of a diamond shows its dependencies as a tree, each with its state', async () => {
    const file = path.join(work, 'diamond.json');
    writeFileSync(file, JSON.stringify([
      { name: 'c-d-load', executor: 'process', command: ['true'], dependencies: ['c-d-left', 'c-d-right'] },
      { name: 'c-d-left', executor: 'process', command: ['true'], dependencies: ['c-d-root'] },
      { name: 'c-d-right', executor: 'process', command: ['true'], dependencies: ['c-d-root'] },
      { name: 'c-d-root', executor: 'process', command: ['echo', 'root'] },
    ]));
    const r = await tangerine(['submit', '-f', file, '--wait']);
    assert.equal(r.code, 0, r.stderr);
    const shown = await tangerine(['get', 'c-d-load']);
    assert.equal(shown.code, 0, shown.stderr);
    const tree = shown.stdout.slice(shown.stdout.indexOf('\ndependencies:\n') + 1, shown.stdout.indexOf('\nruns (') + 1);
    assert.equal(tree, [
      'dependencies:', '  c-d-load success', '  ├── c-d-left success', '  │   └── c-d-root success', '  └── c-d-right success', '      └── c-d-root success', '',
    ].join('\n'));
    assert.match(shown.stdout, /^state: +success$/m);
    assert.match(shown.stdout, /^next_run_at: +-$/m);
    assert.match(shown.stdout, /^runs \(1 of 1\):\n {2}#1 local exit 0/m);
    const json = await tangerine(['get', 'c-d-load', '-o', 'json']);
    assert.deepEqual((JSON.parse(json.stdout) as TaskView).spec.dependencies, ['c-d-left', 'c-d-right']);
  });

  it('ps -q --state ready | xargs tangerine rm cancels what waits for a host; unknown names fail the exit code', async () => {
    for (const n of ['c-rm-1', 'c-rm-2', 'c-rm-3']) {
      const r = await tangerine(['submit', '-f', '-'], { input: spec({ name: n, command: ['true'], constraints: { zone: 'nowhere' } }) });
      assert.equal(r.code, 0, r.stderr);
    }
    const listed = await tangerine(['ps', '-q', '--state', 'ready']);
    assert.equal(listed.stdout, 'c-rm-1\nc-rm-2\nc-rm-3\n');
    const table = await tangerine(['ps', '--prefix', 'c-rm-']);
    assert.match(table.stdout, /^NAME +STATE +HOST +ATTEMPT +FAILURES +AGE\nc-rm-1 +ready +- +0 +0 +\d+s\n/);
    const r = await sh('tangerine ps -q --state ready | xargs tangerine rm');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['c-rm-1 cancelled', 'c-rm-2 cancelled', 'c-rm-3 cancelled']);
    for (const n of ['c-rm-1', 'c-rm-2', 'c-rm-3']) assert.equal((await get(n)).state, 'cancelled');
    const none = await sh('tangerine ps -q --state ready | xargs tangerine rm');
    assert.equal(none.code, 0, `nothing to cancel is no error: ${none.stderr}`);

    const bad = await tangerine(['rm', 'c-rm-1', 'c-ok', 'c-no-such-task']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, 'c-rm-1 cancelled (already)\n');
    assert.match(bad.stderr, /c-ok: name: task "c-ok" is already success \(not_cancellable\)/);
    assert.match(bad.stderr, /c-no-such-task: .*\(not_found\)/);
  });

  it('logs -f follows a running task, prints each line once, and exits with its result', async () => {
    const r = await tangerine(['submit', '-f', '-'], {
      input: spec({ name: 'c-loop', command: 'for i in 1 2 3 4; do echo tick $i; sleep 0.5; done; exit 5' }),
    });
    assert.equal(r.code, 0, r.stderr);
    await cluster.client.waitForState('c-loop', 'running', 20_000);
    const followed = await tangerine(['logs', '-f', 'c-loop']);
    assert.equal(followed.code, 5, followed.stderr);
    assert.equal(followed.stdout, 'tick 1\ntick 2\ntick 3\ntick 4\n');
    const again = await tangerine(['logs', 'c-loop', '--attempt', '1']);
    assert.equal(again.stdout, followed.stdout);
  });

  it('ps --watch draws the list again when a task changes', async () => {
    const child = spawn(process.execPath, [MAIN, 'ps', '--watch', '--prefix', 'c-w-'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    child.stdout.on('data', (d: Buffer) => { seen += d.toString(); });
    const closed = new Promise((resolve) => child.on('close', resolve));
    try {
      await waitFor('the first drawing', () => (seen.includes('no tasks') ? true : undefined), 20_000);
      const r = await tangerine(['submit', '-f', '-', '--wait'], { input: spec({ name: 'c-w-new', command: ['true'] }) });
      assert.equal(r.code, 0, r.stderr);
      await waitFor('a drawing with the new task done', () => (/c-w-new +success/.test(seen) ? true : undefined), 20_000);
    } finally {
      child.kill('SIGINT');
      await closed;
    }
  });

  it('hosts lists the agent; drain and undrain need the operator', async (t) => {
    // Whatever this test's assertions say, the host takes runs again for the tests after it.
    t.after(async () => { await cluster.client.request('hosts.undrain', { host: 'local' }); });
    const list = await tangerine(['hosts']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^HOST +STATE +SLOTS +RUNNING +EXECUTORS +LABELS +LAST SEEN\nlocal +up +4 +\d+ +process +- +\d+s ago\n$/);
    const drained = await tangerine(['hosts', 'drain', 'local', '-o', 'json'], { role: { kind: 'operator' } });
    assert.equal(drained.code, 0, drained.stderr);
    assert.deepEqual(JSON.parse(drained.stdout), { host: 'local', state: 'draining' });
    const undrained = await tangerine(['hosts', 'undrain', 'local'], { role: { kind: 'operator' } });
    assert.equal(undrained.stdout, 'local up\n', undrained.stderr);
  });

  it('events prints the stream as lines, or as JSON with its sequence', async () => {
    const lines = await tangerine(['events', '--name', 'c-ok', '--from', 'first', '-n', '2']);
    assert.equal(lines.code, 0, lines.stderr);
    assert.match(lines.stdout, /^\d+ \S+ task c-ok - -> (ready|waiting)\n\d+ \S+ task c-ok \S+ -> \S+/);
    const json = await tangerine(['events', '--kind', 'rejection', '--from', 'first', '-n', '1', '-o', 'json']);
    const e = JSON.parse(json.stdout) as { seq: number; kind: string; event: { name: string; field: string } };
    assert.equal(e.kind, 'rejection');
    assert.deepEqual([e.event.name, e.event.field], ['c-tiny', 'memory']);
  });

  it('refuses bad usage with exit 2, naming the option or the document', async () => {
    const state = await tangerine(['ps', '--state', 'nope']);
    assert.equal(state.code, 2);
    assert.match(state.stderr, /--state: must be among waiting, .* \(got "nope"\)/);
    const doc = await tangerine(['submit', '-f', '-'], { input: 'name: a\n---\nkind: job\n' });
    assert.equal(doc.code, 2);
    assert.match(doc.stderr, /stdin, document 2: kind: must be "task" or "template" \(got "job"\)/);
    const unreachable = await tangerine(['--server', 'nats://127.0.0.1:1', 'ps']);
    assert.equal(unreachable.code, 69);
  });

  /** Every `sh` block of cli/README.md, in order, then the root README's "Submit with the CLI". */
  describe('the READMEs\' examples', () => {
    const blocks = (file: string, from = '', to = ''): string[] => {
      let text = readFileSync(path.join(ROOT, file), 'utf8');
      if (from !== '') text = text.slice(text.indexOf(from), to !== '' ? text.indexOf(to, text.indexOf(from) + from.length) : undefined);
      return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    };
    const runBlock = async (script: string, cwd: string) => {
      // The identities under `npm start` are in /var/tmp/tangerine; here they are the cluster's.
      const r = await sh(script.split(NPM_START_IDENTITIES).join(cluster.identities!.dir), { cwd, timeoutMs: 90_000 });
      assert.equal(r.code, 0, `${script}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
      for (const m of script.matchAll(/^# exit code (\d+)$/gm)) assert.match(r.stdout, new RegExp(`^exit code ${m[1]}$`, 'm'), script);
      return r;
    };

    const cliBlocks = blocks('cli/README.md');
    it('cli/README.md has examples of every command', () => {
      const all = cliBlocks.join('\n');
      for (const c of ['submit', 'apply', 'ps', 'ls', 'get', 'logs', 'rm', 'hosts', 'events']) assert.match(all, new RegExp(`tangerine (--\\S+ \\S+ )?${c}\\b`), c);
    });
    it('cli/README.md: every example runs as written', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-cli-readme-'));
      try {
        const outputs: string[] = [];
        for (const b of cliBlocks) outputs.push((await runBlock(b, dir)).stdout);
        const apply = outputs[cliBlocks.findIndex((b) => b.includes('apply -f pipeline.yaml'))]!;
        assert.equal(apply, [...['extract', 'transform-a', 'transform-b', 'load'].map((n) => `${n} created`), ...['extract', 'transform-a', 'transform-b', 'load'].map((n) => `${n} unchanged`), ''].join('\n'));
        assert.match(outputs[cliBlocks.findIndex((b) => b.includes('logs -f counter'))]!, /tick 1\ntick 2\ntick 3\n$/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    it('the diamond of cli/README.md shows the tree it documents', async () => {
      await cluster.client.waitForState('load', 'success', 30_000);
      const shown = await tangerine(['get', 'load']);
      const documented = /prints, once the diamond has run:\n\n```text\n([\s\S]*?)```/.exec(readFileSync(path.join(ROOT, 'cli/README.md'), 'utf8'))![1]!;
      assert.ok(shown.stdout.includes(documented), `${shown.stdout}\ndoes not hold\n${documented}`);
    });
    it('README.md: "Submit with the CLI" runs as written', async () => {
      const root = blocks('README.md', '## Submit with the CLI', '\n## ');
      assert.ok(root.length >= 1);
      for (const b of root) {
        const r = await runBlock(b, ROOT);
        assert.match(r.stderr, /whoami-cli: success, exit 0/);
      }
    });
  });
});
