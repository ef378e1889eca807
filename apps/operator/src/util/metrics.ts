/** A minimal Prometheus registry (text exposition format 0.0.4): counters, gauges, histograms. */
type Labels = Record<string, string>;

const labelKey = (labels: Labels) =>
  Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.#values.set(k, (this.#values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.#values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  readonly #values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(value: number, labels: Labels = {}): void {
    this.#values.set(labelKey(labels), value);
  }
  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels)) ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [k, v] of this.#values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  readonly #series = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ) {}
  observe(value: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.#series.get(k);
    if (!s) {
      s = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.#series.set(k, s);
    }
    for (const [i, b] of this.bounds.entries()) if (value <= b) s.buckets[i] = (s.buckets[i] ?? 0) + 1;
    s.sum += value;
    s.count += 1;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.#series) {
      const sep = k ? `${k},` : '';
      for (const [i, b] of this.bounds.entries())
        lines.push(`${this.name}_bucket{${sep}le="${b}"} ${s.buckets[i]}`);
      lines.push(`${this.name}_bucket{${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${k ? `{${k}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** The operator's metrics. */
export class OperatorMetrics {
  readonly reconciles = new Counter(
    'bastion_operator_reconcile_total',
    'Reconciles by result (success, error, requeue).',
  );
  readonly reconcileSeconds = new Histogram(
    'bastion_operator_reconcile_duration_seconds',
    'Reconcile duration.',
  );
  readonly applies = new Counter('bastion_operator_apply_total', 'Server-side applies by kind and result.');
  readonly statusWrites = new Counter(
    'bastion_operator_status_updates_total',
    'Status writes of MCPRemoteProxy objects.',
  );
  readonly queueDepth = new Gauge('bastion_operator_workqueue_depth', 'Keys waiting in the work queue.');
  readonly leader = new Gauge('bastion_operator_leader', '1 while this replica holds the leader lease.');

  render(): string {
    return `${[
      this.reconciles,
      this.reconcileSeconds,
      this.applies,
      this.statusWrites,
      this.queueDepth,
      this.leader,
    ]
      .map((m) => m.render())
      .join('\n')}\n`;
  }
}
