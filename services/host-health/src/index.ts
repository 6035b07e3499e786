export { start } from './service.js';
