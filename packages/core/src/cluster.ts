import cluster, { type Worker } from 'node:cluster';
import type { IncomingMessage, Server } from 'node:http';
import promClient, { type Registry } from 'prom-client';
import {
  answerScrape,
  joinFamilies,
  type RenderedExposition,
  renderExposition,
  type ScrapeRequest,
  type ScrapeResponse,
  wantsOpenMetrics,
} from './exposition.js';
import { type FamilyData, renderFamily } from './exposition-format.js';
import { startHttpServer } from './metrics-server.js';
import type { ClusterPrimary, ClusterPrimaryOptions, Exposition, GenerateOptions } from './types.js';

/** Default of {@link ClusterPrimaryOptions.timeout}. */
export const DEFAULT_CLUSTER_TIMEOUT = 1000;

/** Gauges the primary adds to the sum. */
const WORKERS_GAUGE = { name: 'cluster_workers', help: 'Live node:cluster workers that report prom-http metrics' };
const RESPONDING_GAUGE = {
  name: 'cluster_workers_responding',
  help: 'Workers whose metrics arrived in time for this scrape; the others count with their last known counters and histograms',
};

/** IPC message types; prefixed so that they never meet the application's own messages. */
const HELLO = 'prom-http:hello';
const ROLL_CALL = 'prom-http:roll-call';
const WELCOME = 'prom-http:welcome';
const COLLECT = 'prom-http:collect';
const REPORT_REQUEST = 'prom-http:report-request';
const REPORT = 'prom-http:report';
const SUM = 'prom-http:sum';

/** Numbers JSON cannot carry (NaN, +/-Infinity) cross the IPC channel as their `String()`; `Number()` reads them back. */
type WireNumber = number | string;
export interface WireFamily extends Omit<FamilyData, 'values'> {
  values: Array<{ value: WireNumber; labels: Record<string, string | number>; metricName?: string }>;
}

type Message =
  | { type: typeof HELLO }
  | { type: typeof ROLL_CALL }
  | { type: typeof WELCOME; timeout: number }
  | { type: typeof COLLECT; id: number; names: string[] | null }
  | { type: typeof REPORT_REQUEST; id: number; names: string[] | null }
  | { type: typeof REPORT; id: number; families?: WireFamily[]; error?: string }
  | { type: typeof SUM; id: number; families?: WireFamily[]; error?: string };

function isMessage(message: unknown): message is Message {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('prom-http:')
  );
}

/** A sample; `partials` (primary only) holds a retired total's exact sum, see `exactSum`. */
type Value = NonNullable<FamilyData['values']>[number] & { partials?: number[] };
/** A family as collected, reported and aggregated: prom-client's `get()` shape with its aggregator resolved. */
export type Family = FamilyData & { values: Value[]; aggregator: string };

/** Prepares families for the IPC channel (in place): non-finite values become strings. */
export function toWire(families: readonly Family[]): WireFamily[] {
  for (const family of families) {
    for (const v of family.values) if (!Number.isFinite(v.value)) (v as { value: WireNumber }).value = String(v.value);
  }
  return families as unknown as WireFamily[];
}

/** Reads families from the IPC channel (in place), the inverse of `toWire`. */
export function fromWire(families: WireFamily[] | undefined): Family[] {
  const out = (families ?? []) as unknown as Family[];
  for (const family of out) {
    for (const v of family.values) if (typeof v.value !== 'number') v.value = Number(v.value);
  }
  return out;
}

// --- collection (workers and the primary) ---------------------------------------------------------

interface CollectableMetric {
  name: string;
  get(): Promise<FamilyData> | FamilyData;
}

/**
 * The families of `registries` in the shape of prom-client's `getMetricsAsJSON()` (registry default labels
 * merged into each value's labels the way it merges them), without exemplars, which aggregation drops.
 */
