import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { LedgerRefusedError, OutageError, StartupError, TimeoutError } from '@tangerine/contracts';
import type { Logger } from '@tangerine/runtime';

export type Row = Record<string, unknown>;

/** A pool that counts its statements (the benchmark reports statements per task). */
export interface Ledger {
  readonly pool: pg.Pool;
  /** What every connection of this ledger is opened from: another connection (the placer's leadership) takes it too. */
  readonly options: LedgerOptions;
  query<R extends object = Row>(text: string, values?: unknown[]): Promise<R[]>;
  /** Runs `fn` in a transaction; rolls back if it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  statements(): number;
  close(): Promise<void>;
}

export interface Tx {
  query<R extends object = Row>(text: string, values?: unknown[]): Promise<R[]>;
}

export interface LedgerOptions {
  /** A connection string, or null to read the standard PG* variables (and Tangerine's PGPASS). */
  databaseUrl: string | null;
  /**
   * The password when the URL gives none (PGPASSWORD or PGPASSWORD_FILE, else PGPASS), as the process's config
   * resolved it; absent: read from the environment here.
   */
  password?: string | null;
  /** TLS as PGSSLMODE and its files say; absent: node-postgres reads PGSSLMODE itself. */
  ssl?: PgSsl;
  application?: string;
  /** A statement running longer than this is cancelled by the server (code 57014); 0 or absent: no limit. */
  statementTimeoutMs?: number;
}

/** libpq's TLS settings, by its names: `mode` null is no TLS. */
export interface PgSsl {
  readonly mode: 'disable' | 'require' | 'verify-ca' | 'verify-full' | null;
  /** PGSSLROOTCERT: the CA that signed the server's certificate. */
  readonly rootCert: string | null;
  /** PGSSLCERT and PGSSLKEY: a client certificate and its key. */
  readonly cert: string | null;
  readonly key: string | null;
}

/**
 * PGSSLMODE's meaning, as libpq gives it: `require` encrypts without checking the certificate (unless a root CA is
 * given: then it is `verify-ca`, as in libpq), `verify-ca` checks that the CA signed it, `verify-full` also that it
 * names the host. node-postgres's own reading differs (its `require` is `verify-full`), so the mode is resolved here
 * and pg is given the TLS options. The files are read once, when the pool is made: a renewed certificate takes a
 * restart.
 */
export function sslOptions(ssl: PgSsl): false | ConnectionOptions {
  if (ssl.mode === null || ssl.mode === 'disable') return false;
  const read = (path: string | null): Buffer | undefined => (path === null ? undefined : readFileSync(path));
  const ca = read(ssl.rootCert);
  const verify = ssl.mode !== 'require' || ca !== undefined;
  return {
    rejectUnauthorized: verify,
    ...(ca !== undefined ? { ca } : {}),
    ...(ssl.cert !== null ? { cert: read(ssl.cert) } : {}),
    ...(ssl.key !== null ? { key: read(ssl.key) } : {}),
    // verify-ca: the chain is checked, the name is not.
    ...(ssl.mode !== 'verify-full' ? { checkServerIdentity: () => undefined } : {}),
  };
}

/**
 * How every connection of a process is opened (the pool, the leadership connection, the migrations through the
 * pool), from one place: once, the leadership connection read PGPASS and the pool did not, and with only PGPASS set
 * nothing was ever placed.
 */
export function connectionConfig(opts: LedgerOptions): pg.ClientConfig {
  const password = opts.password !== undefined ? opts.password ?? undefined : process.env['PGPASSWORD'] ?? process.env['PGPASS'];
  // The URL is parsed here, as pg would parse it, rather than given as `connectionString`: pg lets the URL's empty
  // password override the one given beside it, and PGPASSWORD_FILE's would be lost. What the URL leaves out, pg reads
  // from the PG* variables.
  const url = opts.databaseUrl ? parseUrl(opts.databaseUrl) : {};
  const ssl = url.ssl ?? (opts.ssl !== undefined ? sslOptions(opts.ssl) : undefined);
  return {
    ...url,
    ...(url.password || password === undefined ? {} : { password }),
    ...(ssl !== undefined ? { ssl } : {}),
    application_name: opts.application ?? 'tangerine',
    connectionTimeoutMillis: 10000,
    // A server that vanishes without closing the socket (a failover, a cut cable) is noticed by the kernel.
    keepAlive: true,
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  };
}

