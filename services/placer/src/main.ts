import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'placer', config: serviceConnection, connect: (base) => connectServices(base, 'placer'), services: [{ name: 'placer', config, start }] });