export async function collectFamilies(registries: Iterable<Registry>, names: ReadonlySet<string> | null): Promise<Family[]> {
  const seen = new Set<string>();
  const jobs: Array<Promise<Family>> = [];
  for (const registry of registries) {
    const defaults = (registry as unknown as { _defaultLabels?: Record<string, string | number> })._defaultLabels ?? {};
    const defaultNames = Object.keys(defaults);
    for (const metric of registry.getMetricsAsArray() as unknown as CollectableMetric[]) {
      if (seen.has(metric.name) || (names !== null && !names.has(metric.name))) continue;
      seen.add(metric.name);
      jobs.push(collectFamily(metric, defaults, defaultNames));
    }
  }
  return Promise.all(jobs);
}

async function collectFamily(
  metric: CollectableMetric,
  defaults: Record<string, string | number>,
  defaultNames: readonly string[],
): Promise<Family> {
  const data = await metric.get();
  const values: Value[] = [];
  for (const v of data.values ?? []) {
    let labels = v.labels ?? {};
    if (defaultNames.length > 0) {
      labels = { ...labels };
      for (const n of defaultNames) labels[n] = labels[n] || (defaults[n] as string | number);
    }
    values.push(v.metricName === undefined ? { value: v.value, labels } : { value: v.value, labels, metricName: v.metricName });
  }
  return { name: data.name, help: data.help, type: data.type, aggregator: data.aggregator ?? 'sum', values };
}

// --- aggregation ----------------------------------------------------------------------------------

/**
 * Adds `x` to the exact sum held in `partials`: non-overlapping floats whose exact sum is everything added
 * (Shewchuk's algorithm, as in Python's `math.fsum`).
 */
function addExact(partials: number[], value: number): void {
  let x = value;
  let i = 0;
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j] as number;
    if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials.length = i;
  partials.push(x);
}

/** The exact sum held in `partials`, correctly rounded to the nearest float (ties to even). */
function roundExact(partials: readonly number[]): number {
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n] as number;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n] as number;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  const next = n > 0 ? (partials[n - 1] as number) : 0;
  if ((lo < 0 && next < 0) || (lo > 0 && next > 0)) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

/**
 * The sum of `values`, exact then rounded once, so that it does not depend on their order or grouping: summed
 * left to right, moving an exited worker's counters into the retired total could change the last bit of a
 * `_sum` and make it go down, which Prometheus reads as a counter reset.
 */
function exactSum(values: readonly number[]): { value: number; partials: number[] } {
  const partials: number[] = [];
  for (const v of values) {
    if (!Number.isFinite(v)) return { value: values.reduce((a, b) => a + b, 0), partials: [] };
    addExact(partials, v);
  }
  const value = roundExact(partials);
  return Number.isFinite(value) ? { value, partials } : { value: values.reduce((a, b) => a + b, 0), partials: [] };
}

type Reducer = (values: readonly number[]) => number;

const REDUCERS: Record<string, Reducer> = {
  max: (values) => values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY),
  min: (values) => values.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY),
  first: (values) => values[0] as number,
  average: (values) => exactSum(values).value / values.length,
};

function isQuantile(v: Value): boolean {
  return v.metricName === undefined && v.labels !== undefined && Object.hasOwn(v.labels, 'quantile');
}

/**
 * The reducer of a value of `family` (null: the exact sum): the family's `aggregator` (prom-client's names;
 * `sum` when unknown), except for the quantiles of a summary left at prom-client's default `sum`. Quantiles
 * cannot be summed or averaged into a quantile of the whole; but the cluster-wide q-quantile always lies
 * between the smallest and the largest of the workers' q-quantiles (the pooled distribution is a mixture of
 * theirs), so the maximum is a true upper bound, the safe side for latency objectives. `_sum` and `_count`
 * are summed.
 */
function reducerOf(family: Family, v: Value): Reducer | null {
  if (family.type === 'summary' && family.aggregator === 'sum' && isQuantile(v)) return REDUCERS.max as Reducer;
  return REDUCERS[family.aggregator] ?? null;
}

/** Identity of a sample within its family: its metric name and its labels in any order. */
function sampleKey(v: Value): string {
  const labels = v.labels ?? {};
  let key = v.metricName ?? '';
  for (const name of Object.keys(labels).sort()) key += `\u0000${name}\u0001${labels[name]}`;
  return key;
}

