import cluster, { type Worker } from 'node:cluster';
import type { IncomingMessage, Server } from 'node:http';
import type { Registry } from 'prom-client';
import { resolveClient } from '../client.js';
import {
  answerScrape,
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  type RenderedExposition,
  type ScrapeRequest,
  type ScrapeResponse,
  wantsOpenMetrics,
  wantsProtobuf,
} from '../exposition/exposition.js';
import { startHttpServer } from '../exposition/metrics-server.js';
import { PROTOBUF_CONTENT_TYPE, ProtoWriter } from '../exposition/protobuf.js';
import { ByteWriter } from '../exposition/text-format.js';
import type { ClusterPrimary, ClusterPrimaryOptions, Exposition, GenerateOptions } from '../types.js';
import { type AggregatedFamily, asReported, ClusterTables, type Contribution, type Reported, SourceTable } from './aggregate.js';
import { FamilyEncoder } from './family-encoding.js';
import { renderAggregatedProtobuf } from './native-sum.js';
import { type ExtraGauge, renderAggregated } from './render-aggregated.js';
import {
  COLLECT,
  DEFAULT_CLUSTER_TIMEOUT,
  HELLO,
  isMessage,
  type Message,
  REPORT,
  REPORT_REQUEST,
  ROLL_CALL,
  SUM,
  WELCOME,
  wantedNames,
} from './wire.js';

export { DEFAULT_CLUSTER_TIMEOUT };

/** Gauges the primary adds to the sum. */
const WORKERS_GAUGE = { name: 'cluster_workers', help: 'Live node:cluster workers that report prom-http metrics' };
const RESPONDING_GAUGE = {
  name: 'cluster_workers_responding',
  help: 'Workers whose metrics arrived in time for this scrape; the others count with their last known counters and histograms',
};

interface WorkerState {
  /** The primary's copy of the worker's sample tables. */
  tables: Map<string, SourceTable>;
  /** The worker's families as last reported, by name. */
  last: Map<string, Reported>;
  /** Id of the round `last` comes from; an older round's late answer does not replace it. */
  round: number;
  /** The copy of the tables cannot be trusted (new worker, or a report that did not fit): ask for them whole. */
  needsTables: boolean;
}

interface Round {
  names: ReadonlySet<string> | null;
  /** Workers asked that have not answered, exited or failed. */
  waiting: Set<number>;
  fresh: Map<number, Reported[]>;
  timer: NodeJS.Timeout;
  finish(): void;
}

interface Sum {
  families: AggregatedFamily[];
  gauges: ExtraGauge[];
}

let activePrimary: Primary | null = null;

