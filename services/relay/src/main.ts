import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'relay', config: serviceConnection, connect: (base) => connectServices(base, 'relay'), services: [{ name: 'relay', config, start }] });
