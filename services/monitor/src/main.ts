import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'monitor', config: serviceConnection, connect: (base) => connectServices(base, 'monitor'), services: [{ name: 'monitor', config, start }] });
