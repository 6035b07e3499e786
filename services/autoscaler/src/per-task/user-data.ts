/** The variables the user data gives the instance's agent: its host id, its one task, one slot. */
export function agentEnv(o: { host: string; task: string }): Record<string, string> {
  return { HOST_ID: o.host, AGENT_ONLY_TASK: o.task, HOST_SLOTS: '1' };
}

/** The heredoc's end marker: no value can hold it (host ids and task names match NAME_RE). */
export const ENV_END = 'TANGERINE_TASK_ENV';
export const ENV_FILE = '/etc/tangerine/task-instance.env';

/**
 * The instance's user data: a shell script that writes the agent's variables to /etc/tangerine/task-instance.env
 * (the AMI's agent unit reads it beside its own: NATS_URL, the identity) and runs TASK_INSTANCE_START. Every value is
 * a name (NAME_RE), so nothing needs quoting; the heredoc is quoted, so nothing is expanded.
 */
export function userData(o: { host: string; task: string; start: string }): string {
  const lines = Object.entries(agentEnv(o)).map(([k, v]) => `${k}=${v}`);
  return [
    '#!/bin/sh',
    `# Tangerine: an agent that takes only task ${o.task} (services/autoscaler/README.md, "One instance per task").`,
    'set -eu',
    'mkdir -p /etc/tangerine',
    `cat > ${ENV_FILE} <<'${ENV_END}'`,
    ...lines,
    ENV_END,
    o.start,
    '',
  ].join('\n');
}
