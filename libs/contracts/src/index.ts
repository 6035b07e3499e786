export { TaskState, TASK_STATES, FINISHED_STATES, ON_HOST_STATES, CANCELLABLE_STATES, TRANSITIONS, isFinished, canTransition, isTaskState } from './states.js';
export {
  ErrorCodes, TangerineError, ValidationError, NotFoundError, ConflictError, OutageError, TimeoutError, LedgerRefusedError, RowError,
  ReplyTooLargeError, UnprocessableError, InternalError, StartupError, errorOf, hasCode, isTangerineError, isOutage, isValidationError,
  isNotFound, isConflict, isTimeout, isRowError,
} from './errors.js';
export { Limits, nestsDeeper, utf8Bytes } from './limits.js';
export type { ErrorCode, ErrorFamily, CodeOf, ValidationCode, ErrorJSON, ErrorOptions } from './errors.js';
export { compile, fieldOf, quote } from './validate.js';
export type { Validator } from './validate.js';
export { TaskSpec, TaskName, Executor, parseTaskSpec, parseVolume, TASK_NAME_PATTERN, TASK_NAME_RULE, CHILD_SUFFIX_LENGTH, TIMEOUT_EXIT_CODE } from './spec.js';
export type { ParseOptions } from './spec.js';
export { decideAfterExit, retryDelay, RETRY_DELAY_S, RETRY_MAX_DELAY_S } from './retry.js';
export type { RetryInput, RetryDecision } from './retry.js';
export { Subjects, Streams, defineSubject, defineFamily } from './subjects.js';
export type { Subject, SubjectFamily } from './subjects.js';
export {
  TaskEvent, Rejection, CancelRequest, GetRequest, ListRequest, RunDispatch, RunStop, RunStarted, RunExited,
  HostAnnounce, HostState, HostEvent, HostRequest, HostView, RunView, TaskView, FireView, ErrorReply, Validators,
  RunsRequest, OutputRequest, HostsListRequest, TaskList, RunList, RunOutput, HostList, DeadLetter, FleetEvent,
} from './messages.js';
