import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trackHosts } from '../helpers/leak-check.js';
import { HttpApi } from '../helpers/http.js';
import { freePort } from '../helpers/nats.js';
import { ROOT } from '../helpers/processes.js';
import { waitFor, waitUntil } from '../helpers/wait.js';
import { StackLedger, addressOn, containersOf, docker, lines, run, tryDocker } from './docker-cli.js';

/**
 * `docker stack deploy` for real (issue 17): the images built here (`npm run images`), a one-node swarm, the stack of
 * deploy/docker-stack.yml with its identities and secrets, and then what an operator relies on: every service up and
 * healthy, a diamond of container tasks through NATS (the CLI in the image, on the attachable network) and through the
 * HTTP API's published port, intake scaled to 3, the leading placer killed and the standby leading, a rolling update
 * of every Tangerine service while 50 tasks run (none lost, none run twice), and `docker stack rm` leaving nothing.
 * The commands are deploy/README.md's ("The deployment test"). The timings go to the test's diagnostics.
 *
 * The swarm: joined (`docker swarm init --advertise-addr 127.0.0.1`) only when the node is in none, and left at the
 * end; a node already in a swarm is used as it is, and its other stacks are left alone, but the stack's secret names
 * (tangerine_*) must be free there. The notifier's webhook is a dummy on the container's own loopback
 * (http://127.0.0.1:9/…, refused at once): no test here reads Slack's side, test/src/e2e/notifier.test.ts does.
 */

const STACK = 'tgdeploy';
const NETWORK = `${STACK}_tangerine`;
const LEDGER_SERVICES = ['intake', 'resolver', 'placer', 'monitor', 'cron', 'host-health', 'relay', 'notifier', 'api', 'autoscaler'] as const;
/**
 * The autoscaler's Spot Fleet, which no EC2 here answers: its endpoint is the container's own loopback (refused at
 * once), with keys that must never show in its logs. It keeps running, backing off with the error's code.
 */
const FLEET = 'sfr-00000000-0000-4000-8000-00000000d3f1';
const FAKE_KEYS = { AWS_ACCESS_KEY_ID: 'AKIADEPLOYTEST0000001', AWS_SECRET_ACCESS_KEY: 'deploy-test-secret-do-not-log-0000000000' };
const AUTOSCALER_OVERRIDE = `version: "3.8"
services:
  autoscaler:
    environment:
      AWS_ENDPOINT_URL_EC2: http://127.0.0.1:9
      AWS_ACCESS_KEY_ID: ${FAKE_KEYS.AWS_ACCESS_KEY_ID}
      AWS_SECRET_ACCESS_KEY: ${FAKE_KEYS.AWS_SECRET_ACCESS_KEY}
`;
const TANGERINE_SERVICES = [...LEDGER_SERVICES, 'agent'] as const;
const ALL_SERVICES = [...TANGERINE_SERVICES, 'nats', 'postgres'] as const;
const EXTERNAL_SECRETS = ['tangerine_pg_password', 'tangerine_secrets_key', 'tangerine_api_tokens', 'tangerine_slack_webhook'] as const;
const VOLUMES = [`${STACK}_nats-data`, `${STACK}_pg-data`];
/** Built by scripts/prepare.sh from Debian's busybox-static: the task containers' image. */
const TASK_IMAGE = 'tangerine-test/busybox:latest';
/** Deadlines for a loaded two-core machine; the figures measured are far below (deploy/README.md). */
const MINUTE = 60_000;

const svc = (name: string): string => `${STACK}_${name}`;
const timings: Record<string, string> = {};
const took = (what: string, since: number): number => {
  const s = (Date.now() - since) / 1000;
  timings[what] = `${s.toFixed(1)} s`;
  console.log(`# timing: ${what}: ${s.toFixed(1)} s`);
  return s;
};

interface Images { TANGERINE_IMAGE: string; TANGERINE_NATS_IMAGE: string; TANGERINE_POSTGRES_IMAGE: string }

