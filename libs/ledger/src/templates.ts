import { InternalError, RowError, type CheckedTemplate, type TemplateRef, type TemplateView } from '@tangerine/contracts';
import type { SecretsKey } from '@tangerine/runtime';
import type { Ledger } from './db.js';
import { openSecrets, sealSecrets } from './secrets.js';

/** What a put did: the version that holds its content, and whether the put wrote it. */
export interface PutResult {
  version: number;
  created: boolean;
}

/**
 * Tries of the compare-and-set before giving up: each lost try means another put of the same name wrote a version
 * between our read and our insert, so ten in a row would take ten concurrent puts of one name with distinct content.
 */
const PUT_TRIES = 10;

interface VersionRow {
  version: number;
  spec: unknown;
  description: string | null;
  secrets: unknown;
  own: boolean;
  latest: boolean;
}

/**
 * Stores a template: a new version (the latest plus one) unless its content (spec, description and secret values)
 * equals the latest version's, or it is a redelivery of the put that wrote a version (`seq`, with the same content).
 * Two statements, no lock: the read of the latest version and of this put's own, then an insert of the next version
 * that does nothing if another put took that version first (the primary key is the compare-and-set), in which case
 * the read is made again.
 */
export async function putTemplate(
  ledger: Ledger, t: CheckedTemplate, seq: number | null, options: { secretsKey?: SecretsKey | null } = {},
): Promise<PutResult> {
  const key = options.secretsKey ?? null;
  const secrets = Object.keys(t.secrets).length > 0 ? t.secrets : null;
  for (let i = 0; i < PUT_TRIES; i++) {
    const rows = await ledger.query<VersionRow>(
      `SELECT version, spec, description, secrets, coalesce(put_seq = $2, false) AS own,
              version = (SELECT max(version) FROM templates WHERE name = $1) AS latest
         FROM templates
        WHERE name = $1 AND (put_seq = $2 OR version = (SELECT max(version) FROM templates WHERE name = $1))`,
      [t.name, seq],
    );
    const same = (r: VersionRow): boolean => sameJson(r.spec, t.spec) && (r.description ?? null) === t.description
      && sameJson(openSecrets(r.secrets, key) ?? {}, secrets ?? {});
    // A redelivery carries the same content as the put it repeats; a put with another content is not one (the
    // stream's sequences start again if it is made anew).
    const own = rows.find((r) => r.own && same(r));
    if (own) return { version: own.version, created: false };
    const latest = rows.find((r) => r.latest);
    if (latest && same(latest)) return { version: latest.version, created: false };
    const next = (latest?.version ?? 0) + 1;
    const inserted = await ledger.query<{ version: number }>(
      `INSERT INTO templates (name, version, spec, description, secrets, put_seq) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (name, version) DO NOTHING RETURNING version`,
      [t.name, next, JSON.stringify(t.spec), t.description, secrets === null ? null : JSON.stringify(sealSecrets(secrets, key)), seq],
    );
    if (inserted.length > 0) return { version: next, created: true };
  }
  throw new InternalError(`template ${t.name}: ${PUT_TRIES} other puts of it wrote a version first; put it again`);
}

interface ViewRow {
  name: string;
  version: number;
  description: string | null;
  spec: unknown;
  created_at: Date;
}

const VIEW = 'name, version, description, spec, created_at';

function toView(r: ViewRow): TemplateView {
  return { name: r.name, version: r.version, description: r.description, spec: specOf(r.spec, r.name), created_at: r.created_at.toISOString() };
}

function specOf(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RowError(`templates.spec: the template ${name} holds no JSON object (read back from the ledger)`, { field: 'templates.spec' });
  }
  return value as Record<string, unknown>;
}

/** One version of a template (the latest without `version`), or null. */
export async function getTemplate(ledger: Ledger, name: string, version?: number): Promise<TemplateView | null> {
  const [row] = await ledger.query<ViewRow>(
    `SELECT ${VIEW} FROM templates WHERE name = $1 AND ($2::int IS NULL OR version = $2) ORDER BY version DESC LIMIT 1`,
    [name, version ?? null],
  );
  return row ? toView(row) : null;
}

