/**
 * Metrics recorded on every decision. prom-client's own histogram and counter hash a label
 * object on every call, which measured as a large share of a cached subscribe; here each label
 * combination is resolved once to a cell and recording is plain arithmetic. prom-client reads
 * the cells only when /metrics is scraped (they register as ordinary metrics of its Registry).
 */
import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}

abstract class CellMetric<Cell> {
  private readonly cells = new Map<string, { labels: Labels; cell: Cell }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    // The registry only calls get() and reads name/help/type; it does not need a prom-client class.
    registry.registerMetric(this as never);
  }

  protected abstract newCell(): Cell;
  protected abstract values(labels: Labels, cell: Cell): MetricValue[];

  /** The cell for these labels; keep it and record into it on the hot path. */
  cell(labels: Labels): Cell {
    const key = this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
    let entry = this.cells.get(key);
    if (!entry) {
      entry = { labels: Object.fromEntries(this.labelNames.map((n) => [n, labels[n] ?? ''])), cell: this.newCell() };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  get() {
    const values: MetricValue[] = [];
    for (const { labels, cell } of this.cells.values()) values.push(...this.values(labels, cell));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' as const };
  }

  reset(): void {
    this.cells.clear();
  }
}

export class CounterCell {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

export class FastCounter extends CellMetric<CounterCell> {
  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    super(name, help, 'counter', labelNames, registry);
  }
  protected newCell(): CounterCell {
    return new CounterCell();
  }
  protected values(labels: Labels, cell: CounterCell): MetricValue[] {
    return [{ labels, value: cell.value }];
  }
}

export class HistogramCell {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }
}

export class FastHistogram extends CellMetric<HistogramCell> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, 'histogram', labelNames, registry);
  }
  protected newCell(): HistogramCell {
    return new HistogramCell(this.bounds);
  }
  protected values(labels: Labels, cell: HistogramCell): MetricValue[] {
    const values: MetricValue[] = [];
    let cumulative = 0;
    cell.bounds.forEach((bound, i) => {
      cumulative += cell.counts[i] as number;
      values.push({ labels: { ...labels, le: String(bound) }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    values.push({ labels: { ...labels, le: '+Inf' }, value: cell.count, metricName: `${this.name}_bucket` });
    values.push({ labels, value: cell.sum, metricName: `${this.name}_sum` });
    values.push({ labels, value: cell.count, metricName: `${this.name}_count` });
    return values;
  }
}
