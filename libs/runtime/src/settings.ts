import { readFileSync, statSync } from 'node:fs';
import { LABEL_KEY_RE, LABEL_KEY_RULE, StartupError, normalizeHostPath, isTangerineError, type TangerineError } from '@tangerine/contracts';

/**
 * Settings from the environment. A setting is declared once (its variable, its rule and its default), a service
 * lists the settings it reads (`defineConfig`), and the process compiles them once at start: a bad value, or two
 * values that contradict each other, stop it with a message naming the variable(s) and the rule.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** A parser: the variable's text → its value, or a `RuleError` saying what the text must be. */
export type Parser<T> = (text: string) => T;

/** Thrown by a parser: `rule` is completed with the variable's name by the setting that ran it. */
export class RuleError extends Error {
  override readonly name = 'RuleError';
}

export interface Setting<T> {
  readonly variable: string;
  /** Every variable it reads: `variable`, and for a secret also `<variable>_FILE`. */
  readonly variables: readonly string[];
  /** A secret: never quoted in an error, and may come from a file (`<variable>_FILE`). */
  readonly secret: boolean;
  /** The variable that gives the value in `env` (`<variable>_FILE` for a secret read from a file), for messages. */
  sourceOf(env: Env): string;
  read(env: Env): T;
}

interface SettingOptions<T> {
  /** The value when the variable is unset (a function when it depends on the machine). */
  fallback: T | (() => T);
  /** An empty variable counts as unset (the default); false for those where "" must be refused. */
  emptyIsUnset?: boolean;
  /**
   * A secret (a password, a token, a URL that may hold one): it may instead be given as `<variable>_FILE`, the path
   * of a file holding it, as Docker and Kubernetes mount secrets; both set is refused. Its value is never quoted in
   * an error.
   */
  secret?: boolean;
}

/** A secret file larger than this is refused: a secret is a line, a creds file a few kB. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

/** Declares a setting; its value when unset is `fallback`. */
export function setting<T>(variable: string, parse: Parser<T>, opts: SettingOptions<T>): Setting<T> {
  const emptyIsUnset = opts.emptyIsUnset ?? true;
  const secret = opts.secret ?? false;
  const fileVariable = `${variable}_FILE`;
  const given = (text: string | undefined): text is string => text !== undefined && !(emptyIsUnset && text === '');
  const fromFile = (env: Env): boolean => secret && env[fileVariable] !== undefined && env[fileVariable] !== '';
  return Object.freeze({
    variable,
    variables: secret ? [variable, fileVariable] : [variable],
    secret,
    sourceOf: (env: Env) => (fromFile(env) ? fileVariable : variable),
    read(env: Env): T {
      let text = env[variable];
      let source = variable;
      if (fromFile(env)) {
        if (given(text)) throw configError(`${variable}, ${fileVariable}`, `give the secret once: ${variable} or ${fileVariable}, not both`, variable);
        source = fileVariable;
        text = readSecretFile(fileVariable, env[fileVariable]!);
      }
      if (!given(text)) {
        return typeof opts.fallback === 'function' ? (opts.fallback as () => T)() : opts.fallback;
      }
      try {
        return parse(text);
      } catch (err) {
        if (err instanceof RuleError) throw configError(source, secret ? withoutSecret(err.message, text) : err.message, variable);
        throw err;
      }
    },
  });
}

/**
 * A secret file's content, its trailing line breaks dropped (as the shell's `$(cat file)` does: `echo secret > file`
 * must give `secret`). A file that cannot be read, is not a file, is empty or larger than MAX_SECRET_FILE_BYTES is
 * refused naming the variable and the path, never the content.
 */
