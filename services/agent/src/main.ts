import { connectAgent } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { start } from './service.js';

await runProcess({ name: 'agent', connect: (base) => connectAgent(base, 'agent'), services: [{ name: 'agent', start }] });
