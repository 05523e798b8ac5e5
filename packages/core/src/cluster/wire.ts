import type { WireNative } from './native-sum.js';

/** Default of {@link ClusterPrimaryOptions.timeout}. */
export const DEFAULT_CLUSTER_TIMEOUT = 1000;

/** IPC message types; prefixed so that they never meet the application's own messages. */
export const HELLO = 'prom-http:hello';
export const ROLL_CALL = 'prom-http:roll-call';
export const WELCOME = 'prom-http:welcome';
export const COLLECT = 'prom-http:collect';
export const REPORT_REQUEST = 'prom-http:report-request';
export const REPORT = 'prom-http:report';
export const SUM = 'prom-http:sum';

/** Numbers JSON cannot carry (NaN, +/-Infinity) cross the IPC channel as their `String()`; `Number()` reads them back. */
export type WireNumber = number | string;

/**
 * One family of a worker's report, shaped for Node's default (JSON) IPC, where strings and arrays of numbers
 * are cheap and many small objects are not. The worker numbers the samples of each family in a table that the
 * primary mirrors: a sample's identity (its metric name and labels) crosses once, when it enters the table;
 * after that only its value does, by position.
 */
export interface WireFamily {
  /** Name, help, type and aggregator (prom-client's names; `sum` when the metric has none). */
  n: string;
  h: string;
  t: string;
  a: string;
  /** The table's length before this report's new samples: the primary checks that its copy has the same. */
  b: number;
  /** Set when the worker started the table afresh (`b` is then 0): the primary drops its copy first. */
  r?: 1;
  /** Metric names new to the table (`x_bucket`...); `m` refers to them from 1 up, 0 being "none" (the family's name). */
  mn?: string[];
  /** Per new sample: its metric name (see `mn`). */
  m?: number[];
  /** Per new sample: its labels as the exposition writes them (`a="1",b="x"`), in the sample's own order. */
  l?: string[];
  /** Per new sample whose labels are not in name order: the same text in name order (0 where `l` is already). */
  s?: Array<string | 0>;
  /** New samples that are summary quantiles, by their position among the new ones. */
  q?: number[];
  /** The values, in the order of the family's samples. */
  v: WireNumber[];
  /** The table index of each value; left out when value `j` is table entry `j`. */
  i?: number[];
  /** A histogram's native buckets, when it keeps them. */
  nh?: WireNative[];
}

export type Message =
  | { type: typeof HELLO }
  | { type: typeof ROLL_CALL }
  | { type: typeof WELCOME; timeout: number }
  /** `protobuf`: the sum is wanted in the protobuf exposition (then `SUM` carries it in base64). */
  | { type: typeof COLLECT; id: number; names: string[] | null; openMetrics: boolean; protobuf?: boolean }
  /** `fresh`: the primary has no copy of the worker's tables (it is new to it, or lost track): send them whole. */
  | { type: typeof REPORT_REQUEST; id: number; names: string[] | null; fresh: boolean }
  | { type: typeof REPORT; id: number; families?: WireFamily[]; error?: string }
  /**
   * `body`: the cluster-wide exposition, rendered by the primary in the format the scrape asked for (base64 for
   * the protobuf exposition: JSON carries no bytes).
   */
  | { type: typeof SUM; id: number; body?: string; error?: string };

export function isMessage(message: unknown): message is Message {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string' &&
    (message as { type: string }).type.startsWith('prom-http:')
  );
}

export function wantedNames(names: readonly string[] | undefined): string[] | null {
  return names !== undefined && names.length > 0 ? [...names] : null;
}