export function readSecretFile(variable: string, path: string): string {
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw configError(variable, `"${path}" is not a file`);
    if (stat.size > MAX_SECRET_FILE_BYTES) throw configError(variable, `"${path}" is larger than ${MAX_SECRET_FILE_BYTES} bytes: not a secret`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isTangerineError(err)) throw err;
    throw configError(variable, `cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const value = text.replace(/[\r\n]+$/, '');
  if (value === '') throw configError(variable, `"${path}" is empty`);
  return value;
}

/** A rule's message about a secret: the `(got "…")` a parser adds and any copy of the text itself are dropped. */
function withoutSecret(message: string, text: string): string {
  const cut = message.replace(/ \(got "[\s\S]*"\)$/, '');
  return text.length > 0 ? cut.split(text).join('[secret]') : cut;
}

// --- Parsers: pure, each with its rule in the message. ---

export const Parse = {
  /** Seconds, above 0, at most `max`: the result in milliseconds (at least 1 ms). */
  seconds(max = Number.POSITIVE_INFINITY): Parser<number> {
    return (text) => {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new RuleError(`must be a positive number of seconds (got "${text}")`);
      if (n > max) throw new RuleError(`must be a number of seconds up to ${max} (got "${text}")`);
      return Math.max(1, Math.round(n * 1000));
    };
  },

  /** Seconds as for `seconds`, or exactly 0 for "off": the result in milliseconds. */
  secondsOrOff(): Parser<number> {
    return (text) => {
      const n = Number(text);
      if (text.trim() !== '' && n === 0) return 0;
      if (text.trim() === '' || !Number.isFinite(n) || n <= 0) {
        throw new RuleError(`must be a positive number of seconds, or 0 for off (got "${text}")`);
      }
      return Math.max(1, Math.round(n * 1000));
    };
  },

  /** An integer from `min` to `max`. */
  integer(min: number, max: number): Parser<number> {
    return (text) => {
      const n = Number(text);
      // Digits only: Number() would also take "0x10" and "1e3".
      if (!/^\s*[+-]?\d+\s*$/.test(text) || !Number.isInteger(n) || n < min || n > max) {
        throw new RuleError(`must be an integer from ${min} to ${max} (got "${text}")`);
      }
      return n;
    };
  },

  /** A share: above 0, at most 1. */
  share(): Parser<number> {
    return (text) => {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1) throw new RuleError(`must be a number above 0 and at most 1 (got "${text}")`);
      return n;
    };
  },

  /** A size in bytes, a plain integer (no units), at least `min`. */
  bytes(min: number): Parser<number> {
    return Parse.integer(min, Number.MAX_SAFE_INTEGER);
  },

  /** One of `choices`. */
  choice<C extends string>(choices: readonly C[]): Parser<C> {
    return (text) => {
      if (!(choices as readonly string[]).includes(text)) throw new RuleError(`must be one of ${choices.join(', ')} (got "${text}")`);
      return text as C;
    };
  },

  /** Text matching `pattern` (its source is the rule). */
  matching(pattern: RegExp): Parser<string> {
    return (text) => {
      if (!pattern.test(text)) throw new RuleError(`must match ${pattern.source.replace(/^\^|\$$/g, '')} (got "${text}")`);
      return text;
    };
  },

  /**
   * A comma-separated list of URLs with one of `protocols` (`nats:`), or, when `bareHost` is set, `host:port` as the
   * NATS client also takes. Returned as given: the client reads it.
   */
  urls(protocols: readonly string[], opts: { bareHost?: boolean } = {}): Parser<string> {
    return (text) => {
      const parts = text.split(',').map((s) => s.trim());
      for (const part of parts) {
        if (opts.bareHost && /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(part) && part !== '') continue;
        let url: URL;
        try {
          url = new URL(part);
        } catch {
          throw new RuleError(`must be a URL such as ${protocols[0]}//host:port (got "${redactUrl(part)}")`);
        }
        if (!protocols.includes(url.protocol)) {
          throw new RuleError(`must be a URL with a scheme of ${protocols.join(', ')} (got "${redactUrl(part)}")`);
        }
      }
      return text;
    };
  },

  /** `zone=a,gpu=true` → `{zone: "a", gpu: "true"}`; a bare `gpu` means `gpu=true`. */
  labels(): Parser<Readonly<Record<string, string>>> {
    return (text) => {
      const labels: Record<string, string> = {};
      for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
        const eq = part.indexOf('=');
        const key = eq < 0 ? part : part.slice(0, eq);
        if (!LABEL_KEY_RE.test(key)) throw new RuleError(`label "${key}" must match ${LABEL_KEY_RULE}`);
        labels[key] = eq < 0 ? 'true' : part.slice(eq + 1);
      }
      return Object.freeze(labels);
    };
  },

  /** A comma-separated list, each item one of `choices`; blanks are skipped, the order kept, repeats dropped. */
  list<C extends string>(choices: readonly C[]): Parser<readonly C[]> {
    return (text) => {
      const items: C[] = [];
      for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!(choices as readonly string[]).includes(item)) throw new RuleError(`each item must be one of ${choices.join(', ')} (got "${item}")`);
        if (!items.includes(item as C)) items.push(item as C);
      }
      return Object.freeze(items);
    };
  },

  /** A comma-separated list of absolute paths, each normalized (`/tmp/` → `/tmp`); blanks skipped, repeats dropped. */
  paths(): Parser<readonly string[]> {
    return (text) => {
      const paths: string[] = [];
      for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!item.startsWith('/')) throw new RuleError(`each item must be an absolute path (got "${item}")`);
        const path = normalizeHostPath(item);
        if (!paths.includes(path)) paths.push(path);
      }
      return Object.freeze(paths);
    };
  },

  /** A yes/no: true, false, 1, 0, yes, no (any case). */
  boolean(): Parser<boolean> {
    return (text) => {
      const t = text.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(t)) return true;
      if (['false', '0', 'no'].includes(t)) return false;
      throw new RuleError(`must be true or false (got "${text}")`);
    };
  },

  /** An IANA time zone name that Intl knows; a leading `:` (as glibc's TZ takes) is dropped, "" is UTC. */
  timezone(): Parser<string> {
    return (text) => {
      const tz = text.replace(/^:/, '') || 'UTC';
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return tz;
      } catch {
        throw new RuleError(`must be an IANA time zone name such as "Europe/Berlin" or "UTC" (got "${text}")`);
      }
    };
  },

  /** Any text. */
  text(): Parser<string> {
    return (text) => text;
  },

  /** The path of a file this process can read (a certificate, a key, a creds file); returned as given. */
  readableFile(): Parser<string> {
    return (text) => {
      readable(text);
      return text;
    };
  },

  /**
   * An nkey user seed, as `nk -gen user` writes it and `nats --nkey` reads it: the first line that starts with `SU`
   * (a decorated file's other lines are passed over). Its text is never quoted.
   */
  nkeySeed(): Parser<string> {
    return (text) => {
      const seed = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.startsWith('SU'));
      if (seed === undefined || !NKEY_USER_SEED.test(seed)) {
        throw new RuleError('must hold an nkey user seed: a line of 58 characters starting with SU, as `nk -gen user` writes');
      }
      return seed;
    };
  },

  /**
   * The path of a NATS .creds file (a user JWT and its nkey seed, as `nsc generate creds` writes); returned as given,
   * read again at each connection, so that a renewed file is taken without a restart.
   */
  credsFile(): Parser<string> {
    return (text) => {
      const content = readable(text);
      if (!content.includes('-----BEGIN NATS USER JWT-----') || !/^\s*SU[A-Z2-7]{56}\s*$/m.test(content)) {
        throw new RuleError(`must be a NATS .creds file, with a user JWT and an nkey seed ("${text}" is not)`);
      }
      return text;
    };
  },

  /** A subject prefix: tokens of letters, digits, `_` and `-`, separated by dots (no wildcards), at most `max` long. */
  subjectPrefix(max = 64): Parser<string> {
    return (text) => {
      if (text.length > max || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(text)) {
        throw new RuleError(`must be subject tokens of A-Z, a-z, 0-9, _ and - separated by dots, at most ${max} characters (got "${text}")`);
      }
      return text;
    };
  },
} as const;

