export { connectBus } from './connection.js';
export type { Bus } from './connection.js';
export { natsAccess, accessOptions, describeIdentity } from './access.js';
export type { NatsAccess, NatsAccessSettings, NatsAuth } from './access.js';
export { ensureStreams, waitForStreams, planStreamUpdate, streamSpecs, streamConfig, OUTPUT_MAX_CONSUMERS, DEFAULT_WORK_QUEUE_MAX_BYTES, DEFAULT_EVENTS_MAX_BYTES, DEFAULT_FILES_STORE_MAX_BYTES } from './streams.js';
export type { StreamLimits, StreamSpec, StreamPlan, StreamChange } from './streams.js';
export { migrateBus, checkMigrations, BUS_MIGRATIONS, BUS_MIGRATIONS_BUCKET } from './migrations.js';
export type { BusMigration, BusMigrationContext, MigrateBusOptions, MigrationRecord } from './migrations.js';
export { encode, decode, decodeText, redactPayload, UNREADABLE_SECRETS_SHOWN } from './codec.js';
export { outgoing, publishAll, publishCore, eventMessage, rejectionMessage, hostEventMessage, stopMessage } from './publish.js';
export { JetStreamPublisher, ackProblem } from './publisher.js';
export type { Outgoing } from './publish.js';
export { consumeBatches, MAX_DELIVER, MAX_TRIES, SUSPECT_AFTER } from './consume.js';
export type { BatchConsumerOptions, ConsumerControl, Delivered, MessageFacts } from './consume.js';
export { disposition, describeError } from './disposition.js';
export {
  JetStreamApiCodes, jetStreamCode, isStreamNotFound, isConsumerNotFound, isStreamNameInUse, isConsumerExists, isNatsConnectionError,
} from './nats-errors.js';
export type { Disposition } from './disposition.js';
export { deadLetterOf, publishDeadLetter, watchMaxDeliveries } from './dead-letters.js';
export type { JsMsg } from '@nats-io/jetstream';
export { addAgent, addIdentity, initIdentities, readIdentities, renderAuthorization, seedFile, writeAuthorization } from './identities.js';
export type { IdentityEntry, IdentityDirectory } from './identities.js';
export { fileStore } from './files.js';
export type { ObjectInfo, ObjectStore } from './files.js';
