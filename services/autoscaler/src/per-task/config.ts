import { Parse, defineConfig, setting, type ConfigOf } from '@tangerine/runtime';
import { spotFleetSettings } from '../providers/spot-fleet-config.js';

/**
 * The per-task instances' settings (a task spec's `instance`): on when TASK_INSTANCE_AMI is set. What the instance
 * is and where it runs is the operator's: the task names only its type. Credentials and region as the Spot Fleet
 * provider's (the SDK's standard chain; AWS_REGION, else AWS_DEFAULT_REGION; AWS_ENDPOINT_URL_EC2).
 */
export const taskInstanceConfig = defineConfig({
  /** The AMI: one with Tangerine's agent installed, started by TASK_INSTANCE_START. Unset: no per-task instances. */
  ami: setting<string | null>('TASK_INSTANCE_AMI', Parse.matching(/^ami-[0-9a-f]{8,17}$/), { fallback: null }),
  subnet: setting<string | null>('TASK_INSTANCE_SUBNET', Parse.matching(/^subnet-[0-9a-f]{8,17}$/), { fallback: null }),
  /** Security group ids, comma-separated. */
  securityGroups: setting<string | null>('TASK_INSTANCE_SECURITY_GROUPS', Parse.matching(/^sg-[0-9a-f]{8,17}(,sg-[0-9a-f]{8,17}){0,4}$/), { fallback: null }),
  keyName: setting<string | null>('TASK_INSTANCE_KEY_NAME', Parse.matching(/^[\x20-\x7e]{1,255}$/), { fallback: null }),
  /** The IAM instance profile: its name, or its ARN. */
  profile: setting<string | null>('TASK_INSTANCE_PROFILE', Parse.matching(/^(arn:aws[a-z-]*:iam::\d{12}:instance-profile\/[\w+=,.@/-]{1,128}|[\w+=,.@-]{1,128})$/), { fallback: null }),
  /** Tags every instance gets besides Tangerine's own (`key=value,…`). */
  tags: setting('TASK_INSTANCE_TAGS', Parse.labels(), { fallback: Object.freeze({}) }),
  /** The command the user data ends with, once the agent's variables are written (see README "One instance per task"). */
  start: setting('TASK_INSTANCE_START', Parse.matching(/^[^\n\r']{1,1000}$/), { fallback: 'systemctl start tangerine-agent' }),
  /** How often the leader launches, watches and terminates (5 s: a task waits for its instance about a minute anyway). */
  intervalMs: setting('TASK_INSTANCE_INTERVAL', Parse.seconds(3600), { fallback: 5000 }),
  /** How often every instance Tangerine tagged is checked against the ledger, and a stray one terminated. */
  sweepMs: setting('TASK_INSTANCE_SWEEP', Parse.seconds(86_400), { fallback: 60_000 }),
  /** The most per-task instances alive at once: more ready tasks wait for one to end. */
  max: setting('TASK_INSTANCE_MAX', Parse.integer(1, 1000), { fallback: 20 }),
  /** A failing launch is tried again after a backoff doubling from TASK_INSTANCE_INTERVAL up to this. */
  backoffMaxMs: setting('TASK_INSTANCE_BACKOFF_MAX', Parse.seconds(), { fallback: 300_000 }),
  awsRegion: spotFleetSettings.awsRegion,
  awsDefaultRegion: spotFleetSettings.awsDefaultRegion,
  ec2MaxAttempts: spotFleetSettings.ec2MaxAttempts,
});
export type TaskInstanceConfig = ConfigOf<typeof taskInstanceConfig>;
