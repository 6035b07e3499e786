import os from 'node:os';
import { NAME_RE } from '@tangerine/contracts';
import type { AgentContext as PlatformContext } from '@tangerine/platform';
import { Parse, Settings, defineConfig, setting, type ConfigOf } from '@tangerine/runtime';

/** The executors an agent knows. */
const EXECUTORS = ['docker', 'process'] as const;

/** agent reads: who this host is and what it offers, its heartbeat, its consumer, and how its runs start and stop. */
export const config = defineConfig({
  hostId: setting('HOST_ID', Parse.matching(NAME_RE), {
    fallback: () => os.hostname().replace(/[^A-Za-z0-9_-]/g, '-'), emptyIsUnset: false,
  }),
  hostLabels: setting('HOST_LABELS', Parse.labels(), { fallback: Object.freeze({}) }),
  hostSlots: setting('HOST_SLOTS', Parse.integer(0, 100000), { fallback: () => Math.max(2, os.cpus().length) }),
  executors: setting('AGENT_EXECUTORS', Parse.list(EXECUTORS), { fallback: Object.freeze([...EXECUTORS]) }),
  dockerHost: setting<string | null>('DOCKER_HOST', Parse.text(), { fallback: null }),
  heartbeatMs: Settings.heartbeatMs,
  hostRemoveAfterMs: Settings.hostRemoveAfterMs,
  batchSize: Settings.batchSize,
  ackWaitMs: Settings.ackWaitMs,
  stopGraceMs: Settings.stopGraceMs,
  /** A run that ends within this time is reported once, start and end together: half the messages for short runs. */
  startReportDelayMs: setting('START_REPORT_DELAY', Parse.secondsOrOff(), { fallback: 50, emptyIsUnset: false }),
});
export type AgentConfig = ConfigOf<typeof config>;
/** What the agent's code receives: its NATS connection and this config. */
export type AgentContext = PlatformContext<AgentConfig>;