interface SampleGroup {
  sample: Value;
  values: number[];
  /** The values with a retired total's exact partials in place of its rounded value. */
  exact: number[];
}

/**
 * Aggregates the families of several processes the way prom-client's `AggregatorRegistry.aggregate` does
 * (families and samples in the order first seen, each sample reduced by its family's `aggregator`, `omit`
 * drops the family), except that sums are exact (see `exactSum`; they can differ from prom-client's
 * left-to-right sum in the last digit) and summary quantiles take the maximum (see `reducerOf`). A family
 * whose type differs from the first one seen under its name is left out for that process: it cannot be
 * rendered as one family. `keepPartials` keeps each sum's exact partials, for a total that is added to later.
 */
export function aggregateFamilies(contributions: ReadonlyArray<readonly Family[]>, keepPartials = false): Family[] {
  const byName = new Map<string, { family: Family; samples: Map<string, SampleGroup> }>();
  for (const families of contributions) {
    for (const family of families) {
      let entry = byName.get(family.name);
      if (entry === undefined) {
        entry = { family, samples: new Map() };
        byName.set(family.name, entry);
      } else if (entry.family.type !== family.type) {
        continue;
      }
      for (const v of family.values) {
        const key = sampleKey(v);
        let group = entry.samples.get(key);
        if (group === undefined) {
          group = { sample: v, values: [], exact: [] };
          entry.samples.set(key, group);
        }
        group.values.push(v.value);
        if (v.partials !== undefined && v.partials.length > 0) group.exact.push(...v.partials);
        else group.exact.push(v.value);
      }
    }
  }
  const out: Family[] = [];
  for (const { family, samples } of byName.values()) {
    if (family.aggregator === 'omit') continue;
    const values: Value[] = [];
    for (const { sample, values: all, exact } of samples.values()) {
      const reducer = reducerOf(family, sample);
      const labels = sample.labels ?? {};
      const v: Value = { value: 0, labels };
      if (sample.metricName !== undefined) v.metricName = sample.metricName;
      if (reducer !== null) {
        v.value = reducer(all);
      } else {
        const sum = exactSum(exact);
        v.value = sum.value;
        if (keepPartials) v.partials = sum.partials;
      }
      values.push(v);
    }
    out.push({ name: family.name, help: family.help, type: family.type, aggregator: family.aggregator, values });
  }
  return out;
}

/**
 * The part of a family that must never go backwards in the sum: counters, histograms, and a summary's `_sum`
 * and `_count`. Null when nothing of it is.
 */
function monotonicPart(family: Family): Family | null {
  if (family.type === 'counter' || family.type === 'histogram') return family;
  if (family.type === 'summary') return { ...family, values: family.values.filter((v) => !isQuantile(v)) };
  return null;
}

/** Renders aggregated families exactly as prom-client renders the registry `AggregatorRegistry.aggregate` builds. */
export function renderFamilies(families: readonly Family[], accept: string | undefined): Exposition {
  const openMetrics = wantsOpenMetrics(accept);
  return joinFamilies(
    families.map((family) => renderFamily(family, null, openMetrics)),
    openMetrics,
  );
}

function wantedNames(names: readonly string[] | undefined): string[] | null {
  return names !== undefined && names.length > 0 ? [...names] : null;
}

// --- worker side ----------------------------------------------------------------------------------

/** How long a worker waits beyond the primary's timeout before it gives up on the primary. */
const WORKER_GRACE = 1000;

