import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Parse, defineConfig, setting, type ConfigOf } from '@tangerine/runtime';

/**
 * relay reads: how old a change without its event must be before it is published again (REPUBLISH_AFTER), which is
 * also how often it looks. 30 s, not 5: a publisher notes its events within 2 s, but under load a mark is skipped
 * (SKIP LOCKED) and the change looks lost when it is not. At 5 s the relay published 1,300 to 2,200 such events again
 * in the pipeline bench's 20,000 tasks and cost it about 18 % of its throughput (409 against 526 tasks/s without the
 * relay; 539 at 30 s, none published again). A change whose publisher truly died is rare: 30 s is soon enough.
 */
export const config = defineConfig({
  republishAfterMs: setting('REPUBLISH_AFTER', Parse.seconds(), { fallback: 30_000 }),
});
export type RelayConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<RelayConfig>;
