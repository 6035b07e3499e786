export { start } from './service.js';
export { config } from './config.js';
export { assign, fits, score } from './scoring.js';
export type { HostCapacity, TaskNeeds, Assignment } from './scoring.js';