interface PendingSum {
  resolve(families: Family[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One per worker process: every registry of a `cluster: true` instance is reported as one set. */
class WorkerSide {
  readonly registries = new Set<Registry>();
  private readonly pending = new Map<number, PendingSum>();
  private nextId = 0;
  /** The primary's timeout, once it has introduced itself; null while it has not (or does not run prom-http). */
  private primaryTimeout: number | null = null;
  private warned = false;

  constructor() {
    const side = this;
    process.on('message', function promHttpWorkerMessage(message: unknown) {
      if (isMessage(message)) side.onMessage(message);
    });
    this.send({ type: HELLO }).catch(ignore);
  }

  private send(message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      if (typeof process.send !== 'function' || !process.connected) {
        reject(new Error('prom-http: the IPC channel to the cluster primary is closed'));
        return;
      }
      process.send(message, undefined, undefined, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  }

  private onMessage(message: Message): void {
    switch (message.type) {
      case ROLL_CALL:
        this.send({ type: HELLO }).catch(ignore);
        break;
      case WELCOME:
        this.primaryTimeout = message.timeout;
        break;
      case REPORT_REQUEST:
        this.report(message.id, message.names);
        break;
      case SUM: {
        const pending = this.pending.get(message.id);
        if (pending === undefined) return;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.error !== undefined) pending.reject(new Error(`prom-http: the cluster primary failed: ${message.error}`));
        else pending.resolve(fromWire(message.families));
        break;
      }
    }
  }

  private report(id: number, names: string[] | null): void {
    collectFamilies(this.registries, names === null ? null : new Set(names))
      .then(
        (families) => this.send({ type: REPORT, id, families: toWire(families) }),
        (error: unknown) => {
          // The primary counts this worker with its last known counters, as if it had not answered.
          const text = error instanceof Error ? error.message : String(error);
          if (!this.warned) {
            this.warned = true;
            process.emitWarning(`collecting metrics for the cluster primary failed (${text})`, 'PromHttpWarning');
          }
          return this.send({ type: REPORT, id, error: text });
        },
      )
      .catch(ignore);
  }

  /** Asks the primary for the cluster-wide families. */
  sum(names: string[] | null): Promise<Family[]> {
    const id = this.nextId++;
    const limit = (this.primaryTimeout ?? DEFAULT_CLUSTER_TIMEOUT) + WORKER_GRACE;
    return new Promise<Family[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            this.primaryTimeout === null
              ? `prom-http: no answer from the cluster primary within ${limit} ms; call setupClusterPrimary() in the primary`
              : `prom-http: no answer from the cluster primary within ${limit} ms`,
          ),
        );
      }, limit);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ type: COLLECT, id, names }).catch((error: Error) => {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(error);
      });
    });
  }
}

function ignore(): void {}

let workerSide: WorkerSide | null = null;

/**
 * The renderer of a `cluster: true` instance: in a `node:cluster` worker, the sum over the cluster, asked of
 * the primary; in any other process, the registry's own metrics (the process is the whole "cluster").
 */
export function clusterRenderer(registry: Registry): (options: GenerateOptions) => Promise<RenderedExposition> {
  if (!cluster.isWorker || typeof process.send !== 'function') {
    return function renderLocalMetrics(options) {
      return renderExposition(registry, options);
    };
  }
  workerSide ??= new WorkerSide();
  const side = workerSide;
  side.registries.add(registry);
  return async function renderClusterMetrics({ accept, names }) {
    return renderFamilies(await side.sum(wantedNames(names)), accept);
  };
}

// --- primary side ---------------------------------------------------------------------------------

interface WorkerState {
  /** The worker's families as last reported, by name. */
  last: Map<string, Family>;
  /** Id of the round `last` comes from; an older round's late answer is not applied. */
  round: number;
}

interface Round {
  names: ReadonlySet<string> | null;
  /** Workers asked that have not answered, exited or failed. */
  waiting: Set<number>;
  fresh: Map<number, Family[]>;
  timer: NodeJS.Timeout;
  finish(): void;
}

let activePrimary: Primary | null = null;

class Primary implements ClusterPrimary {
  server: Server | null = null;
  private readonly workers = new Map<number, WorkerState>();
  /** Counters and histograms of exited workers, summed: they stay in the total so it never goes back. */
  private retired: Family[] = [];
  private readonly rounds = new Map<number, Round>();
  private nextRound = 0;

  constructor(
    private readonly timeout: number,
    private readonly registry: Registry,
  ) {}

