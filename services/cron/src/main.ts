import { connectServices } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { start } from './service.js';

await runProcess({ name: 'cron', connect: (base) => connectServices(base, 'cron'), services: [{ name: 'cron', start }] });
