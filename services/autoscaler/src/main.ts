import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'autoscaler', config: serviceConnection, connect: (base) => connectServices(base, 'autoscaler'), services: [{ name: 'autoscaler', config, start }] });
