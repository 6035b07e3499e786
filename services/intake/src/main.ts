import { connectServices } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { start } from './service.js';

await runProcess({ name: 'intake', connect: (base) => connectServices(base, 'intake'), services: [{ name: 'intake', start }] });
