import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Conflicts, Parse, Settings, defineConfig, setting, type ConfigOf } from '@tangerine/runtime';

/** 100 years: longer than any ledger lives, and the cutoff (now minus it) always a valid timestamp. */
const MAX_RETENTION_S = 100 * 365 * 86400;

/** host-health reads: when hosts go down and are removed, the network-fault guard, and retention. */
export const config = defineConfig({
  heartbeatMs: Settings.heartbeatMs,
  hostTimeoutMs: Settings.hostTimeoutMs,
  hostRemoveAfterMs: Settings.hostRemoveAfterMs,
  /** The share of hosts silent at once that host-health takes for a network fault, not lost hosts (0 < x <= 1). */
  hostSilenceShare: setting('HOST_SILENCE_SHARE', Parse.share(), { fallback: 0.55 }),
  /** How long host-health holds, at most, when it suspects the network. */
  hostSilenceHoldMs: setting('HOST_SILENCE_HOLD', Parse.seconds(), { fallback: 300_000 }),
  /** Runs kept per task, its current attempt among them. */
  runsKeep: setting('RUNS_KEEP', Parse.integer(1, 100000), { fallback: 20 }),
  /** A task finished longer ago than this keeps only its latest run. */
  historyRetentionMs: setting('HISTORY_RETENTION', Parse.seconds(MAX_RETENTION_S), { fallback: 7 * 86400_000 }),
  /** Fire records kept per task, the newest. */
  firesKeep: setting('FIRES_KEEP', Parse.integer(1, 100000), { fallback: 100 }),
  /**
   * Files uploaded with tasks are deleted once no task names them that is not finished or finished less than this
   * long ago, and they were stored longer ago than this.
   */
  filesRetentionMs: setting('FILES_RETENTION', Parse.seconds(MAX_RETENTION_S), { fallback: 7 * 86400_000 }),
  /** How often host-health prunes runs and fire records; 0 turns pruning off. */
  pruneIntervalMs: setting('PRUNE_INTERVAL', Parse.secondsOrOff(), { fallback: 60_000 }),
}, Conflicts);
export type HostHealthConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<HostHealthConfig>;
