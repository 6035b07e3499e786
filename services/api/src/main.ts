import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'api', config: serviceConnection, connect: (base) => connectServices(base, 'api'), services: [{ name: 'api', config, start }] });
