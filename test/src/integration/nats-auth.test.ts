// NATS with TLS and users (an nkey, a user with a password, a token, a client certificate), reached through the
// settings a process reads (NATS_NKEY_FILE, NATS_PASSWORD_FILE, NATS_TOKEN_FILE, NATS_TLS_*, NATS_INBOX_PREFIX):
// each connects, and a wrong secret fails with an error that names the server and the identity, never the secret.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, nkeys } from '@nats-io/transport-node';
import { accessOptions, connectBus, describeIdentity, ensureStreams, natsAccess, type Bus } from '@tangerine/bus';
import { TangerineClient } from '@tangerine/client';
import { TangerineError } from '@tangerine/contracts';
import { agentConnection } from '@tangerine/platform';
import { createLogger, type Env } from '@tangerine/runtime';
import { freePort, waitForPort } from '../helpers/nats.js';
import { makeCertificates, type TestCertificates } from '../helpers/tls.js';
import { waitUntil } from '../helpers/wait.js';

const log = createLogger('test', { level: 'silent', pretty: false });
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Server { url: string; stop(): Promise<void> }

/** A nats-server of its own, from a config file (TLS and users need one); JetStream on, for the publish acks. */
async function startServer(dir: string, name: string, body: (port: number) => string): Promise<Server> {
  const port = await freePort();
  const conf = path.join(dir, `${name}.conf`);
  writeFileSync(conf, `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${path.join(dir, `${name}-js`)}" }\n${body(port)}\n`);
  const child: ChildProcess = spawn('nats-server', ['-c', conf], { stdio: 'ignore' });
  await waitForPort(port);
  return {
    url: `nats://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

/** Everything an error would put in a log line (pino's errWithCause): messages, stacks and fields of the whole chain. */
function logged(err: unknown): string {
  const parts: string[] = [];
  for (let e = err; e instanceof Error; e = e.cause) parts.push(e.message, e.stack ?? '', JSON.stringify({ ...e }));
  return parts.join('\n');
}

let dir = '';
let certs: TestCertificates;
let users: Server;
let tokens: Server;
let mutual: Server;
const userKey = nkeys.createUser();
const seed = dec.decode(userKey.getSeed());
const stranger = dec.decode(nkeys.createUser().getSeed());
const PASSWORD = 'pa55-word-from-a-file';
const TOKEN = 'the-token-0f-a-file';
const file = (name: string, content: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

/** Connects as a process would: its environment compiled by the agent's connection config, then connectBus. */
async function connectAs(url: string, env: Env): Promise<Bus> {
  const config = agentConnection.compile({ NATS_URL: url, ...env });
  return connectBus({ url: config.natsUrl, name: 'nats-auth-test', log, provision: false, access: natsAccess(config) });
}

async function refused(url: string, env: Env, secret: string, identity: RegExp): Promise<void> {
  await assert.rejects(connectAs(url, env), (err: unknown) => {
    assert.ok(err instanceof TangerineError, `expected a TangerineError, got ${String(err)}`);
    assert.equal(err.code, 'bus_auth_failed');
    assert.ok(err.message.includes(url), `names the server: ${err.message}`);
    assert.match(err.message, identity);
    assert.ok(!logged(err).includes(secret), `the secret is nowhere in the error: ${logged(err)}`);
    return true;
  });
}

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-nats-auth-'));
  certs = makeCertificates();
  const tls = `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}" }`;
  // The nkey user may subscribe only under its own inbox prefix: a reply to `_INBOX.<anything else>` is refused.
  users = await startServer(dir, 'users', () => `${tls}
authorization {
  users = [
    { nkey: "${userKey.getPublicKey()}", permissions: { publish: [">"], subscribe: ["_INBOX.tester.>", "echo"] } },
    { user: "app", password: "${PASSWORD}" }
  ]
}`);
  tokens = await startServer(dir, 'tokens', () => `authorization { token: "${TOKEN}" }`);
  mutual = await startServer(dir, 'mutual', () => `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: true }`);
});

