import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger, type Logger } from '@tangerine/runtime';
import { LAUNCHER_SCRIPT, Launcher, MAX_REQUEST_BYTES, readAnswer } from './launcher.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-launcher-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
const out = (name: string) => path.join(dir, `${name}.out`);

/** A real logger whose warnings are also kept, to see what the agent would log. */
function recordingLogger(): { log: Logger; warnings: { obj: unknown; msg: unknown }[] } {
  const log = createLogger('test', { level: 'silent', pretty: false }).child({});
  const warnings: { obj: unknown; msg: unknown }[] = [];
  log.warn = ((obj: unknown, msg?: unknown) => { warnings.push({ obj, msg }); }) as Logger['warn'];
  return { log, warnings };
}

/** The launcher fed raw bytes on stdin: every answer line and everything on stderr, until `done` says so. */
async function feed(input: Buffer, done: (answers: Record<string, unknown>[]) => boolean, timeoutMs = 10000) {
  const child = spawn('python3', [LAUNCHER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  const answers: Record<string, unknown>[] = [];
  let stdout = '';
  let stderr = '';
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no end within ${timeoutMs} ms; answers: ${JSON.stringify(answers)}; stderr: ${stderr}`)), timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const lines = stdout.split('\n');
      stdout = lines.pop()!;
      for (const l of lines) answers.push(JSON.parse(l) as Record<string, unknown>);
      if (done(answers)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  child.stdin.write(input);
  await finished;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  assert.equal(child.exitCode, null, 'the launcher is still running after every bad line');
  child.stdin.end();
  assert.equal(await exited, 0, 'and ends cleanly when its stdin closes');
  return { answers, stderr };
}

describe('launcher.py: bad request lines', () => {
  it('answers each bad line with an error for its id, or says it once on stderr, and still spawns', async () => {
    const spawnLine = (id: string, fields: Record<string, unknown>) => JSON.stringify({ op: 'spawn', id, argv: ['true'], env, out: out(id), ...fields });
    const refused: [string, string, RegExp][] = [
      // [id, line, the error it must get]
      ['no-op', '{"id": "no-op"}', /^op: must be "spawn" or "kill" \(got null\)$/],
      ['unknown-op', '{"op": "explode", "id": "unknown-op"}', /^op: must be "spawn" or "kill" \(got "explode"\)$/],
      ['no-argv', '{"op": "spawn", "id": "no-argv", "env": {}, "out": "/tmp/x"}', /^argv: must be a non-empty array of strings \(got null\)$/],
      ['argv-empty', spawnLine('argv-empty', { argv: [] }), /^argv: must be a non-empty array of strings \(got an array of 0 items\)$/],
      ['argv-number', spawnLine('argv-number', { argv: ['echo', 7] }), /^argv\[1\]: must be a string \(got 7\)$/],
      ['argv-string', spawnLine('argv-string', { argv: 'true' }), /^argv: must be a non-empty array of strings \(got "true"\)$/],
      ['argv-nul', spawnLine('argv-nul', { argv: ['echo', 'a\u0000b'] }), /^argv\[1\]: must not hold a NUL character$/],
      ['env-list', spawnLine('env-list', { env: ['A=1'] }), /^env: must be an object of strings \(got an array of 1 item\)$/],
      ['env-number', spawnLine('env-number', { env: { A: 1 } }), /^env\.A: must be a string \(got 1\)$/],
      ['env-name', spawnLine('env-name', { env: { 'A=B': '1' } }), /illegal environment variable name/],
      ['out-missing', spawnLine('out-missing', { out: null }), /^out: must be a file path \(got null\)$/],
      ['kill-signal', '{"op": "kill", "id": "kill-signal", "signal": "TERM"}', /^signal: must be a signal number, 1 to \d+ \(got "TERM"\)$/],
      ['kill-range', '{"op": "kill", "id": "kill-range", "signal": 0}', /^signal: must be a signal number/],
      // Too long to be read, but its start names its id: the waiting spawn is answered.
      ['huge', spawnLine('huge', { argv: ['echo', 'x'.repeat(MAX_REQUEST_BYTES)] }), /^request: longer than 16777216 bytes$/],
    ];
    const unanswerable = [
      'not json',
      'null',
      '[1, 2]',
      '"a string"',
      '{"id": 5, "op": "spawn"}',
      '{"op": "spawn", "id": ""}',
      '{"op": "spawn"',
      '['.repeat(100_000),
      'y'.repeat(MAX_REQUEST_BYTES + 10),
    ];
    const good = JSON.stringify({ op: 'spawn', id: 'good', argv: ['sh', '-c', 'echo still here; exit 3'], env, out: out('good') });
    const input = Buffer.concat([
      Buffer.from([...refused.map(([, line]) => line), ...unanswerable].join('\n') + '\n'),
      Buffer.from([0xff, 0xfe, 0x7b, 0x0a]), // not UTF-8
      Buffer.from('\n   \n'), // blank lines are nothing
      Buffer.from(`${good}\n`),
    ]);
    const { answers, stderr } = await feed(input, (a) => a.some((x) => x['id'] === 'good' && 'exit' in x), 20000);

    for (const [id, , error] of refused) {
      const mine = answers.filter((a) => a['id'] === id);
      assert.equal(mine.length, 1, `${id}: one answer (${JSON.stringify(mine)})`);
      assert.match(String(mine[0]!['error']), error, id);
    }
    const skipped = stderr.split('\n').filter((l) => l.startsWith('launcher: skipped a request line'));
    assert.equal(skipped.length, unanswerable.length + 1, stderr.slice(0, 3000));
    assert.ok(skipped.every((l) => l.length < 400), 'a skipped line is quoted short');
    assert.match(stderr, /\(8 bytes\): not JSON \(JSONDecodeError\): 'not json'/);
    assert.match(stderr, /not JSON \(RecursionError\)/);
    assert.match(stderr, /not JSON \(UnicodeDecodeError\)/);
    assert.match(stderr, /\(longer than 16777216 bytes\): the rest of it not read: 'yyyy/);
    const ran = answers.filter((a) => a['id'] === 'good');
    assert.equal(ran.length, 2, JSON.stringify(ran));
    assert.ok(Number(ran[0]!['pid']) > 0);
    assert.equal(ran[1]!['exit'], 3);
    assert.equal(ran[1]!['output'], 'still here\n');
    assert.equal(answers.length, refused.length + 2, 'nothing else was answered');
  });

  it('refuses a second spawn under the id of a run it holds, and kills by id', async () => {
    const line = (id: string, argv: string[]) => JSON.stringify({ op: 'spawn', id, argv, env, out: out(id) });
    const input = [line('twice', ['sleep', '30']), line('twice', ['true']), '{"op": "kill", "id": "twice", "signal": 15}', ''].join('\n');
    const { answers } = await feed(Buffer.from(input), (a) => a.some((x) => x['id'] === 'twice' && 'signal' in x));
    assert.deepEqual(answers.map((a) => Object.keys(a).sort().join(',')), ['id,pid', 'error,id', 'id,output,signal']);
    assert.equal(answers[1]!['error'], 'id: "twice" is already running');
    assert.equal(answers[2]!['signal'], 15);
  });
});

describe('Launcher (the agent\'s side)', () => {
  it('rejects a spawn the launcher refuses, or one too long to send, and the next one runs', async () => {
    const launcher = (await Launcher.start(createLogger('test', { level: 'silent', pretty: false })))!;
    try {
      await assert.rejects(launcher.spawn('empty', [], env, out('empty')), /^Error: argv: must be a non-empty array of strings/);
      await assert.rejects(launcher.spawn('huge', ['echo', 'é'.repeat(MAX_REQUEST_BYTES / 2)], env, out('huge')),
        /^Error: command and env: take \d+ bytes, more than the launcher reads \(16777216\)$/);
      const run = await launcher.spawn('after', ['sh', '-c', 'echo fine'], env, out('after'));
      assert.deepEqual(await run.ended, { exit: 0, output: 'fine\n' });
    } finally {
      launcher.close();
    }
  });

  it('refuses limits it has no cgroups for, and bad ones, naming the field; the next run goes on', async () => {
    const launcher = (await Launcher.start(createLogger('test', { level: 'silent', pretty: false })))!;
    try {
      await assert.rejects(launcher.spawn('capped', ['true'], env, out('capped'), { cpu: null, memory: 64 }),
        /^Error: limits: this launcher has no cgroups to enforce them with$/);
      await assert.rejects(launcher.spawn('negative', ['true'], env, out('negative'), { cpu: -1, memory: null }),
        /^Error: limits\.cpu: must be a positive number \(got -1\)$/);
      const run = await launcher.spawn('uncapped', ['sh', '-c', 'echo fine'], env, out('uncapped'), { cpu: null, memory: null });
      assert.deepEqual(await run.ended, { exit: 0, output: 'fine\n' });
    } finally {
      launcher.close();
    }
  });

  it('gives a run /dev/null as stdin: a run that reads it ends, and takes none of the agent\'s requests', async () => {
    const launcher = (await Launcher.start(createLogger('test', { level: 'silent', pretty: false })))!;
    try {
      const reader = await launcher.spawn('reader', ['sh', '-c', 'cat; echo "read: $?"'], env, out('reader'));
      const next = await launcher.spawn('next', ['sh', '-c', 'echo next ran'], env, out('next'));
      assert.deepEqual(await reader.ended, { exit: 0, output: 'read: 0\n' });
      assert.deepEqual(await next.ended, { exit: 0, output: 'next ran\n' });
    } finally {
      launcher.close();
    }
  });

  it('reads past answer lines it cannot read', async () => {
    const { log, warnings } = recordingLogger();
    // A real launcher, after a few lines no launcher writes.
    const garbage = ['garbage', 'null', '[1]', '{"id": 7, "pid": 1}', '{"id": "x", "pid": "no"}', '{"id": "x", "exit": "0"}'];
    const launcher = (await Launcher.start(log, ['sh', '-c', `printf '%s\\n' "$@"; exec python3 ${JSON.stringify(LAUNCHER_SCRIPT)}`, 'sh', ...garbage]))!;
    try {
      const run = await launcher.spawn('x', ['sh', '-c', 'echo answered'], env, out('x'));
      assert.ok(run.pid > 0);
      assert.deepEqual(await run.ended, { exit: 0, output: 'answered\n' });
      const unreadable = warnings.filter((w) => w.msg === 'unreadable launcher line ignored');
      assert.deepEqual(unreadable.map((w) => (w.obj as { line: string }).line), garbage);
    } finally {
      launcher.close();
    }
  });

  it('kills the runs of a launcher that dies, ends them lost, and refuses spawns after', async () => {
    const { log } = recordingLogger();
    const launcher = (await Launcher.start(log))!;
    const run = await launcher.spawn('orphan', ['sh', '-c', 'echo started; sleep 30 & wait'], env, out('orphan'));
    try {
      await waitFor(() => readFileSync(out('orphan'), 'utf8') === 'started\n');
      const group = processGroup(run.pid);
      assert.equal(group.length, 2, 'the run and its child');
      process.kill(launcher.pid!, 'SIGKILL');
      assert.deepEqual(await run.ended, { signal: 9, output: '', lost: true });
      assert.equal(launcher.running, false);
      // Its processes outlived the launcher (a session of their own): the agent's side killed them.
      await waitFor(() => processGroup(run.pid).length === 0);
      await assert.rejects(launcher.spawn('late', ['true'], env, out('late')), /the launcher is not running/);
      launcher.kill('orphan', 15); // dropped: nothing is there to take it
    } finally {
      // The run outlived its launcher (it is in its own session): ended here, by its pid.
      try {
        process.kill(-run.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});

/** The live (not zombie) processes of a process group, from /proc. */
function processGroup(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === pgid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('readAnswer', () => {
  const cases: [string, ReturnType<typeof readAnswer>][] = [
    ['{"id": "a", "pid": 12}', { kind: 'pid', id: 'a', pid: 12 }],
    ['{"id": "a", "error": "argv: bad"}', { kind: 'error', id: 'a', error: 'argv: bad' }],
    ['{"id": "a", "exit": 3, "output": "o"}', { kind: 'end', id: 'a', end: { exit: 3, output: 'o' } }],
    ['{"id": "a", "signal": 15}', { kind: 'end', id: 'a', end: { signal: 15, output: '' } }],
    ['{"id": "a", "exit": 0, "output": 5}', { kind: 'end', id: 'a', end: { exit: 0, output: '' } }],
    ['not json', null],
    ['null', null],
    ['[]', null],
    ['"a"', null],
    ['{}', null],
    ['{"id": 1, "pid": 2}', null],
    ['{"id": "a", "pid": 0}', null],
    ['{"id": "a", "pid": 1.5}', null],
    ['{"id": "a", "pid": "1"}', null],
    ['{"id": "a", "error": {}}', null],
    ['{"id": "a", "exit": "0"}', null],
    ['{"id": "a", "output": "no end"}', null],
  ];
  for (const [line, expected] of cases) {
    it(`${line} → ${JSON.stringify(expected)}`, () => assert.deepEqual(readAnswer(line), expected));
  }
});
