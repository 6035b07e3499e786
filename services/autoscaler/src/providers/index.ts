import type { Provider } from '../provider.js';
import type { ServiceContext } from '../config.js';
import { LocalProvider } from './local.js';
import { spotFleetConfig } from './spot-fleet-config.js';
import { spotFleetFromConfig } from './spot-fleet.js';

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
      // Its settings (src/providers/spot-fleet-config.ts) are read here, once, at the start.
      return spotFleetFromConfig(spotFleetConfig.compile(process.env), ctx.log.child({ provider: 'spot-fleet' }));
  }
}