/** An nkey user seed: `SU` and 56 more base32 characters (a prefix byte pair, 32 bytes of key, a CRC). */
const NKEY_USER_SEED = /^SU[A-Z2-7]{56}$/;

/** The file's content; a RuleError naming the path when it cannot be read or is no file. */
function readable(path: string): string {
  try {
    if (!statSync(path).isFile()) throw new RuleError(`must be a readable file ("${path}" is not a file)`);
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof RuleError) throw err;
    throw new RuleError(`must be a readable file (cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** `postgres://user:secret@db/x` → `postgres://user:***@db/x`: a refused URL may still hold a password. */
function redactUrl(text: string): string {
  return text.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

// --- Conflicts between settings. ---

/** Two settings whose values must agree, checked whenever a config holds both. */
export interface Conflict {
  readonly settings: readonly [Setting<unknown>, Setting<unknown>];
  /**
   * The rule in words, naming both variables. Called with the two values when `holds` is false, and the variables
   * they came from (`NATS_TOKEN_FILE` for a token read from a file).
   */
  explain(a: unknown, b: unknown, names: readonly [string, string]): string;
  holds(a: unknown, b: unknown): boolean;
}

export function conflict<A, B>(
  a: Setting<A>, b: Setting<B>, holds: (a: A, b: B) => boolean, explain: (a: A, b: B, names: readonly [string, string]) => string,
): Conflict {
  return Object.freeze({
    settings: [a, b] as const,
    holds: (x: unknown, y: unknown) => holds(x as A, y as B),
    explain: (x: unknown, y: unknown, names: readonly [string, string]) => explain(x as A, y as B, names),
  });
}

// --- A service's config. ---

export type ConfigOf<S> = S extends ConfigSpec<infer C> ? C : never;
type Values<S extends Record<string, Setting<unknown>>> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export interface ConfigSpec<C> {
  /** The variables this config reads, for documentation and its test. */
  readonly variables: readonly string[];
  readonly settings: Readonly<Record<string, Setting<unknown>>>;
  readonly conflicts: readonly Conflict[];
  /** Reads every setting, then checks every conflict between two of them; throws one error listing all problems. */
  compile(env?: Env): C;
}

/**
 * The settings a service reads, under the names its code uses. `conflicts` lists the rules between two settings;
 * one applies when the config holds both (a rule named for settings this config lacks is skipped).
 */
export function defineConfig<S extends Record<string, Setting<unknown>>>(settings: S, conflicts: readonly Conflict[] = []): ConfigSpec<Values<S>> {
  const variables = [...new Set(Object.values(settings).flatMap((s) => s.variables))];
  return Object.freeze({
    variables,
    settings,
    conflicts,
    compile(env: Env = process.env): Values<S> {
      const problems: TangerineError[] = [];
      const values: Record<string, unknown> = {};
      const bySetting = new Map<Setting<unknown>, unknown>();
      for (const [key, s] of Object.entries(settings)) {
        try {
          values[key] = s.read(env);
          bySetting.set(s, values[key]);
        } catch (err) {
          if (!isTangerineError(err)) throw err;
          problems.push(err);
        }
      }
      for (const c of conflicts) {
        const [a, b] = c.settings;
        if (!bySetting.has(a) || !bySetting.has(b)) continue;
        const va = bySetting.get(a);
        const vb = bySetting.get(b);
        if (c.holds(va, vb)) continue;
        const names = [a.sourceOf(env), b.sourceOf(env)] as const;
        problems.push(configError(`${names[0]}, ${names[1]}`, c.explain(va, vb, names), a.variable));
      }
      if (problems.length === 1) throw problems[0]!;
      if (problems.length > 1) {
        throw new StartupError('config_invalid', problems.map((p) => p.message).join('\n'), { field: problems[0]!.field ?? undefined });
      }
      return Object.freeze(values) as Values<S>;
    },
  });
}

/**
 * Compiles several configs against one environment (a process running several services): every problem of every
 * one is reported at once, each only once.
 */
export function compileAll(specs: readonly ConfigSpec<unknown>[], env: Env = process.env): unknown[] {
  const messages: string[] = [];
  let field: string | undefined;
  const compiled = specs.map((spec) => {
    try {
      return spec.compile(env);
    } catch (err) {
      if (!isTangerineError(err)) throw err;
      for (const line of err.message.split('\n')) if (!messages.includes(line)) messages.push(line);
      field ??= err.field ?? undefined;
      return undefined;
    }
  });
  if (messages.length > 0) throw new StartupError('config_invalid', messages.join('\n'), { field });
  return compiled;
}

export function configError(variable: string, rule: string, field = variable): StartupError {
  return new StartupError('config_invalid', `${variable}: ${rule}`, { field });
}