  readonly onMessage = (worker: Worker, message: unknown): void => {
    if (!isMessage(message)) return;
    switch (message.type) {
      case HELLO:
        this.know(worker.id);
        sendTo(worker, { type: WELCOME, timeout: this.timeout });
        break;
      case COLLECT:
        this.know(worker.id);
        this.collect(message.names === null ? null : new Set(message.names)).then(
          (families) => sendTo(worker, { type: SUM, id: message.id, families: toWire(families) }),
          (error: unknown) => sendTo(worker, { type: SUM, id: message.id, error: error instanceof Error ? error.message : String(error) }),
        );
        break;
      case REPORT:
        this.onReport(worker.id, message);
        break;
    }
  };

  readonly onGone = (worker: Worker): void => {
    this.retire(worker.id);
  };

  private know(id: number): void {
    if (!this.workers.has(id)) this.workers.set(id, { last: new Map(), round: -1 });
  }

  private onReport(id: number, message: Extract<Message, { type: typeof REPORT }>): void {
    const state = this.workers.get(id);
    const round = this.rounds.get(message.id);
    if (message.error === undefined && state !== undefined) {
      const families = fromWire(message.families);
      round?.fresh.set(id, families);
      if (message.id > state.round) {
        // A late answer to a finished round may have been filtered by name[]: it only updates what it holds.
        if (round !== undefined && round.names === null) state.last = new Map();
        for (const family of families) state.last.set(family.name, family);
        state.round = message.id;
      }
    }
    if (round?.waiting.delete(id) && round.waiting.size === 0) round.finish();
  }

  private retire(id: number): void {
    const state = this.workers.get(id);
    if (state === undefined) return;
    this.workers.delete(id);
    const kept: Family[] = [];
    for (const family of state.last.values()) {
      const part = monotonicPart(family);
      if (part !== null) kept.push(part);
    }
    if (kept.length > 0) this.retired = aggregateFamilies([this.retired, kept], true);
    for (const round of this.rounds.values()) {
      round.fresh.delete(id);
      if (round.waiting.delete(id) && round.waiting.size === 0) round.finish();
    }
  }

  /** One collection round: ask every live worker, wait for all of them or the timeout, aggregate. */
  private async collect(names: ReadonlySet<string> | null): Promise<Family[]> {
    const id = this.nextRound++;
    const asked: Worker[] = [];
    for (const workerId of [...this.workers.keys()]) {
      const worker = cluster.workers?.[workerId];
      if (worker === undefined || !worker.isConnected() || worker.isDead()) this.retire(workerId);
      else asked.push(worker);
    }
    const fresh = await new Promise<Map<number, Family[]>>((resolve) => {
      const round: Round = {
        names,
        waiting: new Set(asked.map((w) => w.id)),
        fresh: new Map(),
        timer: setTimeout(() => round.finish(), this.timeout),
        finish: () => {
          clearTimeout(round.timer);
          this.rounds.delete(id);
          resolve(round.fresh);
        },
      };
      this.rounds.set(id, round);
      if (asked.length === 0) {
        round.finish();
        return;
      }
      const list = names === null ? null : [...names];
      for (const worker of asked) {
        if (!sendTo(worker, { type: REPORT_REQUEST, id, names: list }) && round.waiting.delete(worker.id) && round.waiting.size === 0) {
          round.finish();
        }
      }
    });

    const contributions: Family[][] = [];
    for (const workerId of [...this.workers.keys()].sort((a, b) => a - b)) {
      const families = fresh.get(workerId);
      if (families !== undefined) {
        contributions.push(families);
        continue;
      }
      const last = (this.workers.get(workerId) as WorkerState).last;
      const kept: Family[] = [];
      for (const family of last.values()) {
        if (names !== null && !names.has(family.name)) continue;
        const part = monotonicPart(family);
        if (part !== null) kept.push(part);
      }
      contributions.push(kept);
    }
    contributions.push(names === null ? this.retired : this.retired.filter((f) => names.has(f.name)));
    contributions.push(await collectFamilies([this.registry], names));

    const sum = aggregateFamilies(contributions);
    const responding = [...fresh.keys()].filter((workerId) => this.workers.has(workerId)).length;
    const present = new Set(sum.map((f) => f.name));
    for (const [gauge, value] of [
      [WORKERS_GAUGE, this.workers.size],
      [RESPONDING_GAUGE, responding],
    ] as const) {
      if (present.has(gauge.name) || (names !== null && !names.has(gauge.name))) continue;
      sum.push({ name: gauge.name, help: gauge.help, type: 'gauge', aggregator: 'sum', values: [{ value, labels: {} }] });
    }
    return sum;
  }

