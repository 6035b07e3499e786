import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Parse, Settings, defineConfig, setting, type ConfigOf } from '@tangerine/runtime';

/** intake reads: its consumer's batch and ack wait, and the zone of a cron task that names none. */
export const config = defineConfig({
  batchSize: Settings.batchSize,
  ackWaitMs: Settings.ackWaitMs,
  /** The zone of a cron task that names none: `TZ`, else UTC. Cron tasks take their zone from TZ, so a zone Intl does not know would reject every one of them later. */
  defaultTimezone: setting('TZ', Parse.timezone(), { fallback: 'UTC' }),
  /** Seals the secret env values written to the ledger; null keeps them as plain JSON. */
  secretsKey: Settings.secretsKey,
  /** Host path prefixes a task may bind-mount from (the cluster's rule); none by default. */
  volumesAllowed: setting<readonly string[]>('VOLUMES_ALLOWED', Parse.paths(), { fallback: Object.freeze([]) }),
  /** The bounds of a task's `files`: one file, and all of them. */
  filesMaxBytes: Settings.filesMaxBytes,
  filesMaxTotal: Settings.filesMaxTotal,
});
export type IntakeConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<IntakeConfig>;
