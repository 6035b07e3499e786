import pg from 'pg';
import type { Logger } from '@tangerine/runtime';

export interface Leadership {
  isLeader(): boolean;
  release(): Promise<void>;
}

/**
 * Holds a PostgreSQL advisory lock on its own connection while the process lives: one replica of a
 * singleton (the placer) acts, the others stand by and take over within `retryMs` when it dies, because
 * the server frees the lock with the dead connection. The ledger's compare-and-set still guards the handover.
 */
export function holdLeadership(opts: {
  databaseUrl: string | null; key: number; log: Logger; retryMs?: number; onChange?: (leader: boolean) => void;
}): Leadership {
  let client: pg.Client | null = null;
  let leader = false;
  let stopped = false;
  const set = (value: boolean): void => {
    if (leader === value) return;
    leader = value;
    opts.log.info({ leader: value }, value ? 'took leadership' : 'lost leadership');
    opts.onChange?.(value);
  };
  const attempt = async (): Promise<void> => {
    if (stopped || leader) return;
    try {
      if (!client) {
        const c = new pg.Client(opts.databaseUrl ? { connectionString: opts.databaseUrl } : {});
        c.on('error', () => {
          set(false);
          client = null;
        });
        c.on('end', () => {
          set(false);
          client = null;
        });
        await c.connect();
        client = c;
      }
      const rows = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [opts.key]);
      set(rows.rows[0]?.ok === true);
    } catch (err) {
      opts.log.debug({ err: String(err) }, 'leadership attempt failed');
      client?.end().catch(() => undefined);
      client = null;
      set(false);
    }
  };
  void attempt();
  const timer = setInterval(() => void attempt(), opts.retryMs ?? 1000);
  return {
    isLeader: () => leader,
    async release() {
      stopped = true;
      clearInterval(timer);
      set(false);
      await client?.end().catch(() => undefined);
    },
  };
}
