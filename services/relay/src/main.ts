import { connectServices } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { start } from './service.js';

await runProcess({ name: 'relay', connect: (base) => connectServices(base, 'relay'), services: [{ name: 'relay', start }] });
