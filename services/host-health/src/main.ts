import { connectServices } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { start } from './service.js';

await runProcess({ name: 'host-health', connect: (base) => connectServices(base, 'host-health'), services: [{ name: 'host-health', start }] });
