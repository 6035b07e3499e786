import pg from 'pg';
import type { Logger } from '@tangerine/runtime';
import { connectionConfig, stripSecrets, type LedgerOptions } from './db.js';

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
  /** How to connect: the process's ledger's own options (`ledger.options`), so both connect alike. */
  connection: LedgerOptions; key: number; log: Logger; retryMs?: number; onChange?: (leader: boolean) => void;
  application?: string;
}): Leadership {
  let client: pg.Client | null = null;
  let leader = false;
  let stopped = false;
  /** The cause of the last failure, so a ledger away for an hour gives one warning, not one a second. */
  let lastFailure: string | null = null;
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
        const c = new pg.Client(connectionConfig({ ...opts.connection, application: opts.application ?? 'tangerine-leader' }));
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
      lastFailure = null;
    } catch (err) {
      const cause = String((stripSecrets(err) as Error)?.message ?? err);
      if (cause !== lastFailure) opts.log.warn({ err: stripSecrets(err), key: opts.key }, `cannot take leadership: ${cause}`);
      else opts.log.debug({ cause }, 'leadership attempt failed again');
      lastFailure = cause;
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
