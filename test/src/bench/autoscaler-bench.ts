import { decide, groupReady, type HostInput, type ProviderState } from '@tangerine/autoscaler';
import { percentile } from './stack.js';

export interface AutoscalerBenchSizes {
  hosts: number;
  tasks: number;
  samples: number;
}

export interface AutoscalerBench {
  sizes: AutoscalerBenchSizes;
  /** One evaluation's decision, the 100,000 tasks grouped by label set inside it: p50 and worst (ms). */
  p50Ms: number;
  worstMs: number;
  /** The same with the ready tasks already grouped, as the service reads them (one row per label set). */
  groupedP50Ms: number;
  /** The decision of the last sample, so the figure is of a decision that did something. */
  drained: number;
  target: number;
}

const NOW = 1_800_000_000_000;

/**
 * decide() timed at fleet scale, in this process: `hosts` hosts of one provider in three zones, a fifth of them idle
 * for an hour (candidates for scale-down), the rest full; `tasks` ready tasks, most without constraints, a tenth
 * constrained to a zone and a fifteenth to labels no host has (they count toward no provider).
 */
export function runAutoscalerBench(sizes: AutoscalerBenchSizes): AutoscalerBench {
  const hosts: HostInput[] = [];
  const instances: Array<ProviderState['instances'][number]> = [];
  for (let i = 0; i < sizes.hosts; i++) {
    const idle = i % 5 === 0;
    instances.push({ instanceId: `i-${i}`, state: 'running', launchedAtMs: NOW - 7_200_000 });
    hosts.push({
      id: `h${i}`, labels: { pool: 'auto', zone: `z${i % 3}`, instanceId: `i-${i}` }, slots: 4, used: idle ? 0 : 4, state: 'up',
      idleSinceMs: idle ? NOW - 3_600_000 : null,
    });
  }
  const constraints = (i: number): Record<string, string> => (i % 10 === 0 ? { zone: `z${i % 3}` } : i % 15 === 0 ? { gpu: 'yes' } : {});
  const tasks = Array.from({ length: sizes.tasks }, (_, i) => constraints(i));
  const provider: ProviderState = {
    name: 'bench', min: 1, max: sizes.hosts * 2, labels: { pool: 'auto' }, slotsPerHost: 4, target: sizes.hosts, instances,
    lastUpMs: null, lastDownMs: null, drains: [], askedAtMs: null,
  };
  const settings = { idleMs: 180_000, upCooldownMs: 15_000, downCooldownMs: 120_000, joinDeadlineMs: 600_000, drainSettleMs: 5000 };
  const grouped = groupReady(tasks);
  const whole: number[] = [];
  const pre: number[] = [];
  let last = decide({ ready: grouped, hosts, providers: [provider], nowMs: NOW, settings })[0]!;
  for (let s = 0; s < sizes.samples; s++) {
    let t = performance.now();
    last = decide({ ready: groupReady(tasks), hosts, providers: [provider], nowMs: NOW, settings })[0]!;
    whole.push(performance.now() - t);
    t = performance.now();
    decide({ ready: grouped, hosts, providers: [provider], nowMs: NOW, settings });
    pre.push(performance.now() - t);
  }
  return {
    sizes, p50Ms: percentile(whole, 50), worstMs: Math.max(...whole), groupedP50Ms: percentile(pre, 50), drained: last.drain.length, target: last.target,
  };
}
