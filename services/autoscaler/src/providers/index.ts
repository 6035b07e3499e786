import type { Provider } from '../provider.js';
import { ProviderError } from '../provider.js';
import type { ServiceContext } from '../config.js';
import { LocalProvider } from './local.js';

/** A provider the service may close when it stops (the local one stops its agents). */
export type Closable = Provider & { close?(): Promise<void> };

/** The provider AUTOSCALER_PROVIDER names, built from its settings. */
export function createProvider(ctx: ServiceContext): Closable {
  const c = ctx.config;
  switch (c.provider) {
    case 'local':
      return new LocalProvider({
        limit: c.localLimit, min: Math.min(c.localMin, c.localLimit), slots: c.localSlots, labels: c.localLabels, prefix: c.localPrefix,
        identities: c.localIdentities, stateDir: c.localStateDir, env: process.env, log: ctx.log.child({ provider: 'local' }),
      });
    case 'spot-fleet':
      // Lane i15-ec2 (src/providers/spot-fleet*) builds it here.
      throw new ProviderError('NotBuilt', 'AUTOSCALER_PROVIDER=spot-fleet: this build has no Spot Fleet provider', false);
  }
}
