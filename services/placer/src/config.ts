import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Conflicts, Settings, defineConfig, type ConfigOf } from '@tangerine/runtime';

/**
 * placer reads: when a host counts as gone and how often its view refreshes. Its leadership connection is opened as
 * the process's ledger is (`ledger.options`).
 */
export const config = defineConfig({
  hostTimeoutMs: Settings.hostTimeoutMs,
  heartbeatMs: Settings.heartbeatMs,
  /** Opens the secret env values sealed in the ledger, for the dispatch. */
  secretsKey: Settings.secretsKey,
}, Conflicts);
export type PlacerConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<PlacerConfig>;
