export {
  BLOCKABLE_STATES, CANCELLABLE_STATES, FINISHED_STATES, IDLE_STATES, ON_HOST_STATES, SLOT_FREEING_STATES,
  STOPPED_STATES, TASK_STATES, TRANSITIONS, TaskState, UNSUCCESSFUL_STATES, canTransition, isFinished, isTaskState,
} from './states.js';
export {
  AuthError, BusyError, ConflictError, ErrorCodes, InternalError, LedgerRefusedError, NotFoundError, OutageError, ReplyTooLargeError,
  RowError, StartupError, TangerineError, TimeoutError, UnprocessableError, ValidationError, errorOf, hasCode,
  isConflict, isNotFound, isOutage, isRowError, isTangerineError, isTimeout, isValidationError,
} from './errors.js';
export { Limits, nestsDeeper, utf8Bytes } from './limits.js';
export type { ErrorCode, ErrorFamily, CodeOf, ValidationCode, ErrorJSON, ErrorOptions } from './errors.js';
export { compile, fieldOf, quote } from './validate.js';
export type { Validator } from './validate.js';
export { TaskSpec, TaskName, Executor, parseTaskSpec, parseTemplateRef, MAX_TEMPLATE_VERSION, parseVolume, hideSecretValues, SECRET_SHOWN, TASK_NAME_PATTERN, TASK_NAME_RULE, CHILD_SUFFIX_LENGTH, TIMEOUT_EXIT_CODE, NOTIFY_STATES } from './spec.js';
export type { NotifyState } from './spec.js';
export type { ParseOptions, TemplateRef } from './spec.js';
export {
  TemplateDefinition, TemplateView, TemplateGetRequest, TemplateListRequest, TemplateList, TemplateStored, applyTemplate,
  parseTemplateDefinition, precheckSpec,
} from './templates.js';
export type { CheckedTemplate, Precheck } from './templates.js';
export { DEFAULT_FILE_LIMITS, FILES_BUCKET, FILES_STREAM, SHA256_RE, TaskFile, checkFiles, fileNameRule } from './files.js';
export type { FileLimits } from './files.js';
export { DOCKER_SOCKETS, KERNEL_PATHS, checkVolumesAllowed, isUnder, normalizeHostPath, volumeRefusal } from './volumes.js';
export { decideAfterExit, decideAfterExitZero, decideAfterRun, retryDelay, RETRY_DELAY_S, RETRY_MAX_DELAY_S } from './retry.js';
export type { AfterRun, AfterRunInput, RetryInput, RetryDecision, RunEnd } from './retry.js';
export { Subjects, Streams, defineMessage, defineFamily, defineRequest, subjectMatches, wildcardTokens } from './subjects.js';
export type { Message, MessageFamily, Request, TypeOf } from './subjects.js';
export { DedupeIds } from './dedupe.js';
export type { DedupeId } from './dedupe.js';
export {
  TaskEvent, Rejection, CancelRequest, GetRequest, ListRequest, RunDispatch, RunStop, RunStarted, RunExited,
  HostAnnounce, HostState, HostEvent, HostRequest, HostDrained, HostView, RunView, TaskView, FireView, ErrorReply,
  RunsRequest, OutputRequest, HostsListRequest, TaskList, RunList, RunOutput, OutputChunk, HostList, DeadLetter, FleetEvent, ScalingEvent, ScalingEventKind,
  ReadyByLabels, MinuteCount, TaskInstanceView, ScalingSummary, Overview, GraphNode, GraphEdge, TaskGraph, UpcomingTask, Schedule, ScheduleRequest,
} from './messages.js';
export { NAME_RULE, NAME_PATTERN, NAME_RE, LABEL_KEY_RULE, LABEL_KEY_RE } from './names.js';
export { BUS_MIGRATIONS_BUCKET, Durables, SERVICE_ROLES, identityName, inboxPrefix, permissionsOf, permits } from './identities.js';
export type { Permissions, Role, ServiceRole } from './identities.js';
export { TASK_LABEL, TaskInstance, hostTakes, placementConstraints } from './task-instance.js';
