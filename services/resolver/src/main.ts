import { connectServices } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { start } from './service.js';

await runProcess({ name: 'resolver', connect: (base) => connectServices(base, 'resolver'), services: [{ name: 'resolver', start }] });
