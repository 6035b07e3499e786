import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Settings, defineConfig, type ConfigOf } from '@tangerine/runtime';

/** monitor reads: its consumer's batch and ack wait. */
export const config = defineConfig({
  batchSize: Settings.batchSize,
  ackWaitMs: Settings.ackWaitMs,
});
export type MonitorConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<MonitorConfig>;
