import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Subjects, type RunExited } from '@tangerine/contracts';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';

const A = 'graceful-a';
const B = 'graceful-b';
const RESTARTABLE = 'graceful-restartable';
const FINAL = 'graceful-final';
const CONTAINER = 'graceful-container';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process that is neither gone nor a zombie (a zombie only waits for its parent, or init, to read its status). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every process on the machine whose environment says it runs `task` (the agent sets TANGERINE_TASK). */
function processesOf(task: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(`TANGERINE_TASK=${task}`) && alive(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = check();
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** The output files of a host's process runs, in its run directories (tmpfs, or the temporary directory). */
function runFiles(host: string): string[] {
  const files: string[] = [];
  for (const base of ['/dev/shm', os.tmpdir()]) {
    let names: string[] = [];
    try {
      names = readdirSync(base);
    } catch {
      continue;
    }
    for (const d of names.filter((n) => n.startsWith(`tangerine-runs-${host}-`))) files.push(...readdirSync(path.join(base, d)));
  }
  return files;
}

/**
 * An agent stopped gracefully (SIGTERM, as Ctrl-C of `npm start` or `docker stop` does) ends its process runs and
 * reports them lost before it exits: a restartable task runs again elsewhere without a failure counted, a task that
 * may not restart fails with run_lost. Its containers go on, and the next agent of the host adopts them.
 */
describe('agent stop: its process runs end with it and are reported lost', () => {
  // Only the agent's own reports act here: a host is taken for dead after 30 s.
  const cluster = new Cluster('agent-stop', { HOST_TIMEOUT: '30' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-agent-stop-'));
  // The process runs write here as the unprivileged AGENT_PROCESS_USER.
  chmodSync(dir, 0o777);
  const exited: RunExited[] = [];
  const pidsOf = (task: string, attempt: number): number[] => {
    const file = path.join(dir, `${task}-${attempt}.pids`);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
  };

  before(async () => {
    await cluster.start({ agents: [{ host: A, executors: 'docker,process', slots: 4 }] });
    cluster.client.nc.subscribe(Subjects.runExited.wildcard, {
      callback: (_e, m) => { exited.push(JSON.parse(new TextDecoder().decode(m.data)) as RunExited); },
    });
    await cluster.client.nc.flush();
  });
  after(async () => {
    await cluster.stop();
    for (const task of [RESTARTABLE, FINAL]) for (const pid of processesOf(task)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    for (const base of ['/dev/shm', os.tmpdir()]) {
      for (const d of (existsSync(base) ? readdirSync(base) : []).filter((n) => n.startsWith(`tangerine-runs-${A}-`) || n.startsWith(`tangerine-runs-${B}-`))) {
        rmSync(path.join(base, d), { recursive: true, force: true });
      }
    }
  });

  it('ends the process runs, reports each once as lost, and leaves the containers running', async () => {
    const c = cluster.client;
    // Each writes its shell's pid and its child's; the first attempt runs until it is stopped.
    const pids = 'f="$DIR/$TANGERINE_TASK-$TANGERINE_ATTEMPT.pids"; echo $$ >> "$f"';
    c.submit({ name: RESTARTABLE, executor: 'process', env: { DIR: dir },
      command: ['sh', '-c', `${pids}; if [ "$TANGERINE_ATTEMPT" = 1 ]; then sleep 60 & echo $! >> "$f"; wait; fi; echo done`] });
    // Deaf to SIGTERM (its child too): only the SIGKILL after STOP_GRACE (1 s here) ends it.
    c.submit({ name: FINAL, executor: 'process', restartable: false, env: { DIR: dir },
      command: ['sh', '-c', `trap "" TERM; ${pids}; sleep 60 & echo $! >> "$f"; wait; sleep 60`] });
    c.submit({ name: CONTAINER, image: TEST_IMAGE, command: ['sh', '-c', 'sleep 20; exit 0'] });
    for (const task of [RESTARTABLE, FINAL, CONTAINER]) await c.waitForState(task, 'running', 30000);
    const held = await until('both process runs wrote their pids', () => {
      const all = [...pidsOf(RESTARTABLE, 1), ...pidsOf(FINAL, 1)];
      return all.length === 4 && all;
    });
    assert.ok(held.every(alive), 'the processes run');
    assert.deepEqual(runFiles(A).sort(), [`${FINAL}-1.out`, `${RESTARTABLE}-1.out`], 'their output files are in the host\'s run directory');
    // Where the restartable task may go once its run on A is lost.
    await cluster.addAgent({ host: B, executors: 'process', slots: 4 });
    await cluster.waitForAgent(B);

    const agentA = cluster.agents.get(A)!;
    const t0 = Date.now();
    await agentA.stop();
    const took = Date.now() - t0;
    assert.equal(agentA.child!.exitCode, 0, 'the agent exits cleanly');
    // STOP_GRACE (1 s) for the run deaf to SIGTERM, then the reports.
    assert.ok(took >= 900 && took < 6000, `the stop took ${took} ms`);

    await until('every process of the runs is gone', () => held.every((p) => !alive(p)), 3000);
    assert.deepEqual(processesOf(RESTARTABLE).filter((p) => held.includes(p)), []);
    assert.deepEqual(processesOf(FINAL), [], 'no process of the task is left');
    assert.deepEqual(runFiles(A), [], 'the output files went once the runs were reported');

    // Reported before the agent exited: once each, as lost, never as an exit by SIGTERM (143) or SIGKILL (137).
    for (const task of [RESTARTABLE, FINAL]) {
      const reports = exited.filter((e) => e.name === task && e.attempt === 1);
      assert.equal(reports.length, 1, `${task}: ${JSON.stringify(reports)}`);
      assert.equal(reports[0]!.lost, true);
      assert.equal(reports[0]!.exit_code, null);
      assert.equal(reports[0]!.host, A);
      assert.equal(reports[0]!.reason, `run_lost: the agent of ${A} stopped`);
      const lines = agentA.lines.filter((l) => l['task'] === task && l['attempt'] === 1);
      assert.ok(lines.some((l) => l['msg'] === 'run lost: ended by the agent\'s stop' && l['host'] === A), task);
      assert.ok(!lines.some((l) => l['msg'] === 'run exited'), `${task}: not also an exit`);
    }
    assert.match(String(agentA.lines.find((l) => l['task'] === FINAL && l['msg'] === 'run lost: ended by the agent\'s stop')?.['ended_by']), /signal 9/);

    // The container was not stopped.
    const [container] = (await cluster.containers()).filter((x) => x.Labels['tangerine.task'] === CONTAINER);
    assert.ok(container, 'the container is still there');
    assert.equal((await cluster.docker.getContainer(container.Id).inspect()).State.Running, true);
    assert.ok(!exited.some((e) => e.name === CONTAINER), 'and not reported');
  });

  it('runs the restartable task again on another host, with no failure counted', async () => {
    const c = cluster.client;
    const t = await c.waitForState(RESTARTABLE, 'success', 30000);
    assert.equal(t.failures, 0);
    assert.deepEqual(t.runs?.map((r) => [r.attempt, r.host]), [[1, A], [2, B]]);
    assert.equal(t.runs?.[0]?.reason, 'run_lost');
    assert.equal(t.runs?.[1]?.exit_code, 0);
    assert.match(t.runs?.[1]?.output ?? '', /done/);
    const requeued = await c.waitForEvent((e) => e.name === RESTARTABLE && e.state === 'ready' && e.from === 'running');
    assert.match(requeued.reason ?? '', /^run_lost/);
    assert.equal(requeued.failures, 0);
    assert.equal(pidsOf(RESTARTABLE, 2).length, 1, 'the second attempt ran once');
  });

  it('fails the task that may not restart, with run_lost', async () => {
    const t = await cluster.client.waitForState(FINAL, 'failed', 20000);
    assert.equal(t.reason, `run_lost: the agent of ${A} stopped`);
    assert.equal(t.failures, 0, 'the run did not fail on its own');
    assert.equal(t.runs?.length, 1);
    assert.equal(t.runs?.[0]?.reason, 'run_lost');
    assert.equal(t.runs?.[0]?.exit_code, null);
    assert.equal(pidsOf(FINAL, 2).length, 0, 'it never ran again');
  });

  it('lets the next agent of the host adopt the container and report its end', async () => {
    cluster.startAgent({ host: A, executors: 'docker,process', slots: 4 });
    await cluster.waitForAgent(A);
    const adopted = cluster.agents.get(A)!.lines.find((l) => l['msg'] === 'run adopted' && l['task'] === CONTAINER);
    assert.equal(adopted?.['running'], true);
    const t = await cluster.client.waitForState(CONTAINER, 'success', 30000);
    assert.deepEqual(t.runs?.map((r) => [r.attempt, r.exit_code]), [[1, 0]]);
    assert.equal(t.failures, 0);
    assert.deepEqual(await cluster.containersLeft(CONTAINER), []);
  });

  it('leaves no process of either task behind', () => {
    assert.deepEqual([...processesOf(RESTARTABLE), ...processesOf(FINAL)], []);
  });
});
