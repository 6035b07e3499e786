import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Parse, Settings, conflict, defineConfig, setting, type ConfigOf } from '@tangerine/runtime';
import { parseTokens, type TokenList } from './http/tokens.js';

const apiTokens = setting<TokenList | null>('API_TOKENS', parseTokens, { fallback: null, secret: true });
const apiAuth = setting('API_AUTH', Parse.choice(['on', 'off']), { fallback: 'on' });

/**
 * api reads the connections (NATS_URL, DATABASE_URL, STATEMENT_TIMEOUT) and the HTTP API's settings. A token list
 * is required: an HTTP API that anyone reaching the port may write to is had only by saying so (API_AUTH=off).
 */
export const config = defineConfig({
  /** The HTTP API's port; 0 picks a free one (logged as `http listening`). */
  apiPort: setting('API_PORT', Parse.integer(0, 65535), { fallback: 8080 }),
  apiHost: setting('API_HOST', Parse.matching(/^[A-Za-z0-9.:-]{1,253}$/), { fallback: '0.0.0.0' }),
  apiTokens,
  /** Reads (GET routes) without a token. */
  apiReadOpen: setting('API_READ_OPEN', Parse.boolean(), { fallback: false }),
  apiAuth,
  /** Bytes of one request body: 1 MiB, as NATS's max_payload, which a submitted list must fit into anyway. */
  apiBodyLimit: setting('API_BODY_LIMIT', Parse.bytes(1024), { fallback: 1024 * 1024 }),
  /** Event streams (GET /v1/events) served at once: each holds an ordered consumer on the server. */
  apiMaxStreams: setting('API_MAX_STREAMS', Parse.integer(1, 100_000), { fallback: 1000 }),
  /** The bounds of the files uploaded with a task (Blanket's form), as intake checks them. */
  filesMaxBytes: Settings.filesMaxBytes,
  filesMaxTotal: Settings.filesMaxTotal,
  /** How often an event stream with no event sends a comment: proxies close a connection idle for long (nginx: 60 s). */
  apiHeartbeatMs: setting('API_HEARTBEAT', Parse.seconds(3600), { fallback: 15_000 }),
}, [
  conflict(apiTokens, apiAuth, (tokens, auth) => tokens !== null || auth === 'off',
    (_t, _a, [nt]) => `${nt} is not set: the HTTP API needs a token list (API_TOKENS or API_TOKENS_FILE, one "<token> <read|write> [<name>]" a line), or API_AUTH=off to serve it without tokens`),
]);
export type ApiConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<ApiConfig>;
