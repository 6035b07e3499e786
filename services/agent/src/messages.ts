import { decode, type JsMsg } from '@tangerine/bus';
import { Subjects, ValidationError, type RunDispatch, type RunStop } from '@tangerine/contracts';

export type AgentMessage = { kind: 'run'; dispatch: RunDispatch } | { kind: 'stop'; stop: RunStop } | { kind: 'foreign'; what: 'run' | 'stop'; name: string; attempt: number; to: string };

/**
 * What the placer and intake send this host (its consumer reads `agents.<host>.>`), read and checked. One whose
 * payload names another host is `foreign`: it is not this host's to run or stop (a forgery, or a bug), and is
 * ignored (acked, with a warning), not set aside: it is no message the consumer failed to read.
 */
export function readAgentMessage(m: Pick<JsMsg, 'subject' | 'data'>, host: string): AgentMessage {
  if (m.subject === Subjects.agentRun.make(host)) {
    const dispatch = decode(m.data, Subjects.agentRun);
    if (dispatch.host !== host) return { kind: 'foreign', what: 'run', name: dispatch.name, attempt: dispatch.attempt, to: dispatch.host };
    return { kind: 'run', dispatch };
  }
  if (m.subject === Subjects.agentStop.make(host)) {
    const stop = decode(m.data, Subjects.agentStop);
    if (stop.host !== host) return { kind: 'foreign', what: 'stop', name: stop.name, attempt: stop.attempt, to: stop.host };
    return { kind: 'stop', stop };
  }
  throw new ValidationError('invalid_message', `subject: ${m.subject} is neither a run nor a stop for ${host}`, { field: 'subject' });
}
