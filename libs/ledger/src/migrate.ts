import { readdir, readFile } from 'node:fs/promises';
import { StartupError } from '@tangerine/contracts';
import type { Logger } from '@tangerine/runtime';
import type { Ledger } from './db.js';

const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url);
/** Any fixed number: every Tangerine process migrating takes this lock, so only one applies a migration. */
const MIGRATION_LOCK = 7_240_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(files.map(async (file) => ({
    version: Number(file.slice(0, 3)),
    name: file,
    sql: await readFile(new URL(file, MIGRATIONS_DIR), 'utf8'),
  })));
}

/**
 * Applies the migrations this binary knows and the database lacks, in one transaction under an advisory lock,
 * so two processes starting at once cannot both apply one. A database newer than the binary refuses it.
 */
export async function migrate(ledger: Ledger, log: Logger): Promise<number[]> {
  const migrations = await loadMigrations();
  const known = Math.max(0, ...migrations.map((m) => m.version));
  return ledger.transaction(async (tx) => {
    // A migration may rebuild an index of a large table: STATEMENT_TIMEOUT is for the services' statements.
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS tangerine_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const rows = await tx.query<{ version: number }>('SELECT version FROM tangerine_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    if (newest > known) {
      throw new StartupError('migration_too_new',
        `the database is at schema version ${newest}, but this binary knows only up to ${known}: upgrade Tangerine`);
    }
    const done: number[] = [];
    for (const m of migrations.filter((m) => !applied.has(m.version))) {
      await tx.query('INSERT INTO tangerine_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      await tx.query(m.sql);
      log.info({ migration: m.name }, 'migration applied');
      done.push(m.version);
    }
    return done;
  });
}
