export { start } from './service.js';
export { config } from './config.js';
