import type { TangerineClient } from '@tangerine/client';
import type { Ledger } from '@tangerine/ledger';
import type { HealthCheck, Logger, Metrics } from '@tangerine/runtime';
import type { StateLookups } from './state-lookups.js';
import type { SubmitWindow } from './submit-window.js';
import type { TokenList } from './tokens.js';

/** What the HTTP app is built from: the connections it reads and writes through, and its settings. */
export interface HttpDeps {
  readonly ledger: Ledger;
  /** The duplicate check of submissions, batched across concurrent requests. */
  readonly states: StateLookups;
  /** Publishes the spec of a one-spec submission, together with those of concurrent requests. */
  readonly submissions: SubmitWindow;
  /** The bus, as a client: every write (submit, cancel, drain) and the event stream go through it. */
  readonly client: TangerineClient;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The process's checks, as its health port serves them on /healthz. */
  readonly health: Record<string, HealthCheck>;
  /** Bytes a page of a read may take (as a NATS reply of the same read). */
  readonly pageBudget: () => number;
  readonly settings: HttpSettings;
}

export interface HttpSettings {
  /** Null: no token needed (API_AUTH=off). */
  readonly tokens: TokenList | null;
  readonly readOpen: boolean;
  readonly bodyLimit: number;
  readonly maxStreams: number;
  /** Bytes of one uploaded file, and of all the files of one task (FILES_MAX_BYTES, FILES_MAX_TOTAL). */
  readonly filesMaxBytes: number;
  readonly filesMaxTotal: number;
  /** How often an event stream sends a comment when no event comes (API_HEARTBEAT, 15 s). */
  readonly heartbeatMs: number;
}
