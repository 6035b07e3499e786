export { start } from './service.js';
export { config } from './config.js';
export { parseCommand } from './commands.js';