class Primary implements ClusterPrimary {
  server: Server | null = null;
  private readonly workers = new Map<number, WorkerState>();
  private readonly tables = new ClusterTables();
  /** The primary's own registry goes through the same tables as a worker's, without the IPC channel. */
  private readonly ownEncoder = new FamilyEncoder();
  private readonly ownTables = new Map<string, SourceTable>();
  /** Counters and histograms of exited workers, summed: they stay in the total so it never goes back. */
  private retired: Reported[] = [];
  private readonly rounds = new Map<number, Round>();
  private nextRound = 0;
  /** Size of the last exposition, to start the next one in a buffer that fits. */
  private lastSize = 64 * 1024;

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
          (sum) => {
            const body =
              message.protobuf === true
                ? this.renderProtobuf(sum).toString('base64')
                : this.render(sum, message.openMetrics).toString('utf8');
            sendTo(worker, { type: SUM, id: message.id, body });
          },
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
    if (!this.workers.has(id)) this.workers.set(id, { tables: new Map(), last: new Map(), round: -1, needsTables: true });
  }

  private onReport(id: number, message: Extract<Message, { type: typeof REPORT }>): void {
    const state = this.workers.get(id);
    const round = this.rounds.get(message.id);
    if (message.error === undefined && state !== undefined) {
      const families: Reported[] = [];
      let fits = true;
      for (const wire of message.families ?? []) {
        const reported = this.tables.apply(state.tables, wire);
        if (reported === null) fits = false;
        else families.push(reported);
      }
      if (!fits) {
        // Counted with its last known counters this time, as if it had not answered.
        state.needsTables = true;
      } else {
        round?.fresh.set(id, families);
        if (message.id > state.round) {
          // A late answer to a finished round may have been filtered by name[]: it only updates what it holds.
          if (round !== undefined && round.names === null) state.last = new Map();
          for (const family of families) state.last.set(family.name, family);
          state.round = message.id;
        }
      }
    }
    if (round?.waiting.delete(id) && round.waiting.size === 0) round.finish();
  }

  private retire(id: number): void {
    const state = this.workers.get(id);
    if (state === undefined) return;
    this.workers.delete(id);
    if (state.last.size > 0) {
      const sum = this.tables.aggregate(
        [
          { families: this.retired, monotonic: false },
          { families: state.last.values(), monotonic: true },
        ],
        true,
      );
      this.retired = sum.map(asReported);
    }
    for (const round of this.rounds.values()) {
      round.fresh.delete(id);
      if (round.waiting.delete(id) && round.waiting.size === 0) round.finish();
    }
  }

  /** One collection round: ask every live worker, wait for all of them or the timeout, aggregate. */
  private async collect(names: ReadonlySet<string> | null): Promise<Sum> {
    const id = this.nextRound++;
    const asked = this.liveWorkers();
    const own = this.ownEncoder.collect([this.registry], names);
    const fresh = await this.round(id, asked, names);
    const contributions = this.workerContributions(fresh, names);
    const ownFamilies: Reported[] = [];
    for (const wire of await own) {
      const reported = this.tables.apply(this.ownTables, wire);
      if (reported !== null) ownFamilies.push(reported);
    }
    contributions.push({ families: ownFamilies, monotonic: false });

    const families = this.tables.aggregate(contributions);
    for (const name of this.tables.sparse()) this.tables.compact(name, this.holders(name));
    return { families, gauges: this.gauges(families, fresh, names) };
  }

  /** The workers to ask; those that are gone are retired. */
  private liveWorkers(): Worker[] {
    const asked: Worker[] = [];
    for (const workerId of [...this.workers.keys()]) {
      const worker = cluster.workers?.[workerId];
      if (worker === undefined || !worker.isConnected() || worker.isDead()) this.retire(workerId);
      else asked.push(worker);
    }
    return asked;
  }

  /** Asks `asked` for their reports; resolves with those that came, once all did or at the timeout. */
  private round(id: number, asked: readonly Worker[], names: ReadonlySet<string> | null): Promise<Map<number, Reported[]>> {
    return new Promise<Map<number, Reported[]>>((resolve) => {
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
        const state = this.workers.get(worker.id) as WorkerState;
        const sent = sendTo(worker, { type: REPORT_REQUEST, id, names: list, fresh: state.needsTables });
        if (sent) state.needsTables = false;
        else if (round.waiting.delete(worker.id) && round.waiting.size === 0) round.finish();
      }
    });
  }

  /** Each worker's fresh report, or its last known counters when it did not answer; then the retired total. */
  private workerContributions(fresh: ReadonlyMap<number, Reported[]>, names: ReadonlySet<string> | null): Contribution[] {
    const contributions: Contribution[] = [];
    for (const workerId of [...this.workers.keys()].sort((a, b) => a - b)) {
      const families = fresh.get(workerId);
      if (families !== undefined) {
        contributions.push({ families, monotonic: false });
        continue;
      }
      const last = (this.workers.get(workerId) as WorkerState).last;
      contributions.push({
        families: names === null ? last.values() : [...last.values()].filter((f) => names.has(f.name)),
        monotonic: true,
      });
    }
    contributions.push({ families: names === null ? this.retired : this.retired.filter((f) => names.has(f.name)), monotonic: false });
    return contributions;
  }

  /** The primary's gauges, unless a family of the sum has their name or name[] leaves them out. */
  private gauges(
    families: readonly AggregatedFamily[],
    fresh: ReadonlyMap<number, Reported[]>,
    names: ReadonlySet<string> | null,
  ): ExtraGauge[] {
    const responding = [...fresh.keys()].filter((workerId) => this.workers.has(workerId)).length;
    const present = new Set(families.map((f) => f.name));
    const gauges: ExtraGauge[] = [];
    for (const [gauge, value] of [
      [WORKERS_GAUGE, this.workers.size],
      [RESPONDING_GAUGE, responding],
    ] as const) {
      if (present.has(gauge.name) || (names !== null && !names.has(gauge.name))) continue;
      gauges.push({ ...gauge, value });
    }
    return gauges;
  }

  /**
   * Every table that refers to the cluster-wide indices of family `name`, each once: the copies of the workers'
   * tables, and those a report still holds after a later one restarted the table (a late answer, a pending round).
   */
  private holders(name: string): Array<{ global: number[] }> {
    const holders = new Set<{ global: number[] }>();
    const add = (family: Reported | SourceTable | undefined) => {
      if (family instanceof SourceTable) holders.add(family);
      else if (family !== undefined && family.name === name) holders.add(family.table);
    };
    for (const state of this.workers.values()) {
      add(state.tables.get(name));
      add(state.last.get(name));
    }
    for (const round of this.rounds.values()) for (const families of round.fresh.values()) for (const family of families) add(family);
    add(this.ownTables.get(name));
    for (const family of this.retired) add(family);
    return [...holders];
  }

  private render({ families, gauges }: Sum, openMetrics: boolean): Buffer {
    const w = new ByteWriter(this.lastSize);
    renderAggregated(w, families, gauges, openMetrics);
    this.lastSize = Math.max(64 * 1024, w.pos);
    return w.result();
  }

  /** The sum in the protobuf exposition, with the summed native histogram buckets. */
  private renderProtobuf({ families, gauges }: Sum): Buffer {
    const w = new ProtoWriter();
    renderAggregatedProtobuf(w, families, gauges);
    return w.result();
  }

  private async renderSum({ accept, names }: GenerateOptions): Promise<RenderedExposition> {
    const wanted = wantedNames(names);
    const sum = await this.collect(wanted === null ? null : new Set(wanted));
    if (wantsProtobuf(accept)) return { contentType: PROTOBUF_CONTENT_TYPE, body: this.renderProtobuf(sum) };
    const openMetrics = wantsOpenMetrics(accept);
    const body = this.render(sum, openMetrics);
    return { contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE, body };
  }

  async generateMetrics(options: GenerateOptions = {}): Promise<Exposition> {
    const { contentType, body } = await this.renderSum(options);
    return { contentType, body: body.toString('utf8') };
  }

  readonly scrape = async (_req: IncomingMessage, request: ScrapeRequest): Promise<ScrapeResponse> => {
    try {
      return await answerScrape(request, (options) => this.renderSum(options));
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

function ignore(): void {}

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
  const { port, host, endpoint, timeout = DEFAULT_CLUSTER_TIMEOUT, registry = resolveClient(undefined, undefined).register } = options;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new TypeError(`prom-http: setupClusterPrimary option "timeout" must be a positive number of milliseconds, got ${timeout}`);
  }
  if (typeof (registry as Partial<Registry> | null)?.getMetricsAsArray !== 'function')
    throw new TypeError('prom-http: setupClusterPrimary option "registry" must be a Registry of prom-client or @prometheus-io/client');
  if (!cluster.isPrimary) throw new Error('prom-http: setupClusterPrimary() must be called in the cluster primary, not in a worker');
  if (activePrimary !== null) throw new Error('prom-http: setupClusterPrimary() is already running; close() it first');

  const primary = new Primary(timeout, registry as unknown as Registry);
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
