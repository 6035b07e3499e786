import { createHash } from 'node:crypto';
import { RuleError, setting, type Setting } from './settings.js';

/** The key secret env values are sealed with in the ledger (AES-256-GCM), and its id: what a sealed value names. */
export interface SecretsKey {
  readonly key: Buffer;
  /** The first 8 hex digits of the key's SHA-256: a sealed value says which key sealed it, never the key. */
  readonly id: string;
}

const RULE = 'must be 32 bytes, written as 64 hex digits or 44 characters of base64 (`openssl rand -hex 32`); the value given is not shown';

/** 32 bytes as 64 hex digits or as base64. The text is never quoted in the error: it may be the key, mistyped. */
export function parseSecretsKey(text: string): SecretsKey {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/]{43}=$/.test(t) ? Buffer.from(t, 'base64') : null;
  if (key === null || key.length !== 32) throw new RuleError(RULE);
  return Object.freeze({ key, id: createHash('sha256').update(key).digest('hex').slice(0, 8) });
}

/**
 * SECRETS_KEY, or SECRETS_KEY_FILE naming a file that holds it (as a swarm secret is mounted; the `*_FILE` rule of
 * every secret setting): the key of the secret env values in the ledger, or null (unset) to keep them as plain JSON.
 */
export const secretsKeySetting: Setting<SecretsKey | null> = setting<SecretsKey | null>('SECRETS_KEY', parseSecretsKey, { fallback: null, secret: true });
