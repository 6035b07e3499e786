import os from 'node:os';
import { NAME_RE } from '@tangerine/contracts';
import type { AgentContext as PlatformContext } from '@tangerine/platform';
import { Parse, RuleError, Settings, defineConfig, setting, type ConfigOf, type Parser } from '@tangerine/runtime';
import { DEFAULT_CAPABILITIES, PROCESS_USER_RE, parseCapabilities } from './sandbox.js';

/** The instance metadata service's address: an http(s) origin (IMDS answers at its root). */
const metadataUrl: Parser<string> = (text) => {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RuleError(`must be a URL such as http://169.254.169.254 (got "${text}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RuleError(`must be an http:// URL such as http://169.254.169.254 (got "${text}")`);
  return url.origin;
};

/** The executors an agent knows. */
const EXECUTORS = ['docker', 'process'] as const;

/** agent reads: who this host is and what it offers, its heartbeat, its consumer, and how its runs start and stop. */
export const config = defineConfig({
  hostId: setting('HOST_ID', Parse.matching(NAME_RE), {
    fallback: () => os.hostname().replace(/[^A-Za-z0-9_-]/g, '-'), emptyIsUnset: false,
  }),
  hostLabels: setting('HOST_LABELS', Parse.labels(), { fallback: Object.freeze({}) }),
  /**
   * The one task this host takes (an instance launched for it, services/autoscaler's per-task provider): announced
   * as the label `task=<name>`, and the placer gives the host nothing else. Unset: any task its labels fit.
   */
  onlyTask: setting<string | null>('AGENT_ONLY_TASK', Parse.matching(NAME_RE), { fallback: null }),
  hostSlots: setting('HOST_SLOTS', Parse.integer(0, 100000), { fallback: () => Math.max(2, os.cpus().length) }),
  /** The process executor runs commands on the host itself: off unless the operator turns it on. */
  executors: setting('AGENT_EXECUTORS', Parse.list(EXECUTORS), { fallback: Object.freeze(['docker'] as const) }),
  /** The user a process run is started as; never root. */
  processUser: setting('AGENT_PROCESS_USER', Parse.matching(PROCESS_USER_RE), { fallback: 'nobody' }),
  /** Host path prefixes this agent lets a container bind-mount from (after realpath); none by default. */
  agentVolumes: setting<readonly string[]>('AGENT_VOLUMES', Parse.paths(), { fallback: Object.freeze([]) }),
  /** Processes (and threads) a container may hold at once: a fork bomb stops here. */
  pidsLimit: setting('AGENT_PIDS_LIMIT', Parse.integer(16, 4_194_304), { fallback: 512 }),
  /** The capabilities a container keeps; every other one is dropped. */
  capabilities: setting('AGENT_CAPABILITIES', parseCapabilities(), { fallback: DEFAULT_CAPABILITIES }),
  /** Bytes of log one json-file of a container holds (two files are kept): the agent reads the last 64 KiB. */
  logMaxBytes: setting('AGENT_LOG_MAX_SIZE', Parse.integer(65_536, 1_073_741_824), { fallback: 1_048_576 }),
  dockerHost: setting<string | null>('DOCKER_HOST', Parse.text(), { fallback: null }),
  /** Where the runs' working directories with their files are made, one per run (the host's temporary directory by default). */
  workDir: setting<string | null>('AGENT_WORK_DIR', Parse.matching(/^\/.*$/), { fallback: null }),
  /** The bounds of a run's files, checked again before they are fetched. */
  filesMaxBytes: Settings.filesMaxBytes,
  filesMaxTotal: Settings.filesMaxTotal,
  heartbeatMs: Settings.heartbeatMs,
  hostRemoveAfterMs: Settings.hostRemoveAfterMs,
  batchSize: Settings.batchSize,
  ackWaitMs: Settings.ackWaitMs,
  stopGraceMs: Settings.stopGraceMs,
  /**
   * EC2 instance metadata (IMDSv2), off by default; on EC2 http://169.254.169.254. When set, the host announces its
   * instance id as the label `instanceId` and drains itself on a spot interruption notice.
   */
  ec2MetadataUrl: setting<string | null>('EC2_METADATA_URL', metadataUrl, { fallback: null }),
  /** How often the spot interruption notice is read (5 s, as AWS advises: the notice comes 2 minutes ahead). */
  spotPollMs: setting('SPOT_INTERRUPTION_POLL', Parse.seconds(60), { fallback: 5000 }),
  /** A run that ends within this time is reported once, start and end together: half the messages for short runs. */
  startReportDelayMs: setting('START_REPORT_DELAY', Parse.secondsOrOff(), { fallback: 50, emptyIsUnset: false }),
});
export type AgentConfig = ConfigOf<typeof config>;
/** What the agent's code receives: its NATS connection and this config. */
export type AgentContext = PlatformContext<AgentConfig>;
