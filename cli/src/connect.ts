import { existsSync } from 'node:fs';
import { accessOptions, natsAccess } from '@tangerine/bus';
import { TangerineClient, type ClientOptions } from '@tangerine/client';
import { Conflicts, NatsSettings, defineConfig, type Env } from '@tangerine/runtime';

/** The connection settings every Tangerine process reads (libs/runtime), read the same way here. */
const connectionConfig = defineConfig({ ...NatsSettings }, Conflicts);

export const CONNECTION_VARIABLES = connectionConfig.variables;
const AUTH_VARIABLES = ['NATS_NKEY', 'NATS_USER', 'NATS_PASSWORD', 'NATS_TOKEN', 'NATS_CREDS'].flatMap((v) => [v, `${v}_FILE`]);

export interface ConnectFlags {
  /** `--server`: in place of NATS_URL. */
  server?: string | undefined;
  /** `--nkey FILE`: a seed file, in place of every credential of the environment. */
  nkey?: string | undefined;
}

/**
 * The environment the settings are read from, with the flags applied. `NATS_NKEY` holding a path (as the nats CLI
 * takes it, and as the root README shows) is read as NATS_NKEY_FILE: a seed never names an existing file.
 */
export function effectiveEnv(env: Env, flags: ConnectFlags): Env {
  const out: Record<string, string | undefined> = { ...env };
  const nkey = out['NATS_NKEY'];
  if (nkey !== undefined && nkey !== '' && !nkey.trim().startsWith('SU') && existsSync(nkey)) {
    out['NATS_NKEY_FILE'] = nkey;
    delete out['NATS_NKEY'];
  }
  if (flags.server !== undefined) out['NATS_URL'] = flags.server;
  if (flags.nkey !== undefined) {
    for (const v of AUTH_VARIABLES) delete out[v];
    out['NATS_NKEY_FILE'] = flags.nkey;
  }
  return out;
}

/** nats.js options from the environment and the flags; throws a StartupError (config_invalid) naming the variable. */
export function clientOptions(env: Env, flags: ConnectFlags): ClientOptions {
  const config = connectionConfig.compile(effectiveEnv(env, flags));
  return {
    servers: config.natsUrl.split(',').map((s) => s.trim()),
    name: 'tangerine-cli',
    ...accessOptions(natsAccess(config)),
    // A CLI that cannot reach NATS says so at once rather than retrying in silence.
    maxReconnectAttempts: 3,
    reconnectTimeWait: 500,
  };
}

export async function connectClient(env: Env, flags: ConnectFlags): Promise<TangerineClient> {
  return TangerineClient.connect(clientOptions(env, flags));
}
