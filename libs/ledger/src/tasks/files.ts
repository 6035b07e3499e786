import { FINISHED_STATES } from '@tangerine/contracts';
import type { Ledger } from '../db.js';

/**
 * Of these object digests (sha256 hex), those no kept task names in its `files`: a task is kept while it is not
 * finished, or finished (its `updated_at`) at or after `finishedAfter`. One statement for a page of digests, each
 * a lookup of the partial GIN index tasks_files (migration 011).
 */
export async function unreferencedFiles(ledger: Ledger, digests: readonly string[], finishedAfter: Date): Promise<string[]> {
  if (digests.length === 0) return [];
  const rows = await ledger.query<{ sha256: string }>(
    `SELECT d.sha256 FROM unnest($1::text[]) AS d(sha256)
      WHERE NOT EXISTS (
        SELECT 1 FROM tasks t
         WHERE t.spec ? 'files'
           AND t.spec -> 'files' @> jsonb_build_array(jsonb_build_object('sha256', d.sha256))
           AND (NOT (t.state = ANY($2::text[])) OR t.updated_at >= $3))`,
    [digests, FINISHED_STATES, finishedAfter],
  );
  return rows.map((r) => r.sha256);
}
