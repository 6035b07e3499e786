import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'cron', config: serviceConnection, connect: (base) => connectServices(base, 'cron'), services: [{ name: 'cron', config, start }] });
