import { createHash, timingSafeEqual } from 'node:crypto';
import { RuleError } from '@tangerine/runtime';

/** What a token may do: `write` may also read. */
export type Access = 'read' | 'write';

/** One token of the list, by its hash: the token itself is not kept, so no log or dump can show it. */
export interface TokenEntry {
  readonly access: Access;
  /** What logs and metrics name the caller by (its line number when the list gives no name). */
  readonly name: string;
  readonly digest: Buffer;
}

/** A token shorter than this is refused: a bearer token is guessed by trying, so it must be long and random. */
export const MIN_TOKEN_CHARS = 16;
/** Characters of a token: what `openssl rand -hex`, `-base64` or a UUID gives, and nothing that needs quoting. */
const TOKEN_RE = /^[A-Za-z0-9._~+/=-]+$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Tokens in one list: each request compares against every one of them. */
export const MAX_TOKENS = 1000;

/**
 * The token list of API_TOKENS (or API_TOKENS_FILE): one token a line, `<token> <read|write> [<name>]`, blank lines
 * and `#` comments skipped. A fault names the line and the rule, never the token.
 */
export function parseTokens(text: string): TokenList {
  const entries: TokenEntry[] = [];
  const names = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const at = `line ${i + 1}`;
    const [token, access, name, ...rest] = line.split(/\s+/);
    if (rest.length > 0) throw new RuleError(`${at}: must be "<token> <read|write> [<name>]" (it has ${3 + rest.length} words)`);
    if (token === undefined || !TOKEN_RE.test(token)) throw new RuleError(`${at}: the token must be letters, digits and . _ ~ + / = -`);
    if (token.length < MIN_TOKEN_CHARS) throw new RuleError(`${at}: the token must be at least ${MIN_TOKEN_CHARS} characters (try: openssl rand -hex 32)`);
    if (access !== 'read' && access !== 'write') throw new RuleError(`${at}: the access must be read or write (got ${access === undefined ? 'nothing' : `"${access.slice(0, 20)}"`})`);
    if (name !== undefined && !NAME_RE.test(name)) throw new RuleError(`${at}: the name must match ${NAME_RE.source} (got "${name.slice(0, 64)}")`);
    const label = name ?? at.replace(' ', '-');
    if (names.has(label)) throw new RuleError(`${at}: the name "${label}" is given twice`);
    names.add(label);
    entries.push({ access, name: label, digest: digest(token) });
    if (entries.length > MAX_TOKENS) throw new RuleError(`may hold at most ${MAX_TOKENS} tokens`);
  }
  if (entries.length === 0) throw new RuleError('holds no token (a line is "<token> <read|write> [<name>]")');
  return new TokenList(entries);
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class TokenList {
  constructor(readonly entries: readonly TokenEntry[]) {}

  /**
   * The entry of this token, or null. Compared in constant time: the token's SHA-256 against every entry's, each
   * with timingSafeEqual and none skipped, so the time taken says nothing about which entry came close.
   */
  find(token: string): TokenEntry | null {
    const d = digest(token);
    let found: TokenEntry | null = null;
    for (const e of this.entries) {
      if (timingSafeEqual(d, e.digest) && found === null) found = e;
    }
    return found;
  }

  /** What a log line shows of the list. */
  toJSON(): string {
    return `${this.entries.length} token(s): ${this.entries.map((e) => `${e.name} (${e.access})`).join(', ')}`;
  }
}

/** May a token of `has` use a route of `needs`? */
export function allows(has: Access, needs: Access): boolean {
  return has === 'write' || needs === 'read';
}
