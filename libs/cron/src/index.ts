export { CronError, isCronError } from './errors.js';
export { parseCron } from './schedule.js';
export type { CronSchedule } from './schedule.js';
export { checkTimezone } from './zone.js';
export { nextFire, latestFire } from './fire.js';
export { decideFire } from './decide.js';
export type { FireDecision } from './decide.js';
