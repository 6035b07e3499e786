export { start } from './service.js';
export { parseCommand } from './commands.js';
