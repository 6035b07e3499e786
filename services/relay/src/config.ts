import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { defineConfig, type ConfigOf } from '@tangerine/runtime';

/** relay reads nothing of its own: its cadence is REPUBLISH_AFTER_MS, tied to PublishedMarks' 2 s. */
export const config = defineConfig({});
export type RelayConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<RelayConfig>;
