import { readFileSync } from 'node:fs';
import {
  credsAuthenticator, nkeyAuthenticator, nkeys, tokenAuthenticator, usernamePasswordAuthenticator, type ConnectionOptions,
} from '@nats-io/transport-node';
import { StartupError } from '@tangerine/contracts';

/** How a process proves who it is to NATS. */
export type NatsAuth =
  /** An nkey user seed (`SU…`): the server knows the user by its public key (`U…`). */
  | { readonly kind: 'nkey'; readonly seed: string }
  | { readonly kind: 'user'; readonly user: string; readonly password: string }
  | { readonly kind: 'token'; readonly token: string }
  /** The path of a .creds file (user JWT + seed), read again at each connection so that a renewed file is taken. */
  | { readonly kind: 'creds'; readonly file: string };

/** Everything about a NATS connection beyond its URL: credentials, TLS and where its replies come. */
export interface NatsAccess {
  /** Null: no credentials (a server without authentication). */
  readonly auth: NatsAuth | null;
  /**
   * Null: TLS only if the URL asks for it (`tls://`). `caFile` alone verifies the server with that CA; `certFile` and
   * `keyFile` add a client certificate. An empty object: TLS, verified with the system's CAs.
   */
  readonly tls: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string } | null;
  /** The prefix of every inbox this connection makes (requests, publish acks, consumers). */
  readonly inboxPrefix: string;
}

/** The settings `natsAccess` reads, as libs/runtime's Settings name them. */
export interface NatsAccessSettings {
  readonly natsNkey: string | null;
  readonly natsUser: string | null;
  readonly natsPassword: string | null;
  readonly natsToken: string | null;
  readonly natsCreds: string | null;
  readonly natsTlsCa: string | null;
  readonly natsTlsCert: string | null;
  readonly natsTlsKey: string | null;
  readonly natsInboxPrefix: string;
}

/** The compiled settings (their conflicts already refused) → the connection's access. */
export function natsAccess(c: NatsAccessSettings): NatsAccess {
  let auth: NatsAuth | null = null;
  if (c.natsNkey !== null) auth = { kind: 'nkey', seed: c.natsNkey };
  else if (c.natsUser !== null) auth = { kind: 'user', user: c.natsUser, password: c.natsPassword ?? '' };
  else if (c.natsToken !== null) auth = { kind: 'token', token: c.natsToken };
  else if (c.natsCreds !== null) auth = { kind: 'creds', file: c.natsCreds };
  const tls = c.natsTlsCa === null && c.natsTlsCert === null
    ? null
    : {
      ...(c.natsTlsCa !== null ? { caFile: c.natsTlsCa } : {}),
      ...(c.natsTlsCert !== null ? { certFile: c.natsTlsCert } : {}),
      ...(c.natsTlsKey !== null ? { keyFile: c.natsTlsKey } : {}),
    };
  return Object.freeze({ auth, tls, inboxPrefix: c.natsInboxPrefix });
}

/** The nats.js connection options of an access (an authenticator, `tls`, `inboxPrefix`). */
export function accessOptions(access: NatsAccess): Partial<ConnectionOptions> {
  return {
    ...(access.auth ? { authenticator: authenticator(access.auth) } : {}),
    ...(access.tls ? { tls: { ...access.tls } } : {}),
    inboxPrefix: access.inboxPrefix,
  };
}

const enc = new TextEncoder();

function authenticator(auth: NatsAuth): NonNullable<ConnectionOptions['authenticator']> {
  switch (auth.kind) {
    case 'nkey': return nkeyAuthenticator(enc.encode(auth.seed));
    case 'user': return usernamePasswordAuthenticator(auth.user, auth.password);
    case 'token': return tokenAuthenticator(auth.token);
    case 'creds': return credsAuthenticator(() => readFileSync(auth.file));
  }
}

/**
 * Who the connection says it is, in words fit for a log or an error: the nkey's public key, the user's name, the creds
 * file's path, never a secret.
 */
export function describeIdentity(access: NatsAccess): string {
  const auth = access.auth;
  if (auth === null) return 'a connection without credentials';
  switch (auth.kind) {
    case 'nkey': return `nkey user ${publicKeyOf(auth.seed)}`;
    case 'user': return `user "${auth.user}"`;
    case 'token': return 'a token';
    case 'creds': return `the user of the creds file ${auth.file}`;
  }
}

function publicKeyOf(seed: string): string {
  try {
    return nkeys.fromSeed(enc.encode(seed)).getPublicKey();
  } catch {
    // A seed of the right shape whose checksum fails: named as such, never quoted.
    throw new StartupError('config_invalid', 'NATS_NKEY: the nkey seed does not decode (its checksum fails)', { field: 'NATS_NKEY' });
  }
}
