/** What the chaos suite submits, and what the rules say each task must end as. Pure: no I/O. */

export type ChaosKind = 'plain' | 'long' | 'chain' | 'fan-in' | 'flaky' | 'doomed' | 'broken' | 'orphan' | 'fragile' | 'container';

export interface ChaosTask {
  kind: ChaosKind;
  spec: { name: string; restartable?: boolean } & Record<string, unknown>;
}

/** The terminal states the rules allow, given whether one of the task's runs was lost with its host or agent. */
export function predict(task: ChaosTask, lostARun: boolean): string[] {
  switch (task.kind) {
    case 'doomed':
    case 'broken':
      return ['failed'];
    case 'orphan':
      return ['blocked'];
    case 'fragile':
      return lostARun ? ['failed'] : ['success'];
    default:
      return ['success'];
  }
}

/**
 * About `n` tasks: chains of 10, fan-ins of 20 into one, retried failures, failures that block a dependent, tasks
 * that may not restart, containers, and independent short and long runs. Every run first appends
 * `<name> <attempt>` to `<dir>/runs.log`.
 */
export function planChaosTasks(n: number, opts: { dir: string; image: string }): ChaosTask[] {
  const out: ChaosTask[] = [];
  const log = (dir: string) => `echo "$TANGERINE_TASK $TANGERINE_ATTEMPT" >> ${dir}/runs.log`;
  const proc = (kind: ChaosKind, name: string, body: string, extra: Record<string, unknown> = {}) =>
    out.push({ kind, spec: { name, executor: 'process', command: ['sh', '-c', `${log(opts.dir)}; ${body}`], ...extra } });
  const count = (share: number) => Math.max(1, Math.round(n * share));

  for (let c = 0; c < Math.max(1, Math.round((n * 0.2) / 10)); c++) {
    for (let i = 0; i < 10; i++) proc('chain', `chain-${c}-${i}`, 'sleep 0.5', i === 0 ? {} : { dependencies: [`chain-${c}-${i - 1}`] });
  }
  for (let g = 0; g < Math.max(1, Math.round((n * 0.2) / 21)); g++) {
    const parents = Array.from({ length: 20 }, (_, i) => `fan-${g}-${i}`);
    proc('fan-in', `fan-${g}-sink`, 'true', { dependencies: parents });
    parents.forEach((p, i) => proc('fan-in', p, `sleep 0.${1 + (i % 5)}`));
  }
  for (let i = 0; i < count(0.08); i++) {
    proc('flaky', `flaky-${i}`, `if [ -e ${opts.dir}/flag-$TANGERINE_TASK ]; then exit 0; fi; touch ${opts.dir}/flag-$TANGERINE_TASK; exit 3`,
      { recoverable_exitcodes: [3], max_failures: 3 });
  }
  for (let i = 0; i < count(0.04); i++) proc('doomed', `doomed-${i}`, 'exit 3', { recoverable_exitcodes: [3], max_failures: 2 });
  for (let i = 0; i < count(0.02); i++) {
    proc('orphan', `orphan-${i}`, 'true', { dependencies: [`broken-${i}`] });
    proc('broken', `broken-${i}`, 'exit 7');
  }
  for (let i = 0; i < count(0.06); i++) proc('fragile', `fragile-${i}`, `sleep ${2 + (i % 3)}`, { restartable: false });
  for (let i = 0; i < count(0.06); i++) {
    out.push({
      kind: 'container',
      spec: { name: `container-${i}`, image: opts.image, volumes: [`${opts.dir}:/chaos`], command: ['sh', '-c', `${log('/chaos')}; sleep 0.2`] },
    });
  }
  for (let i = 0; out.length < n; i++) {
    if (i % 6 === 0) proc('long', `long-${i}`, `sleep ${2 + (i % 3)}`);
    else proc('plain', `plain-${i}`, `sleep 0.${1 + (i % 5)}`);
  }
  return out;
}
