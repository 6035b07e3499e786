import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'intake', config: serviceConnection, connect: (base) => connectServices(base, 'intake'), services: [{ name: 'intake', config, start }] });
