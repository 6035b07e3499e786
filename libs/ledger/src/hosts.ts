import type { HostAnnounce } from '@tangerine/contracts';
import type { Ledger } from './db.js';

export interface HostRow {
  id: string;
  labels: Record<string, string>;
  slots: number;
  executors: string[];
  cpu: number;
  memory: number;
  state: 'up' | 'draining' | 'down';
  last_seen: Date;
}

/** Many announcements, one statement: heartbeats of a large fleet cost one write per interval. */
export async function upsertHosts(ledger: Ledger, hosts: readonly HostAnnounce[]): Promise<void> {
  if (hosts.length === 0) return;
  await ledger.query(
    `INSERT INTO hosts AS h (id, labels, slots, executors, cpu, memory, last_seen)
     SELECT v.id, v.labels, v.slots, string_to_array(v.executors, ','), v.cpu, v.memory, v.at
       FROM unnest($1::text[], $2::jsonb[], $3::int[], $4::text[], $5::real[], $6::int[], $7::timestamptz[])
         AS v(id, labels, slots, executors, cpu, memory, at)
     ON CONFLICT (id) DO UPDATE SET labels = EXCLUDED.labels, slots = EXCLUDED.slots, executors = EXCLUDED.executors,
       cpu = EXCLUDED.cpu, memory = EXCLUDED.memory, last_seen = greatest(h.last_seen, EXCLUDED.last_seen),
       state = CASE WHEN h.state = 'down' THEN 'up' ELSE h.state END`,
    [
      hosts.map((h) => h.host), hosts.map((h) => JSON.stringify(h.labels)), hosts.map((h) => h.slots),
      hosts.map((h) => h.executors.join(',')), hosts.map((h) => h.cpu), hosts.map((h) => h.memory), hosts.map((h) => h.at),
    ],
  );
}

export async function listHosts(ledger: Ledger): Promise<HostRow[]> {
  return ledger.query<HostRow>('SELECT id, labels, slots, executors, cpu, memory, state, last_seen FROM hosts ORDER BY id');
}
