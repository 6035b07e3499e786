import { Parse, defineConfig, setting, type ConfigOf } from '@tangerine/runtime';

/** An AWS region name: us-east-1, eu-west-3, us-gov-west-1, ap-southeast-2, … */
const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * The Spot Fleet provider's settings. Credentials are the SDK's standard chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY with AWS_SESSION_TOKEN, AWS_PROFILE, web identity, the instance's role), never a setting
 * here, so no key is ever held in a config object. The SDK reads AWS_ENDPOINT_URL_EC2 itself (a VPC endpoint, a
 * local fake).
 */
export const spotFleetSettings = {
  /** The fleet to scale: `sfr-` and a UUID, as AWS names them. Unset: no Spot Fleet provider. */
  spotFleetRequestId: setting<string | null>(
    'SPOT_FLEET_REQUEST_ID', Parse.matching(/^sfr-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/), { fallback: null },
  ),
  /** The labels the fleet's agents carry (their HOST_LABELS, besides instanceId): tasks constrained to them count toward it. */
  spotFleetLabels: setting('SPOT_FLEET_LABELS', Parse.labels(), { fallback: Object.freeze({}) as Readonly<Record<string, string>> }),
  /** The most instances the autoscaler asks of the fleet (Tangerine's EC2_SCALE_LIMIT, 20). */
  ec2ScaleLimit: setting('EC2_SCALE_LIMIT', Parse.integer(1, 1000), { fallback: 20 }),
  /** The region (the SDK v3 reads only AWS_REGION; Tangerine documents AWS_DEFAULT_REGION, taken when it is unset). */
  awsRegion: setting<string | null>('AWS_REGION', Parse.matching(REGION_RE), { fallback: null }),
  awsDefaultRegion: setting<string | null>('AWS_DEFAULT_REGION', Parse.matching(REGION_RE), { fallback: null }),
  /**
   * Tries of one EC2 call, the first included (3): the SDK waits 0.2–0.4 s then 0.4–0.8 s between them; past that the
   * call fails with its AWS code and the autoscaler's own backoff decides when to try again.
   */
  ec2MaxAttempts: setting('EC2_MAX_ATTEMPTS', Parse.integer(1, 10), { fallback: 3 }),
} as const;

export const spotFleetConfig = defineConfig(spotFleetSettings);
export type SpotFleetConfig = ConfigOf<typeof spotFleetConfig>;
