import { NAME_RE } from '@tangerine/contracts';
import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { Parse, RuleError, configError, defineConfig, setting, type ConfigOf, type Parser } from '@tangerine/runtime';

const absolutePath: Parser<string> = (text) => {
  if (!text.startsWith('/')) throw new RuleError(`must be an absolute path (got "${text}")`);
  return text;
};

/** The providers this build knows; AUTOSCALER_PROVIDER names one. */
export const PROVIDER_KINDS = ['local', 'spot-fleet'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/**
 * autoscaler reads: which provider it scales (AUTOSCALER_PROVIDER, required: `npm start` runs the autoscaler only when
 * it is set), how often it evaluates (EVALUATION_INTERVAL, 10 s as Nomad's autoscaler), and the decision's clocks: a
 * host idle SCALE_DOWN_IDLE (3 min) may be drained; scale-ups at least SCALE_UP_COOLDOWN (15 s) apart; a scale-down
 * at least SCALE_DOWN_COOLDOWN (2 min) after any scaling, so a queue that comes and goes does not flip-flop; an
 * instance that has not joined within SCALE_JOIN_DEADLINE (10 min, as cluster-autoscaler's provision time) is given
 * up; a drained host is terminated once empty for SCALE_DRAIN_SETTLE (5 s). A failing provider is tried again after
 * a backoff doubling from EVALUATION_INTERVAL up to SCALE_BACKOFF_MAX (5 min).
 */
export const config = defineConfig({
  provider: setting<ProviderKind>('AUTOSCALER_PROVIDER', Parse.choice(PROVIDER_KINDS), {
    fallback: () => {
      throw configError('AUTOSCALER_PROVIDER', `is required by the autoscaler: one of ${PROVIDER_KINDS.join(', ')}`);
    },
  }),
  evaluationMs: setting('EVALUATION_INTERVAL', Parse.seconds(3600), { fallback: 10_000 }),
  idleMs: setting('SCALE_DOWN_IDLE', Parse.seconds(), { fallback: 180_000 }),
  upCooldownMs: setting('SCALE_UP_COOLDOWN', Parse.seconds(), { fallback: 15_000 }),
  downCooldownMs: setting('SCALE_DOWN_COOLDOWN', Parse.seconds(), { fallback: 120_000 }),
  joinDeadlineMs: setting('SCALE_JOIN_DEADLINE', Parse.seconds(), { fallback: 600_000 }),
  drainSettleMs: setting('SCALE_DRAIN_SETTLE', Parse.seconds(), { fallback: 5000 }),
  backoffMaxMs: setting('SCALE_BACKOFF_MAX', Parse.seconds(), { fallback: 300_000 }),
  /** The local provider: at most this many agent processes (and the pool of host ids made for them). */
  localLimit: setting('LOCAL_SCALE_LIMIT', Parse.integer(1, 64), { fallback: 4 }),
  localMin: setting('LOCAL_SCALE_MIN', Parse.integer(0, 64), { fallback: 0 }),
  localSlots: setting('LOCAL_AGENT_SLOTS', Parse.integer(1, 1000), { fallback: 2 }),
  /** The labels every local agent carries besides its instanceId; tasks constrained to them count toward it. */
  localLabels: setting('LOCAL_AGENT_LABELS', Parse.labels(), { fallback: Object.freeze({ autoscaled: 'local' }) }),
  /** Host ids are `<prefix>-1` … `<prefix>-<LOCAL_SCALE_LIMIT>`, each with its NATS identity made beforehand. */
  localPrefix: setting('LOCAL_HOST_PREFIX', Parse.matching(NAME_RE), { fallback: 'auto' }),
  /**
   * The NATS identities' directory (`npm run identities`), holding `seeds/agent-<host>.nk` for every host of the pool;
   * unset when nats-server takes connections without identities.
   */
  localIdentities: setting<string | null>('LOCAL_AGENT_IDENTITIES', absolutePath, { fallback: null }),
  /** Where the local provider keeps one file per agent process it started, so a restarted autoscaler finds them. */
  localStateDir: setting('LOCAL_STATE_DIR', absolutePath, { fallback: '/var/tmp/tangerine/autoscaler-local' }),
});
export type AutoscalerConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<AutoscalerConfig>;
