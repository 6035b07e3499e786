import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cluster, TEST_IMAGE } from '../helpers/cluster.js';
import { waitFor, waitUntil } from '../helpers/wait.js';

const HOST = 'sandbox-a';
const PIDS_LIMIT = 64;

/**
 * The sandbox from inside, with real containers and processes: what a task may mount, what a container may do, and
 * who a process run is. Intake allows the temporary directory (as under `npm start`), the agent only `allowed/`.
 */
describe('sandbox: a task cannot own its host', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-sandbox-'));
  const allowed = path.join(dir, 'allowed');
  const outside = path.join(dir, 'outside');
  const cluster = new Cluster('sandbox', { AGENT_VOLUMES: allowed, AGENT_PIDS_LIMIT: String(PIDS_LIMIT) });

  before(async () => {
    mkdirSync(allowed);
    mkdirSync(outside);
    chmodSync(dir, 0o755);
    symlinkSync('/etc', path.join(allowed, 'escape'));
    await cluster.start({ agents: [{ host: HOST, executors: 'docker,process', slots: 4 }] });
  });
  after(async () => {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a task mounting / at intake, naming volumes and the rule', async () => {
    cluster.client.submit({ name: 'mount-root', image: TEST_IMAGE, command: ['true'], volumes: ['/:/host'] });
    const r = await cluster.client.waitForRejection((x) => x.name === 'mount-root');
    assert.equal(r.code, 'invalid_spec');
    assert.equal(r.field, 'volumes[0]');
    assert.equal(r.reason, 'volumes[0]: the host\'s root (/) is never mounted (VOLUMES_ALLOWED)');
    const get = await cluster.client.get('mount-root');
    assert.ok('error' in get && get.error.code === 'not_found', 'no row for a rejected task');
  });

  it('refuses the Docker socket and a path outside VOLUMES_ALLOWED at intake', async () => {
    cluster.client.submit({ name: 'mount-sock', image: TEST_IMAGE, command: ['true'], volumes: ['/tmp/x:/x', '/var/run/docker.sock:/s'] });
    cluster.client.submit({ name: 'mount-etc', image: TEST_IMAGE, command: ['true'], volumes: [`${os.tmpdir()}/../etc:/etc2`] });
    const sock = await cluster.client.waitForRejection((x) => x.name === 'mount-sock');
    assert.equal(sock.field, 'volumes[1]');
    assert.match(sock.reason, /is or holds the Docker socket/);
    const etc = await cluster.client.waitForRejection((x) => x.name === 'mount-etc');
    assert.equal(etc.reason, `volumes[0]: "/etc" is not under an allowed path (allowed: ${os.tmpdir()}) (VOLUMES_ALLOWED)`);
  });

  it('an agent refuses a mount outside AGENT_VOLUMES, and one whose symlink leads out; the run never starts', async () => {
    const c = cluster.client;
    c.submit({ name: 'agent-outside', image: TEST_IMAGE, command: ['true'], volumes: [`${outside}:/data`] });
    c.submit({ name: 'agent-symlink', image: TEST_IMAGE, command: ['true'], volumes: [`${allowed}/escape:/data:ro`] });
    c.submit({ name: 'agent-inside', image: TEST_IMAGE, command: ['sh', '-c', 'echo hi > /data/out'], volumes: [`${allowed}:/data`] });
    const out = await c.waitForState('agent-outside', 'failed', 60000);
    assert.equal(out.runs?.[0]?.exit_code, null);
    assert.equal(out.runs?.[0]?.reason, `volume_refused: volumes[0] "${outside}" is not under an allowed path (allowed: ${allowed}) (AGENT_VOLUMES of this agent)`);
    const link = await c.waitForState('agent-symlink', 'failed', 60000);
    assert.equal(link.runs?.[0]?.reason, `volume_refused: volumes[0] "/etc" is not under an allowed path (allowed: ${allowed}) ("${allowed}/escape" resolves to "/etc") (AGENT_VOLUMES of this agent)`);
    await c.waitForState('agent-inside', 'success', 60000);
    assert.deepEqual((await cluster.containers()).filter((x) => ['agent-outside', 'agent-symlink'].includes(x.Labels['tangerine.task'] ?? '')), [], 'no container was made');
  });

  it('a container has NoNewPrivs and exactly the documented capabilities', async () => {
    cluster.client.submit({ name: 'status', image: TEST_IMAGE, command: ['cat', '/proc/self/status'] });
    const t = await cluster.client.waitForState('status', 'success', 60000);
    const output = t.runs?.[0]?.output ?? '';
    assert.match(output, /^NoNewPrivs:\s+1$/m);
    // CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, NET_BIND_SERVICE: bits 0, 1, 3, 4, 5, 6, 7, 10.
    assert.match(output, /^CapEff:\s+00000000000004fb$/m);
    assert.match(output, /^CapBnd:\s+00000000000004fb$/m);
  });

  it('a fork bomb is stopped by the pids limit, the host stays responsive, and the run ends with no container left', async () => {
    cluster.client.submit({ name: 'fork-bomb', image: TEST_IMAGE, timeout: 8, command: ['sh', '-c', 'b() { b | b & }; b; sleep 30'] });
    await cluster.client.waitForState('fork-bomb', 'running', 60000);
    const container = await waitFor('the fork bomb\'s container', async () => (await cluster.containers()).find((x) => x.Labels['tangerine.task'] === 'fork-bomb'));
    let most = 0;
    for (let i = 0; i < 5; i++) {
      const stats = await cluster.docker.getContainer(container.Id).stats({ stream: false }) as { pids_stats?: { current?: number } };
      most = Math.max(most, stats.pids_stats?.current ?? 0);
      const started = Date.now();
      assert.equal(execFileSync('sh', ['-c', 'echo alive'], { encoding: 'utf8', timeout: 5000 }).trim(), 'alive');
      assert.ok(Date.now() - started < 5000, 'the host still starts a process');
    }
    assert.ok(most > 0 && most <= PIDS_LIMIT, `the container held ${most} processes, at most ${PIDS_LIMIT}`);
    const t = await cluster.client.waitForState('fork-bomb', 'failed', 60000);
    assert.equal(t.runs?.[0]?.exit_code, 124);
    assert.deepEqual(await cluster.containersLeft('fork-bomb', 10000), []);
  });

  it('a process task runs as the unprivileged user', async () => {
    cluster.client.submit({ name: 'who', executor: 'process', command: ['sh', '-c', 'id -u; id -g; echo "home=$HOME"; pwd'] });
    const t = await cluster.client.waitForState('who', 'success', 60000);
    const nobody = execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim();
    const [uid, gid, home, cwd] = (t.runs?.[0]?.output ?? '').trim().split('\n');
    assert.equal(uid, nobody);
    assert.equal(gid, execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
    assert.match(home ?? '', /^home=\//);
    // Its own empty directory, not the host's shared temporary one; gone once the run is over.
    assert.equal(cwd, path.join(os.tmpdir(), `tangerine-work-${HOST}`, 'who-1'));
    await waitUntil('the run\'s directory removed', () => !existsSync(cwd!));
  });

  it('a process task with cpu and memory runs in a cgroup of its own with those limits, removed after the run', async () => {
    // Prints each limit file of its own cgroups, v1 (memory and cpu hierarchies) or v2, as "<file> <value>".
    const script = [
      'while IFS=: read -r _ ctl where; do',
      '  case "$ctl" in',
      '    memory) d=/sys/fs/cgroup/memory$where; echo "dir $d"; echo "memory.limit_in_bytes $(cat $d/memory.limit_in_bytes)";;',
      '    cpu|cpu,cpuacct|cpuacct,cpu) d=/sys/fs/cgroup/cpu$where; echo "dir $d"; echo "cpu.cfs_quota_us $(cat $d/cpu.cfs_quota_us)";;',
      '    "") if [ -f /sys/fs/cgroup/cgroup.controllers ]; then d=/sys/fs/cgroup$where; echo "dir $d"; echo "memory.max $(cat $d/memory.max)"; echo "cpu.max $(cat $d/cpu.max)"; fi;;',
      '  esac',
      'done < /proc/self/cgroup',
    ].join('\n');
    cluster.client.submit({ name: 'limited', executor: 'process', cpu: 0.5, memory: 64, command: ['sh', '-c', script] });
    const t = await cluster.client.waitForState('limited', 'success', 60000);
    const lines = (t.runs?.[0]?.output ?? '').trim().split('\n');
    const values = new Map(lines.map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
    if (values.has('memory.max')) {
      assert.equal(values.get('memory.max'), String(64 * 1048576));
      assert.equal(values.get('cpu.max'), '50000 100000');
    } else {
      assert.equal(values.get('memory.limit_in_bytes'), String(64 * 1048576), lines.join('\n'));
      assert.equal(values.get('cpu.cfs_quota_us'), '50000', lines.join('\n'));
    }
    const dirs = lines.filter((l) => l.startsWith('dir ')).map((l) => l.slice(4)).filter((d) => d.includes('/run-limited'));
    assert.ok(dirs.length > 0, `the run's own cgroups: ${lines.join(' | ')}`);
    await waitFor('the run\'s cgroups removed', () => (dirs.every((d) => !existsSync(d)) ? true : undefined), 10000);
  });

  it('a memory-hungry process task is killed at its memory limit', async () => {
    // tail holds a line whole, and /dev/zero has no end of line: it grows until it is stopped.
    cluster.client.submit({ name: 'hungry', executor: 'process', memory: 32, restartable: false, command: ['sh', '-c', 'head -c 500000000 /dev/zero | tail -n 1 >/dev/null'] });
    const t = await cluster.client.waitForState('hungry', 'failed', 60000);
    assert.equal(t.runs?.[0]?.reason, 'memory: the run went over its limit of 32 MiB and was killed');
  });
});
