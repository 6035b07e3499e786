import type { ServiceContext as PlatformContext } from '@tangerine/platform';
import { defineConfig, type ConfigOf } from '@tangerine/runtime';

/** api reads no setting of its own: only the connections (NATS_URL, DATABASE_URL, STATEMENT_TIMEOUT). */
export const config = defineConfig({});
export type ApiConfig = ConfigOf<typeof config>;
/** What this service's code receives: the platform's connections and this config. */
export type ServiceContext = PlatformContext<ApiConfig>;
