/**
 * The samples of one family over the whole cluster, each known by one index whatever process reports it, so
 * that adding them up is adding into arrays by index. Never shrinks: a sample once seen keeps its index.
 */
export class ClusterFamily {
  private readonly byMetric = new Map<string | undefined, Map<string, number>>();
  readonly metricName: Array<string | undefined> = [];
  /** Per sample: a summary quantile (its aggregation differs, see `ClusterTables.aggregate`). */
  quantile = new Uint8Array(64);
  size = 0;
  // Per aggregation: which samples this one has seen (`mark[g] === epoch`), their running value and count, and
  // which need the exact sum of everything (`slow`).
  mark = new Uint32Array(64);
  acc = new Float64Array(64);
  count = new Uint32Array(64);
  slow = new Uint8Array(64);
  private epoch = 0;
  /** Samples in the last aggregation of the family, and the size at which it was last compacted. */
  lastSeen = 0;
  compactedAt = 0;

  index(metricName: string | undefined, key: string, quantile: boolean): number {
    let keys = this.byMetric.get(metricName);
    if (keys === undefined) {
      keys = new Map();
      this.byMetric.set(metricName, keys);
    }
    let g = keys.get(key);
    if (g === undefined) {
      g = this.size++;
      keys.set(key, g);
      this.metricName.push(metricName);
      if (g >= this.quantile.length) this.grow();
      this.quantile[g] = quantile ? 1 : 0;
    }
    return g;
  }

  private grow(): void {
    const size = this.quantile.length * 2;
    const quantile = new Uint8Array(size);
    quantile.set(this.quantile);
    this.quantile = quantile;
    const mark = new Uint32Array(size);
    mark.set(this.mark);
    this.mark = mark;
    this.acc = new Float64Array(size);
    this.count = new Uint32Array(size);
    this.slow = new Uint8Array(size);
  }

  /** Renumbers the samples by `remap` (-1: no process refers to it any more, it goes). */
  renumber(remap: Int32Array, size: number): void {
    for (const [metricName, keys] of this.byMetric) {
      for (const [key, g] of keys) {
        const n = remap[g] as number;
        if (n === -1) keys.delete(key);
        else keys.set(key, n);
      }
      if (keys.size === 0) this.byMetric.delete(metricName);
    }
    const metricName: Array<string | undefined> = new Array(size);
    let capacity = 64;
    while (capacity < size) capacity *= 2;
    const quantile = new Uint8Array(capacity);
    for (let g = 0; g < this.size; g++) {
      const n = remap[g] as number;
      if (n === -1) continue;
      metricName[n] = this.metricName[g];
      quantile[n] = this.quantile[g] as number;
    }
    this.metricName.length = 0;
    this.metricName.push(...metricName);
    this.quantile = quantile;
    this.mark = new Uint32Array(capacity);
    this.acc = new Float64Array(capacity);
    this.count = new Uint32Array(capacity);
    this.slow = new Uint8Array(capacity);
    this.epoch = 0;
    this.size = size;
    this.compactedAt = size;
  }

  nextEpoch(): number {
    this.epoch = (this.epoch + 1) >>> 0;
    if (this.epoch === 0) {
      this.mark.fill(0);
      this.epoch = 1;
    }
    return this.epoch;
  }
}
