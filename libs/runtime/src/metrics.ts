import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** What each counter counts, for its HELP line; a counter not listed here is described by its name. */
const HELP: Readonly<Record<string, string>> = {
  messages_set_aside: 'Messages set aside for good (dead letter or rejection): they could never be handled',
  deliveries_failed: 'Messages whose handling failed once (each try counts), by consumer and by what the failure was',
  unhandled_rejections: 'Promises that failed with nobody awaiting them (a bug)',
  announcements_refused: 'Host announcements host-health refused',
  forged_reports: 'Reports, announcements, dispatches and stops refused as forged (from another host than the one they name, or than the run\'s), by kind',
  pruned_runs: 'Runs pruned by retention',
  pruned_files: 'Files (objects of the files\' store) deleted by retention',
  pruned_fires: 'Fire records pruned by retention',
  ledger_statements: 'Ledger statements run by this process',
  http_requests: 'HTTP API requests, by route pattern and status',
};

/**
 * The process's metrics, served as Prometheus text on /metrics (prom-client underneath). Every metric is named
 * `tangerine_<name>` (counters `tangerine_<name>_total`) and carries `service`, the process's name.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Set<string>();

  /** `defaults` adds Node's process metrics (CPU, memory, event loop lag, GC): one process, one set. */
  constructor(service = 'tangerine', opts: { defaults?: boolean } = {}) {
    this.registry.setDefaultLabels({ service });
    if (opts.defaults) collectDefaultMetrics({ register: this.registry });
  }

  /** Adds `by` to the counter `tangerine_<name>_total` (created at first use, with the label names of that use). */
  inc(name: string, by = 1, labels: Labels = {}): void {
    let counter = this.counters.get(name);
    if (!counter) {
      counter = new Counter({
        name: `tangerine_${name}_total`, help: HELP[name] ?? name.replace(/_/g, ' '),
        labelNames: Object.keys(labels), registers: [this.registry],
      });
      this.counters.set(name, counter);
    }
    counter.inc(labels, by);
  }

  /** A gauge `tangerine_<name>` read at each scrape. */
  gauge(name: string, read: () => number, help = HELP[name] ?? name.replace(/_/g, ' ')): void {
    if (this.gauges.has(name)) this.registry.removeSingleMetric(`tangerine_${name}`);
    this.gauges.add(name);
    new Gauge({ name: `tangerine_${name}`, help, registers: [this.registry], collect() { this.set(read()); } });
  }

  /**
   * A gauge `tangerine_<name>{<label>=…}` whose values are read at each scrape, at most once per `everyMs` (a read
   * that queries the ledger is not paid for by every scraper); a read that fails leaves the last values.
   */
  gaugeByLabel(name: string, help: string, label: string, read: () => Promise<Record<string, number>>, everyMs = 0): void {
    let last: Record<string, number> = {};
    let readAt = Number.NEGATIVE_INFINITY;
    new Gauge({
      name: `tangerine_${name}`, help, labelNames: [label], registers: [this.registry],
      async collect() {
        if (performance.now() - readAt >= everyMs) {
          readAt = performance.now();
          last = await read().catch(() => last);
        }
        for (const [value, n] of Object.entries(last)) this.set({ [label]: value }, n);
      },
    });
  }

  /** A histogram `tangerine_<name>`, its buckets in the unit its name says. */
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]): Histogram<L> {
    return new Histogram({ name: `tangerine_${name}`, help, labelNames, buckets: [...buckets], registers: [this.registry] });
  }

  /** The Prometheus text of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
