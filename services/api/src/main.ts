import { connectServices } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { start } from './service.js';

await runProcess({ name: 'api', connect: (base) => connectServices(base, 'api'), services: [{ name: 'api', start }] });
