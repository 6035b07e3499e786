export { connectBus } from './connection.js';
export type { Bus } from './connection.js';
export { ensureStreams } from './streams.js';
export { encode, decode, decodeText } from './codec.js';
export { publishAll, eventMessage, rejectionMessage } from './publish.js';
export type { Outgoing } from './publish.js';
export { consumeBatches, isPassing } from './consume.js';
export type { BatchConsumerOptions } from './consume.js';
export type { JsMsg } from '@nats-io/jetstream';
