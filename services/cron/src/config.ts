import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Parse, defineConfig, setting, type ConfigOf } from '@tangerine/runtime';

/** cron reads: how often it looks for fire times that have come. */
export const config = defineConfig({
  cronTickMs: setting('CRON_TICK', Parse.seconds(), { fallback: 250 }),
});
export type CronConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<CronConfig>;
