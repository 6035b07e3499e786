import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Settings, defineConfig, type ConfigOf } from '@tangerine/runtime';

/** resolver reads: its consumer's batch and ack wait, and how often it sweeps the waiting tasks. */
export const config = defineConfig({
  batchSize: Settings.batchSize,
  ackWaitMs: Settings.ackWaitMs,
  sweepMs: Settings.sweepMs,
});
export type ResolverConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<ResolverConfig>;
