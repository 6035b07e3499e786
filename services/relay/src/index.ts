export { start, REPUBLISH_AFTER_MS } from './service.js';
export { config } from './config.js';