/** `npm run images`: the KEY=VALUE lines it prints. */
async function buildImages(): Promise<Images> {
  const out = await run('npm', ['run', '--silent', 'images'], { cwd: ROOT, timeoutMs: 40 * MINUTE });
  const vars = Object.fromEntries(out.split('\n').map((l) => /^(TANGERINE_[A-Z_]+)=(\S+)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
  for (const k of ['TANGERINE_IMAGE', 'TANGERINE_NATS_IMAGE', 'TANGERINE_POSTGRES_IMAGE']) assert.ok(vars[k], `npm run images prints ${k}=...: ${out}`);
  return vars as unknown as Images;
}

/** Each service's "running/desired" replicas (`docker stack services`). */
async function replicas(): Promise<Map<string, string>> {
  const rows = await lines(['stack', 'services', STACK, '--format', '{{.Name}} {{.Replicas}}']);
  return new Map(rows.map((r) => r.split(' ') as [string, string]));
}

/** Every service has `want` replicas running (swarm counts a task with a healthcheck as running once healthy). */
async function allUp(want: Record<string, number>): Promise<string | undefined> {
  const now = await replicas();
  const off = ALL_SERVICES.filter((s) => {
    const m = /^(\d+)\/(\d+)/.exec(now.get(svc(s)) ?? '');
    return !m || m[1] !== m[2] || Number(m[1]) !== (want[s] ?? 1);
  });
  if (off.length > 0) return undefined;
  // And every container of the stack says healthy (each service has a healthcheck).
  const status = await lines(['ps', '--filter', `label=com.docker.stack.namespace=${STACK}`, '--format', '{{.Names}}\t{{.Status}}']);
  return status.every((s) => s.includes('(healthy)')) ? status.join('\n') : undefined;
}

const hostId = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, '-');

describe('docker stack deploy on a one-node swarm', { timeout: 60 * MINUTE }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-swarm-'));
  const ids = path.join(dir, 'identities');
  const work = path.join(dir, 'work');
  const pgPassword = randomBytes(18).toString('base64url');
  const token = randomBytes(24).toString('hex');
  const prefix = `d${Date.now().toString(36)}`;
  let joined = false;
  let gwbridgeBefore = true;
  let labelled = false;
  let nodeId = '';
  let host = '';
  let images: Images;
  let apiPort = 0;
  let hostPort = false;
  let api: HttpApi;
  const created: string[] = [];
  const ledger = new StackLedger(svc('postgres'), pgPassword);
  const want: Record<string, number> = { ...Object.fromEntries(LEDGER_SERVICES.map((s) => [s, 2])), agent: 1, nats: 1, postgres: 1 };

  const stackEnv = (): NodeJS.ProcessEnv => ({
    ...process.env, ...images, TANGERINE_API_PORT: String(apiPort),
    TANGERINE_AGENT_SEED: path.join(dir, 'agent.nk'), TANGERINE_AGENT_WORK_DIR: work, SPOT_FLEET_REQUEST_ID: FLEET,
  });

  before(async () => {
    await docker(['image', 'inspect', TASK_IMAGE]).catch(() => { throw new Error(`the task image ${TASK_IMAGE} is missing: bash scripts/prepare.sh builds it`); });
    let t = Date.now();
    images = await buildImages();
    took('npm run images', t);

    const state = (await docker(['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim();
    gwbridgeBefore = (await lines(['network', 'ls', '-q', '--filter', 'name=^docker_gwbridge$'])).length > 0;
    if (state === 'inactive') {
      await docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
      joined = true;
    } else {
      assert.equal(state, 'active', `the node is in no usable swarm state (${state})`);
      const taken = (await lines(['secret', 'ls', '--format', '{{.Name}}'])).filter((n) => n.startsWith('tangerine_'));
      assert.deepEqual(taken, [], 'the swarm already holds secrets named tangerine_*: remove them or run on another node');
    }
    nodeId = (await docker(['info', '--format', '{{.Swarm.NodeID}}'])).trim();
    host = hostId((await docker(['node', 'inspect', nodeId, '--format', '{{.Description.Hostname}}'])).trim());
    trackHosts(host);

    // The files of deploy/ beside the identities made for this test, as `npm run identities` makes them.
    copyFileSync(path.join(ROOT, 'deploy/docker-stack.yml'), path.join(dir, 'docker-stack.yml'));
    copyFileSync(path.join(ROOT, 'deploy/docker-stack.host-port.yml'), path.join(dir, 'docker-stack.host-port.yml'));
    copyFileSync(path.join(ROOT, 'deploy/nats.conf'), path.join(dir, 'nats.conf'));
    writeFileSync(path.join(dir, 'docker-stack.test.yml'), AUTOSCALER_OVERRIDE);
    const identities = path.join(ROOT, 'libs/bus/dist/identities-cli.js');
    await run(process.execPath, [identities, 'init', ids]);
    await run(process.execPath, [identities, 'agent', ids, host]);
    copyFileSync(path.join(ids, 'seeds', `agent-${host}.nk`), path.join(dir, 'agent.nk'));
    chmodSync(path.join(dir, 'agent.nk'), 0o600);
    // The CLI's container runs as the image's user (10001): its copy of the submitter's seed is readable to it.
    copyFileSync(path.join(ids, 'seeds', 'submitter.nk'), path.join(dir, 'submitter.nk'));
    chmodSync(path.join(dir, 'submitter.nk'), 0o444);
    mkdirSync(work, { mode: 0o700 });

    const secrets: Record<(typeof EXTERNAL_SECRETS)[number], string> = {
      tangerine_pg_password: pgPassword,
      tangerine_secrets_key: randomBytes(32).toString('hex'),
      tangerine_api_tokens: `${token} write deploy-test\n`,
      tangerine_slack_webhook: 'http://127.0.0.1:9/services/deploy-test',
    };
    for (const [name, value] of Object.entries(secrets)) {
      await docker(['secret', 'create', name, '-'], { input: value });
      created.push(name);
    }
    const labels = await docker(['node', 'inspect', nodeId, '--format', '{{index .Spec.Labels "tangerine.data"}}']);
    if (labels.trim() !== 'true') {
      await docker(['node', 'update', '--label-add', 'tangerine.data=true', nodeId]);
      labelled = true;
    }
    apiPort = await freePort();
    // Without IPVS (this machine's kernel) swarm has no routing mesh: the api's port is published on the node.
    hostPort = !existsSync('/proc/net/ip_vs');
    if (hostPort) want['api'] = 1;
    console.log(`# the api's port ${apiPort}, published ${hostPort ? 'on the node (no IPVS here)' : 'through the routing mesh'}`);
    api = new HttpApi(`http://127.0.0.1:${apiPort}`, token);

    t = Date.now();
    await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', path.join(dir, 'docker-stack.yml'), ...(hostPort ? ['-c', path.join(dir, 'docker-stack.host-port.yml')] : []), '-c', path.join(dir, 'docker-stack.test.yml'), STACK],
      { env: stackEnv(), cwd: dir });
    await waitFor('every service of the stack with its replicas, healthy', () => allUp(want), 10 * MINUTE);
    took('deploy to healthy', t);
  });

  after(async () => {
    const problems: string[] = [];
    const note = (p: string | null) => { if (p) problems.push(p); };
    if ((await replicas().catch(() => new Map())).size > 0) await removeStack().catch((err: unknown) => problems.push(String(err)));
    for (const c of await lines(['ps', '-aq', '--filter', `label=tangerine.deploy-test=${STACK}`]).catch(() => [])) note(await tryDocker(['rm', '-f', c]));
    for (const v of VOLUMES) if ((await lines(['volume', 'ls', '-q', '--filter', `name=^${v}$`]).catch(() => [])).length > 0) note(await tryDocker(['volume', 'rm', '-f', v]));
    for (const name of created) note(await tryDocker(['secret', 'rm', name]));
    if (labelled && !joined) note(await tryDocker(['node', 'update', '--label-rm', 'tangerine.data', nodeId]));
    if (joined) {
      note(await tryDocker(['swarm', 'leave', '--force']));
      // Swarm made this bridge and leaves it behind (not the stack's: the next `docker swarm init` takes it again).
      // dockerd 20.10 may keep a stale endpoint on it after a killed container until it restarts: then it stays.
      if (!gwbridgeBefore) {
        await waitUntil('docker_gwbridge removed', async () => (await tryDocker(['network', 'rm', 'docker_gwbridge'])) === null, 20_000)
          .catch(() => console.log('# docker_gwbridge (swarm\'s own bridge) is kept: dockerd still lists an endpoint on it'));
      }
    }
    rmSync(dir, { recursive: true, force: true });
    console.log(`# timings: ${JSON.stringify(timings)}`);
    if (problems.length > 0) throw new Error(`cleaning up the stack:\n${problems.join('\n')}`);
  });

  /** `docker stack rm`, then until its containers and network are gone, then its volumes removed. */
  async function removeStack(): Promise<void> {
    await docker(['stack', 'rm', STACK]);
    await waitUntil('the stack\'s containers gone', async () => (await lines(['ps', '-aq', '--filter', `label=com.docker.stack.namespace=${STACK}`])).length === 0, 5 * MINUTE);
    await waitUntil('the stack\'s network gone', async () => (await lines(['network', 'ls', '-q', '--filter', `name=^${NETWORK}$`])).length === 0, 5 * MINUTE);
    // A volume is busy for a moment after its container went: try again until docker lets it go.
    await waitUntil('the stack\'s volumes removed', async () => {
      for (const v of VOLUMES) await tryDocker(['volume', 'rm', v]);
      return (await lines(['volume', 'ls', '-q', '--filter', `name=^${STACK}_`])).length === 0;
    }, 2 * MINUTE);
  }

  /** The tasks' states in the ledger, by name. */
  async function states(names: readonly string[]): Promise<Map<string, string>> {
    const list = names.map((n) => `'${n}'`).join(',');
    return new Map((await ledger.query(`SELECT name, state FROM tasks WHERE name IN (${list})`)).map(([n, s]) => [n!, s!]));
  }

  async function allSucceed(names: readonly string[], timeoutMs: number): Promise<void> {
    let last = new Map<string, string>();
    await waitUntil(`${names.length} tasks to succeed`, async () => {
      last = await states(names).catch(() => last);
      const failed = [...last].filter(([, s]) => s === 'failed' || s === 'blocked' || s === 'cancelled');
      assert.deepEqual(failed, [], 'no task ends other than in success');
      return names.every((n) => last.get(n) === 'success');
    }, timeoutMs).catch((err: unknown) => { throw new Error(`${String(err)}; states: ${JSON.stringify([...last])}`); });
  }

  const diamond = (p: string) => [
    { name: `${p}-extract`, image: TASK_IMAGE, command: ['sh', '-c', `echo extract ${p}`] },
    { name: `${p}-left`, image: TASK_IMAGE, command: ['true'], dependencies: [`${p}-extract`] },
    { name: `${p}-right`, image: TASK_IMAGE, command: ['true'], dependencies: [`${p}-extract`] },
    { name: `${p}-load`, image: TASK_IMAGE, command: ['sh', '-c', 'echo loaded'], dependencies: [`${p}-left`, `${p}-right`] },
  ];

  it('runs a diamond of container tasks submitted over NATS with the CLI in the image, on the attachable network', async () => {
    const specs = diamond(`${prefix}-nats`);
    const t = Date.now();
    const out = await docker(['run', '--rm', '-i', '--label', `tangerine.deploy-test=${STACK}`, '--network', NETWORK,
      '-v', `${path.join(dir, 'submitter.nk')}:/run/submitter.nk:ro`, images.TANGERINE_IMAGE,
      'cli/dist/main.js', '--server', 'nats://nats:4222', '--nkey', '/run/submitter.nk', 'submit', '-f', '-', '--wait', '--timeout', '600', '-o', 'json'],
    { input: JSON.stringify(specs), timeoutMs: 12 * MINUTE });
    took('diamond over NATS (CLI)', t);
    const results = JSON.parse(out) as { name: string; state: string; exit_code: number | null }[];
    assert.deepEqual(results.map((r) => [r.name, r.state, r.exit_code]), specs.map((s) => [s.name, 'success', 0]));
    await allSucceed(specs.map((s) => s.name), MINUTE);
  });

  it('runs a diamond submitted through the HTTP API on its published port', async () => {
    const specs = diamond(`${prefix}-http`);
    const t = Date.now();
    const res = await waitFor('the API to take the diamond', async () => {
      const r = await api.post('/v1/tasks', specs).catch(() => undefined);
      return r && r.status !== 503 ? r : undefined;
    }, 2 * MINUTE);
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(res.json, { names: specs.map((s) => s.name) });
    await allSucceed(specs.map((s) => s.name), 10 * MINUTE);
    const output = await api.get(`/v1/tasks/${prefix}-http-extract/runs/1/output`);
    assert.equal(output.status, 200, output.text);
    assert.match(output.text, new RegExp(`extract ${prefix}-http`));
    took('diamond over HTTP', t);
  });

  it('keeps the autoscaler running when no EC2 answers: it backs off with the error\'s code and logs no key', async () => {
    let logs = '';
    await waitUntil('the autoscaler reports its provider failing', async () => {
      logs = await docker(['service', 'logs', '--raw', svc('autoscaler')]).catch(() => '');
      return /the provider failed \([A-Za-z.]+\)/.test(logs) && /backing off/.test(logs);
    }, 2 * MINUTE);
    for (const key of Object.values(FAKE_KEYS)) assert.ok(!logs.includes(key), 'no AWS key in the autoscaler\'s logs');
    assert.equal((await replicas()).get(svc('autoscaler')), '2/2', 'both replicas still run');
  });

  it('scales intake to 3', async () => {
    await docker(['service', 'scale', '--detach', `${svc('intake')}=3`]);
    want['intake'] = 3;
    await waitFor('intake with 3 healthy replicas', () => allUp(want), 5 * MINUTE);
    assert.equal((await containersOf(svc('intake'))).length, 3);
  });

  /** The placer holding the leadership lock: its connection's address, as PostgreSQL sees it. */
  const leaderAddress = async (): Promise<string | undefined> => {
    const rows = await ledger.query("SELECT host(a.client_addr) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'placer-leader'");
    return rows.length === 1 ? rows[0]![0] : undefined;
  };

  it('hands the placer\'s lead to the standby when the leader\'s container is killed, and places a new task', async () => {
    const placers = await containersOf(svc('placer'));
    assert.equal(placers.length, 2);
    const byAddress = new Map(await Promise.all(placers.map(async (c) => [await addressOn(c, NETWORK), c] as const)));
    const address = await waitFor('a leading placer', leaderAddress, 2 * MINUTE);
    const leader = byAddress.get(address);
    assert.ok(leader, `the lock is held from ${address}, one of the placers ${JSON.stringify([...byAddress])}`);
    const standby = placers.find((c) => c !== leader)!;
    const t = Date.now();
    await docker(['kill', leader]);
    const next = await waitFor('another placer to lead', async () => {
      const a = await leaderAddress();
      return a !== undefined && a !== address ? a : undefined;
    }, 2 * MINUTE);
    const seconds = took('placer failover', t);
    assert.equal(byAddress.get(next), standby, 'the standby took the lead (not a replacement of the killed one)');
    assert.ok(seconds < 30, `the standby led within 30 s (took ${seconds} s)`);
    const name = `${prefix}-after-failover`;
    const res = await api.post('/v1/tasks', { name, image: TASK_IMAGE, command: ['true'] });
    assert.equal(res.status, 202, res.text);
    await allSucceed([name], 5 * MINUTE);
  });

  it('loses no task and runs none twice while every Tangerine service is updated with --force', async () => {
    await waitFor('the killed placer replaced', () => allUp(want), 5 * MINUTE);
    const names = Array.from({ length: 50 }, (_, i) => `${prefix}-roll-${String(i).padStart(2, '0')}`);
    const specs = names.map((name) => ({ name, image: TASK_IMAGE, command: ['sh', '-c', `sleep 3; echo ran ${name}`] }));
    const res = await api.post('/v1/tasks', specs);
    assert.equal(res.status, 202, res.text);
    const t = Date.now();
    for (const s of TANGERINE_SERVICES) await docker(['service', 'update', '--force', '--detach', '--quiet', svc(s)]);
    const open = [...(await states(names))].filter(([, s]) => s !== 'success').length;
    assert.ok(open > 0, 'tasks were still to run when the update began');
    await waitUntil('every service updated', async () => {
      const rows = await lines(['service', 'inspect', ...TANGERINE_SERVICES.map(svc), '--format', '{{.Spec.Name}} {{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}']);
      const bad = rows.filter((r) => /rollback|paused/.test(r));
      assert.deepEqual(bad, [], 'no update rolled back or paused');
      return rows.length === TANGERINE_SERVICES.length && rows.every((r) => r.endsWith(' completed'));
    }, 30 * MINUTE);
    took('rolling update of every Tangerine service', t);
    await waitFor('every service healthy after the update', () => allUp(want), 5 * MINUTE);
    await allSucceed(names, 10 * MINUTE);
    took('50 tasks through the rolling update', t);
    const list = names.map((n) => `'${n}'`).join(',');
    const runs = await ledger.query(`SELECT task, count(*), count(*) FILTER (WHERE exit_code = 0), min(output) FROM runs WHERE task IN (${list}) GROUP BY task ORDER BY task`);
    assert.deepEqual(runs.map(([task, count, ok]) => [task, count, ok]), names.map((n) => [n, '1', '1']), 'each task has exactly one run, and it succeeded');
    for (const [task, , , output] of runs) assert.match(output ?? '', new RegExp(`ran ${task}`));
  });

  it('leaves no container, volume or network of the stack after docker stack rm', async () => {
    const t = Date.now();
    await removeStack();
    took('docker stack rm to nothing left', t);
    assert.deepEqual(await lines(['ps', '-aq', '--filter', `label=tangerine.host=${host}`]), [], 'no task container left');
    assert.deepEqual(await lines(['service', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${STACK}`]), []);
    assert.deepEqual(await lines(['secret', 'ls', '--format', '{{.Name}}', '--filter', 'name=tangerine_nkey_']), [], 'the stack\'s own secrets went with it');
    assert.deepEqual(await lines(['config', 'ls', '--format', '{{.Name}}', '--filter', 'name=tangerine_nats_']), [], 'and its configs');
    assert.deepEqual(await lines(['volume', 'ls', '-q', '--filter', `name=^${STACK}_`]), []);
    assert.deepEqual(await lines(['network', 'ls', '-q', '--filter', `name=^${NETWORK}$`]), []);
  });
});