/** The latest version of each template by name, after `after`: at most `limit`, plus one when another page follows. */
export async function listTemplates(ledger: Ledger, page: { after?: string; limit: number }): Promise<TemplateView[]> {
  const rows = await ledger.query<ViewRow>(
    `SELECT DISTINCT ON (name) ${VIEW} FROM templates WHERE ($1::text IS NULL OR name > $1) ORDER BY name, version DESC LIMIT $2`,
    [page.after ?? null, page.limit + 1],
  );
  return rows.map(toView);
}

/** A template as a submission is merged with it: its spec with the secret values in place of "(secret)". */
export interface ResolvedTemplate {
  name: string;
  version: number;
  spec: Record<string, unknown>;
}

/** What readTemplates found for a reference: the template, or what is missing (`latest`: null when no version at all). */
export type Resolution = { found: ResolvedTemplate; latest?: undefined } | { found: null; latest: number | null };

/** `name` or `name:version`: the key readTemplates answers each reference under. */
export function refKey(ref: TemplateRef): string {
  return ref.version === null ? ref.name : `${ref.name}:${ref.version}`;
}

/**
 * The templates a batch of submissions names, in one statement, each with its secret values opened: for every
 * reference (by refKey) the version asked (the latest when none is), or what is missing.
 */
export async function readTemplates(ledger: Ledger, refs: readonly TemplateRef[], options: { secretsKey?: SecretsKey | null } = {}): Promise<Map<string, Resolution>> {
  const unique = [...new Map(refs.map((r) => [refKey(r), r])).values()];
  const rows = await ledger.query<{ name: string; asked: number | null; version: number | null; spec: unknown; secrets: unknown; latest: number | null }>(
    `SELECT r.name, r.asked, t.version, t.spec, t.secrets, (SELECT max(version) FROM templates WHERE name = r.name) AS latest
       FROM unnest($1::text[], $2::int[]) AS r(name, asked)
       LEFT JOIN LATERAL (
         SELECT version, spec, secrets FROM templates t
          WHERE t.name = r.name AND (r.asked IS NULL OR t.version = r.asked) ORDER BY t.version DESC LIMIT 1
       ) t ON true`,
    [unique.map((r) => r.name), unique.map((r) => r.version)],
  );
  const out = new Map<string, Resolution>();
  for (const row of rows) {
    const key = refKey({ name: row.name, version: row.asked });
    if (row.version === null) {
      out.set(key, { found: null, latest: row.latest });
      continue;
    }
    const spec = specOf(row.spec, row.name);
    const secrets = openTemplateSecrets(row.secrets, row.name, options.secretsKey ?? null);
    out.set(key, { found: { name: row.name, version: row.version, spec: secrets === null ? spec : { ...spec, secret_env: secrets } } });
  }
  return out;
}

function openTemplateSecrets(stored: unknown, name: string, key: SecretsKey | null): Record<string, unknown> | null {
  try {
    return openSecrets(stored, key);
  } catch (err) {
    // openSecrets names task_secrets.env: the same rule, about this table's column.
    const message = err instanceof Error ? err.message.replace('task_secrets.env', `templates.secrets (template ${name})`) : String(err);
    throw new RowError(message, { field: 'templates.secrets', cause: err });
  }
}

/** Equal as JSON values, whatever the order of object keys (jsonb gives them back in its own order). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bl = b as unknown[];
    return a.length === bl.length && a.every((v, i) => sameJson(v, bl[i]));
  }
  const ak = Object.keys(a);
  const bo = b as Record<string, unknown>;
  return ak.length === Object.keys(bo).length && ak.every((k) => Object.hasOwn(bo, k) && sameJson((a as Record<string, unknown>)[k], bo[k]));
}