  async generateMetrics({ accept, names }: GenerateOptions = {}): Promise<Exposition> {
    const wanted = wantedNames(names);
    return renderFamilies(await this.collect(wanted === null ? null : new Set(wanted)), accept);
  }

  readonly scrape = async (_req: IncomingMessage, request: ScrapeRequest): Promise<ScrapeResponse> => {
    try {
      return await answerScrape(request, (options) => this.generateMetrics(options));
    } catch (error) {
      return {
        status: 500,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: `metrics could not be rendered: ${error instanceof Error ? error.message : String(error)}\n`,
      };
    }
  };

  async close(): Promise<void> {
    if (activePrimary === this) activePrimary = null;
    cluster.off('message', this.onMessage);
    cluster.off('exit', this.onGone);
    cluster.off('disconnect', this.onGone);
    for (const round of this.rounds.values()) round.finish();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Sends unless the worker is gone; false when it could not be sent. */
function sendTo(worker: Worker, message: Message): boolean {
  if (!worker.isConnected()) return false;
  try {
    worker.send(message, ignore);
    return true;
  } catch {
    return false;
  }
}

const PRIMARY_OPTIONS = new Set(['port', 'host', 'endpoint', 'timeout', 'registry']);

/**
 * Sets up the primary of a `node:cluster` for prom-http's multi-process mode: workers whose instance has
 * `cluster: true` then answer a scrape of their own `/metrics` with the sum over all live workers and the
 * primary's own registry. With `port`, the primary also serves that sum on its own metrics server.
 *
 * Call it once, in the primary, before or after forking. Rejects with a TypeError naming a bad option, with an
 * Error outside the primary, when it already runs, or when the port is taken.
 */
export async function setupClusterPrimary(options: ClusterPrimaryOptions = {}): Promise<ClusterPrimary> {
  if (typeof options !== 'object' || options === null) throw new TypeError('prom-http: setupClusterPrimary options must be an object');
  for (const name of Object.keys(options)) {
    if (!PRIMARY_OPTIONS.has(name)) throw new TypeError(`prom-http: setupClusterPrimary has no option "${name}"`);
  }
  const { port, host, endpoint, timeout = DEFAULT_CLUSTER_TIMEOUT, registry = promClient.register } = options;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new TypeError(`prom-http: setupClusterPrimary option "timeout" must be a positive number of milliseconds, got ${timeout}`);
  }
  if (typeof (registry as Partial<Registry> | null)?.getMetricsAsArray !== 'function')
    throw new TypeError('prom-http: setupClusterPrimary option "registry" must be a prom-client Registry');
  if (!cluster.isPrimary) throw new Error('prom-http: setupClusterPrimary() must be called in the cluster primary, not in a worker');
  if (activePrimary !== null) throw new Error('prom-http: setupClusterPrimary() is already running; close() it first');

  const primary = new Primary(timeout, registry);
  activePrimary = primary;
  cluster.on('message', primary.onMessage);
  cluster.on('exit', primary.onGone);
  cluster.on('disconnect', primary.onGone);
  // Workers that started before the primary listened introduce themselves again.
  for (const worker of Object.values(cluster.workers ?? {})) if (worker !== undefined) sendTo(worker, { type: ROLL_CALL });

  if (port !== undefined) {
    const serverOptions: { host?: string; endpoint?: string } = {};
    if (host !== undefined) serverOptions.host = host;
    if (endpoint !== undefined) serverOptions.endpoint = endpoint;
    try {
      primary.server = await startHttpServer(port, serverOptions, primary.scrape);
    } catch (error) {
      await primary.close();
      throw error;
    }
  }
  return primary;
}
