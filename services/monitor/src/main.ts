import { connectServices } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { start } from './service.js';

await runProcess({ name: 'monitor', connect: (base) => connectServices(base, 'monitor'), services: [{ name: 'monitor', start }] });
