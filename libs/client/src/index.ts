export { TangerineClient, parseReply } from './client.js';
export type { ClientOptions, FollowOptions, Stored, SubmitOptions, Outcome, TemplateOutcome, WatchOptions, WaitOptions } from './client.js';
export { objectDigest } from './files.js';
export type { FileSource, PutFileOptions } from './files.js';
export { Watch } from './watch.js';
export type { WatchEvent } from './watch.js';
export { EVENT_KINDS, subjectMatches } from './wire.js';
export type { EventKind, DrainReply } from './wire.js';
export {
  ClientErrorCodes, ServerError, InvalidReplyError, InvalidRequestError, RequestTimeoutError, NoRespondersError, ConnectionClosedError,
  NotStoredError, WaitTimeoutError, isClientError, isTransient,
} from './errors.js';
export type { ClientError, ClientErrorCode } from './errors.js';
