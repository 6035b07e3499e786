import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'resolver', config: serviceConnection, connect: (base) => connectServices(base, 'resolver'), services: [{ name: 'resolver', config, start }] });