after(async () => {
  await Promise.all([users?.stop(), tokens?.stop(), mutual?.stop()]);
  certs?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('NATS over TLS with users', () => {
  it('an nkey user from NATS_NKEY_FILE connects, and every inbox (requests, publish acks) has its NATS_INBOX_PREFIX', async () => {
    const bus = await connectAs(users.url, { NATS_TLS_CA: certs.ca, NATS_NKEY_FILE: file('user.nk', `${seed}\n`), NATS_INBOX_PREFIX: '_INBOX.tester' });
    try {
      assert.equal(bus.nc.info?.tls_required, true, 'the connection is TLS');
      bus.nc.subscribe('echo', { callback: (_e, m) => { m.respond(m.data); } });
      const reply = await bus.nc.request('echo', enc.encode('hi'), { timeout: 5000 });
      assert.equal(dec.decode(reply.data), 'hi');
      const jsm = await jetstreamManager(bus.nc);
      await jsm.streams.add({ name: 'AUTH_TEST', subjects: ['auth.test'] });
      // The ack comes to the publisher's inbox: outside `_INBOX.tester.>` the server would refuse its subscription.
      await bus.publisher.publish('auth.test', enc.encode('x'), 'auth-test-1');
      assert.equal((await jsm.streams.info('AUTH_TEST')).state.messages, 1);
    } finally {
      await bus.close();
    }
  });

  it('the TangerineClient takes the same options: its requests and its watch (an ordered consumer) use the inbox prefix', async () => {
    const bus = await connectAs(users.url, { NATS_TLS_CA: certs.ca, NATS_NKEY_FILE: file('user2.nk', seed), NATS_INBOX_PREFIX: '_INBOX.tester' });
    const client = await TangerineClient.connect({
      servers: users.url, ...accessOptions(natsAccess(agentConnection.compile({ NATS_TLS_CA: certs.ca, NATS_NKEY: seed, NATS_INBOX_PREFIX: '_INBOX.tester' }))),
      requestTimeoutMs: 5000,
    });
    try {
      await ensureStreams(bus.jsm);
      const watch = await client.watch({ from: 'first' });
      const reading = (async () => { for await (const _e of watch) { /* none is valid: counted in skipped */ } })();
      // Not a valid event: the watch passes it over and counts it, once the consumer delivered it to its inbox.
      await bus.publisher.publish('tasks.events.x.success', enc.encode('{}'), 'auth-test-event');
      await waitUntil('the watch received the message', () => watch.skipped === 1, 10000);
      watch.stop();
      await reading;
    } finally {
      await client.close();
      await bus.close();
    }
  });

  it('an nkey the server does not know fails, naming the server and the public key, never the seed', async () => {
    const env = { NATS_TLS_CA: certs.ca, NATS_NKEY_FILE: file('stranger.nk', stranger) };
    const publicKey = describeIdentity(natsAccess(agentConnection.compile({ ...env })));
    assert.match(publicKey, /^nkey user U[A-Z2-7]{55}$/);
    await refused(users.url, env, stranger, new RegExp(publicKey.replace(/ /g, '\\s')));
  });

  it('a user with NATS_PASSWORD_FILE connects', async () => {
    const bus = await connectAs(users.url, { NATS_TLS_CA: certs.ca, NATS_USER: 'app', NATS_PASSWORD_FILE: file('pw', `${PASSWORD}\n`) });
    await bus.close();
  });

  it('a wrong password fails naming the user, never the password', async () => {
    await refused(users.url, { NATS_TLS_CA: certs.ca, NATS_USER: 'app', NATS_PASSWORD_FILE: file('wrong-pw', 'not-the-password-42\n') },
      'not-the-password-42', /refused user "app"/);
  });

  it('a server certificate signed by another CA fails, before any secret is sent', async () => {
    await refused(users.url, { NATS_TLS_CA: certs.otherCa, NATS_USER: 'app', NATS_PASSWORD_FILE: file('pw2', PASSWORD) }, PASSWORD, /TLS/);
  });
});

describe('credentials refused after the first connection', () => {
  it('are tried again like a lost connection, logged as refused with the identity and never the secret, and recover', async () => {
    const reloadable = path.join(dir, 'reload.conf');
    const port = await freePort();
    const conf = (password: string): void => writeFileSync(reloadable,
      `listen: "127.0.0.1:${port}"\njetstream { store_dir: "${path.join(dir, 'reload-js')}" }\nauthorization { users = [ { user: "app", password: "${password}" } ] }\n`);
    conf(PASSWORD);
    const child = spawn('nats-server', ['-c', reloadable], { stdio: 'ignore' });
    const lines: string[] = [];
    const destination = new Writable({ write(chunk: Buffer, _e, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
    const captured = createLogger('test', { level: 'info', pretty: false, destination });
    try {
      await waitForPort(port);
      const config = agentConnection.compile({ NATS_URL: `nats://127.0.0.1:${port}`, NATS_USER: 'app', NATS_PASSWORD_FILE: file('reload-pw', PASSWORD) });
      const bus = await connectBus({ url: config.natsUrl, name: 'reload-test', log: captured, provision: false, access: natsAccess(config) });
      try {
        // The server's users change: this process's password is no longer one (SIGHUP reloads nats-server's config).
        conf('another-password-entirely');
        child.kill('SIGHUP');
        await waitUntil('the refusal is logged', () => lines.some((l) => l.includes('refused user \\"app\\"')), 15000);
        assert.equal(bus.nc.isClosed(), false, 'still trying');
        assert.equal(bus.connectedSince(), null);
        conf(PASSWORD);
        child.kill('SIGHUP');
        await waitUntil('the connection is back', () => bus.connectedSince() !== null, 15000);
        const refusals = lines.filter((l) => l.includes('refused user'));
        assert.equal(refusals.length, 1, 'said once, not at every try');
        assert.equal((JSON.parse(refusals[0]!) as { level: number }).level, 50, 'at error level');
        assert.ok(lines.every((l) => !l.includes(PASSWORD)), 'no line carries the password');
      } finally {
        await bus.close();
      }
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('NATS with a token, and with client certificates', () => {
  it('NATS_TOKEN_FILE connects; a wrong token fails naming "a token", never the token', async () => {
    const bus = await connectAs(tokens.url, { NATS_TOKEN_FILE: file('token', `${TOKEN}\n`) });
    await bus.close();
    await refused(tokens.url, { NATS_TOKEN: 'wrong-token-77' }, 'wrong-token-77', /refused a token/);
  });

  it('no credentials at all fails too, said as such', async () => {
    await refused(tokens.url, {}, TOKEN, /refused a connection without credentials/);
  });

  it('a server that verifies its clients takes NATS_TLS_CERT and NATS_TLS_KEY, and refuses a client without them', async () => {
    const bus = await connectAs(mutual.url, { NATS_TLS_CA: certs.ca, NATS_TLS_CERT: certs.clientCert, NATS_TLS_KEY: certs.clientKey });
    assert.equal(bus.nc.isClosed(), false);
    await bus.close();
    // Without a client certificate the server ends the handshake unanswered (a timeout, which connectBus would take for
    // a server not up yet and wait out): the certificate is what let the first connection in.
    await assert.rejects(connect({ servers: mutual.url, tls: { caFile: certs.ca }, timeout: 2000 }), (err: unknown) => err instanceof Error);
  });
});
