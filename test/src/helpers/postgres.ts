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
