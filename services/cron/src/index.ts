export { start } from './service.js';
export { config } from './config.js';
export { planFires, childName } from './plan.js';
