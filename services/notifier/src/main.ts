import { connectServices, serviceConnection } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'notifier', config: serviceConnection, connect: (base) => connectServices(base, 'notifier'), services: [{ name: 'notifier', config, start }] });
