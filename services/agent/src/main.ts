import { agentConnection, connectAgent } from '@tangerine/platform';
import { runProcess } from '@tangerine/runtime';
import { config } from './config.js';
import { start } from './service.js';

await runProcess({ name: 'agent', config: agentConnection, connect: (base) => connectAgent(base, 'agent'), services: [{ name: 'agent', config, start }] });
