import { connectServices } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { start } from './service.js';

await runProcess({ name: 'placer', connect: (base) => connectServices(base, 'placer'), services: [{ name: 'placer', start }] });