/** Node's URL error keeps the whole text in its `input` field, password included: a log would print it. */
function parseUrl(url: string): pg.ClientConfig {
  try {
    return parseIntoClientConfig(url);
  } catch (err) {
    throw new StartupError('config_invalid', `DATABASE_URL: must be a connection string (${(err as { code?: string }).code ?? 'it does not parse'})`, { field: 'DATABASE_URL' });
  }
}

export function openLedger(opts: LedgerOptions & { log: Logger; max?: number }): Ledger {
  const { log: _log, max: _max, ...connection } = opts;
  const pool = new pg.Pool({ ...connectionConfig(connection), max: opts.max ?? 6 });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', (err) => opts.log.warn({ err: stripSecrets(err) }, 'idle ledger connection failed'));
  let count = 0;
  const run = async <R extends object>(client: pg.Pool | pg.PoolClient, text: string, values?: unknown[]): Promise<R[]> => {
    count += 1;
    try {
      // Named statements are parsed and planned once per connection: the hot CTEs cost more to plan than to run.
      const result = values === undefined
        ? await client.query<R & pg.QueryResultRow>(text)
        : await client.query<R & pg.QueryResultRow>({ name: statementName(text), text, values });
      return result.rows;
    } catch (err) {
      throw ledgerError(err);
    }
  };
  return {
    pool,
    options: Object.freeze(connection),
    query: (text, values) => run(pool, text, values),
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw ledgerError(err);
      }
      try {
        await run(client, 'BEGIN');
        const result = await fn({ query: (text, values) => run(client, text, values) });
        await run(client, 'COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    statements: () => count,
    close: () => pool.end(),
  };
}

const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `t${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * SQLSTATEs that say the server is away: connection exceptions (08), but for 08P01, a protocol violation, which is a
 * bug of the client and would come back every time; shutting down or starting (57P01-57P03); full (53300).
 */
const OUTAGE_SQLSTATE = /^(08(?!P01)[0-9A-Z]{3}|57P0[1-3]|53300)$/;
/**
 * SQLSTATEs that come back every time: data exceptions (22), integrity violations (23), syntax and access (42).
 * Serialization failures and deadlocks (40) and other resource limits (53) pass, and stay as they are.
 */
const REFUSED_SQLSTATE = /^(22|23|42)[0-9A-Z]{3}$/;
/** Node's codes for a socket that could not be opened or was cut. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

/**
 * Each error by its code, never by its words: a connection failure becomes `ledger_unavailable` (an outage: the
 * message waits), a statement cancelled by STATEMENT_TIMEOUT (57014) `ledger_timeout` (tried again a few times), a
 * refusal that would come back every time `ledger_refused`; anything else stays as it is, unknown (a consumer tries
 * it again a few times). Every error the server sends is a DatabaseError with a SQLSTATE, and a bug of ours a
 * TypeError or the like; pg gives no code for a connection it lost itself, nor pg-pool for a connect that timed
 * out: those are the plain Errors without a code, and are read as a lost connection.
 */
export function ledgerError(err: unknown): unknown {
  if (typeof err !== 'object' || err === null) return err;
  const code = (err as { code?: unknown }).code;
  const cause = stripSecrets(err);
  if (typeof code === 'string' && code.length === 5 && 'severity' in err) {
    if (code === '57014') return new TimeoutError('ledger_timeout', 'a ledger statement ran longer than STATEMENT_TIMEOUT', { cause });
    if (OUTAGE_SQLSTATE.test(code)) return new OutageError('ledger_unavailable', `PostgreSQL is unreachable (${code})`, { cause });
    if (REFUSED_SQLSTATE.test(code)) {
      return new LedgerRefusedError(code, `the ledger refused a statement (SQLSTATE ${code}: ${String((err as { message?: unknown }).message)})`, { cause });
    }
    return err;
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return new OutageError('ledger_unavailable', `PostgreSQL is unreachable (${code})`, { cause });
  if (code === undefined && Object.getPrototypeOf(err) === Error.prototype) {
    return new OutageError('ledger_unavailable', 'PostgreSQL is unreachable (connection lost)', { cause });
  }
  return err;
}

/** A pg error may quote the connection string; never let a password reach a log. */
export function stripSecrets(err: unknown): unknown {
  if (err instanceof Error) err.message = err.message.replace(/(postgres(?:ql)?:\/\/[^:/\s]+:)[^@\s]+@/g, '$1***@');
  return err;
}
