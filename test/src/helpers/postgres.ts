import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** The server prepared by scripts/prepare.sh, reached through the standard PG* variables. */
function adminConfig(): pg.ClientConfig {
  return { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres', database: 'postgres' };
}

/** A fresh database for one test file; dropped by the returned function. */
export async function createDatabase(prefix: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `t_${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase();
  const admin = new pg.Client(adminConfig());
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const c = adminConfig();
  const url = `postgres://${c.user}@${c.host}:${c.port}/${name}`;
  return {
    url,
    name,
    async drop() {
      const a = new pg.Client(adminConfig());
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}

export interface PostgresServer {
  url: string;
  /** Stops the server as a crash would (immediate: no checkpoint) and starts it again on the same data. */
  restart(): Promise<void>;
  /** Stops the server (as a failover or an upgrade does: fast, connections cut) and keeps its data; `up` starts it. */
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL server of its own, for a test that restarts it (chaos): Debian's binaries, a fresh data directory
 * owned by the postgres user, trust auth on 127.0.0.1 and a free port.
 */
export async function startPostgres(port: number, opts: { password?: string; ssl?: { cert: string; key: string } } = {}): Promise<PostgresServer> {
  const bin = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(a) - Number(b)).map((v) => `/usr/lib/postgresql/${v}/bin`).pop();
  if (!bin) throw new Error('no PostgreSQL binaries in /usr/lib/postgresql (scripts/prepare.sh installs them)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tangerine-pg-'));
  const data = path.join(dir, 'data');
  execFileSync('chown', ['postgres:postgres', dir]);
  const asPostgres = (cmd: string) => execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', cmd], { stdio: 'ignore' });
  if (opts.password !== undefined) {
    // Password authentication over TCP (what a managed PostgreSQL asks for); the socket stays trusted for pg_ctl.
    writeFileSync(path.join(dir, 'pw'), opts.password);
    execFileSync('chown', ['postgres:postgres', path.join(dir, 'pw')]);
    asPostgres(`${bin}/initdb -D '${data}' -U postgres --auth-host=scram-sha-256 --auth-local=trust --pwfile='${dir}/pw' -E UTF8 >/dev/null`);
  } else {
    asPostgres(`${bin}/initdb -D '${data}' -U postgres --auth=trust -E UTF8 >/dev/null`);
  }
  let ssl = '';
  if (opts.ssl) {
    // `ssl = on` with the test's certificate; the server wants its key owned by it and unreadable to others.
    copyFileSync(opts.ssl.cert, path.join(dir, 'server.crt'));
    copyFileSync(opts.ssl.key, path.join(dir, 'server.key'));
    execFileSync('chown', ['postgres:postgres', path.join(dir, 'server.crt'), path.join(dir, 'server.key')]);
    execFileSync('chmod', ['600', path.join(dir, 'server.key')]);
    ssl = ` -c ssl=on -c ssl_cert_file='${dir}/server.crt' -c ssl_key_file='${dir}/server.key'`;
  }
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='${dir}' -c fsync=off -c max_connections=200 -c autovacuum_naptime=5s${ssl}`;
  const start = () => asPostgres(`${bin}/pg_ctl -D '${data}' -l '${dir}/server.log' -o "${options}" -w start`);
  start();
  const url = opts.password !== undefined
    ? `postgres://postgres:${encodeURIComponent(opts.password)}@127.0.0.1:${port}/postgres`
    : `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    async restart() {
      asPostgres(`${bin}/pg_ctl -D '${data}' -m immediate -w stop`);
      start();
    },
    async down() {
      asPostgres(`${bin}/pg_ctl -D '${data}' -m fast -w stop`);
    },
    async up() {
      start();
    },
    async stop() {
      try {
        asPostgres(`${bin}/pg_ctl -D '${data}' -m immediate -w stop`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * SQL that puts tasks in a state directly, as a fixture, past the ledger's transition check (migration 008): the
 * check is a trigger, and `session_replication_role = replica` skips ordinary triggers for the transaction (a
 * superuser's setting; the tests connect as one). Only for a state the test could not reach through the ledger's own
 * statements in reasonable time; run through `query` without parameters (one simple-protocol round trip).
 */
export function fixtureSql(sql: string): string {
  return `BEGIN; ${SKIP_TRANSITION_CHECK}; ${sql}; COMMIT`;
}

/** The same inside a transaction the test holds: run it first. */
export const SKIP_TRANSITION_CHECK = 'SET LOCAL session_replication_role = replica';
