import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { addAgent, initIdentities, readIdentities, seedFile, writeAuthorization } from '@tangerine/bus';
import { identityName, inboxPrefix, type Role } from '@tangerine/contracts';
import type { ServiceName } from './processes.js';

/**
 * Tangerine's generated NATS identities for one test cluster (libs/bus identities.ts, as `npm start` makes them):
 * a directory with the seeds and nats-server's configuration, which includes the generated auth.conf.
 */
export class TestIdentities {
  private constructor(readonly dir: string, readonly serverConfig: string) {}

  static create(hosts: readonly string[] = []): TestIdentities {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-identities-'));
    initIdentities(dir, 'local');
    for (const h of hosts) addAgent(dir, h);
    const serverConfig = path.join(dir, 'server.conf');
    writeFileSync(serverConfig, 'include "auth.conf"\n');
    return new TestIdentities(dir, serverConfig);
  }

  has(role: Role): boolean {
    return readIdentities(this.dir).entries.some((e) => e.name === identityName(role));
  }

  /** Adds an agent's identity; true when it is new (the server must reload). */
  addAgent(host: string): boolean {
    if (this.has({ kind: 'agent', host })) return false;
    addAgent(this.dir, host);
    writeAuthorization(this.dir);
    return true;
  }

  /** What a process started as this identity gets in its environment. */
  env(role: Role): Record<string, string> {
    return { NATS_NKEY_FILE: seedFile(this.dir, identityName(role)), NATS_INBOX_PREFIX: inboxPrefix(role) };
  }

  /** nats.js options to connect as this identity. */
  options(role: Role): Partial<ConnectionOptions> {
    const seed = readFileSync(seedFile(this.dir, identityName(role)), 'utf8').trim();
    return { authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), inboxPrefix: inboxPrefix(role) };
  }

  async connect(url: string, role: Role, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
    return connect({ servers: url, name: `test-${identityName(role)}`, ...this.options(role), ...extra });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The identity a process of this service connects as: an agent's is its host's, `combined` is npm start's. */
export function roleOf(name: ServiceName, host = 'local'): Role {
  if (name === 'agent') return { kind: 'agent', host };
  if (name === 'combined') return { kind: 'tangerine', host };
  return { kind: 'service', service: name };
}

/**
 * A bench's identities for these agent hosts, as npm start and the stack run; null with BENCH_AUTH=off (an open
 * server, to compare).
 */
export function benchIdentities(hosts: readonly string[]): TestIdentities | null {
  return process.env['BENCH_AUTH'] === 'off' ? null : TestIdentities.create(hosts);
}
