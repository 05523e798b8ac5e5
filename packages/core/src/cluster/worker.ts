import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import { warnOnce } from '../diagnostics.js';
import {
  OPENMETRICS_CONTENT_TYPE,
  PROMETHEUS_CONTENT_TYPE,
  type RenderedExposition,
  renderExposition,
  wantsOpenMetrics,
  wantsProtobuf,
} from '../exposition/exposition.js';
import { PROTOBUF_CONTENT_TYPE } from '../exposition/protobuf.js';
import type { GenerateOptions } from '../types.js';
import { FamilyEncoder } from './family-encoding.js';
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

/** How long a worker waits beyond the primary's timeout before it gives up on the primary. */
const WORKER_GRACE = 1000;

interface PendingSum {
  resolve(body: string): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One per worker process: every registry of a `cluster: true` instance is reported as one set. */
class WorkerSide {
  readonly registries = new Set<Registry>();
  private readonly encoder = new FamilyEncoder();
  private readonly pending = new Map<number, PendingSum>();
  private nextId = 0;
  /** The primary's timeout, once it has introduced itself; null while it has not (or does not run prom-http). */
  private primaryTimeout: number | null = null;

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
        this.report(message.id, message.names, message.fresh);
        break;
      case SUM: {
        const pending = this.pending.get(message.id);
        if (pending === undefined) return;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.error !== undefined) pending.reject(new Error(`prom-http: the cluster primary failed: ${message.error}`));
        else pending.resolve(message.body ?? '');
        break;
      }
    }
  }

  private report(id: number, names: string[] | null, fresh: boolean): void {
    if (fresh) this.encoder.reset();
    this.encoder
      .collect(this.registries, names === null ? null : new Set(names))
      .then(
        // Sent in the same tick as encoded: the primary reads the tables' changes in the order they were made.
        (families) => this.send({ type: REPORT, id, families }),
        (error: unknown) => {
          // The primary counts this worker with its last known counters, as if it had not answered.
          const text = error instanceof Error ? error.message : String(error);
          warnOnce('PROMHTTP_CLUSTER_COLLECT_FAILED', `collecting metrics for the cluster primary failed (${text})`);
          return this.send({ type: REPORT, id, error: text });
        },
      )
      .catch(ignore);
  }

  /** Asks the primary for the cluster-wide exposition. */
  sum(names: string[] | null, openMetrics: boolean, protobuf: boolean): Promise<string> {
    const id = this.nextId++;
    const limit = (this.primaryTimeout ?? DEFAULT_CLUSTER_TIMEOUT) + WORKER_GRACE;
    return new Promise<string>((resolve, reject) => {
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
      this.send({ type: COLLECT, id, names, openMetrics, protobuf }).catch((error: Error) => {
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
 * The renderer of a `cluster: true` instance: in a `node:cluster` worker, the sum over the cluster, rendered by
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
    if (wantsProtobuf(accept)) {
      const body = Buffer.from(await side.sum(wantedNames(names), false, true), 'base64');
      return { contentType: PROTOBUF_CONTENT_TYPE, body };
    }
    const openMetrics = wantsOpenMetrics(accept);
    const body = await side.sum(wantedNames(names), openMetrics, false);
    return { contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE, body };
  };
}
