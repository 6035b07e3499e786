export { start } from './service.js';
export { planFires, childName } from './plan.js';
