import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'host-health', config: serviceConnection, connect: (base) => connectServices(base, 'host-health'), services: [{ name: 'host-health', config, start }] });
