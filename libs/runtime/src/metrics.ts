/** A few counters and gauges, served as Prometheus text on /metrics. */
export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, () => number>();

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  render(service: string): string {
    const lines: string[] = [];
    for (const [name, value] of this.counters) lines.push(`tangerine_${name}_total{service="${service}"} ${value}`);
    for (const [name, read] of this.gauges) lines.push(`tangerine_${name}{service="${service}"} ${read()}`);
    return lines.join('\n') + '\n';
  }
}
