import type { CustomKind, CustomMetric } from './custom/custom-metric.js';
import type { PromHttp } from './engine.js';
import { routeLabelValue } from './label-values.js';
import type { RequestRecord } from './request/record.js';
import type { CustomMetricOptions, DefaultMetricsOptions, Exposition, GenerateOptions, InfoSeries, LabelValue } from './types.js';

/** What a wrapper runs when a request reaches it: the adapter turns it into middleware or a wrapped handler. */
export type OnEnter<Req, Res> = (record: RequestRecord, req: Req, res: Res) => void;

/** The instance API both adapters return, built once here: the adapters add their endpoint and server parts. */
export interface InstanceApi<Req, Res, W> {
  counter(name: string, help: string, options?: CustomMetricOptions<Req, Res>): W;
  gauge(name: string, help: string, options?: CustomMetricOptions<Req, Res>): W;
  summary(name: string, help: string, options?: CustomMetricOptions<Req, Res>): W;
  histogram(name: string, help: string, options?: CustomMetricOptions<Req, Res>): W;
  info(name: string, help: string, labels?: Record<string, LabelValue>): InfoSeries;
  doNotTrack(): W;
  routeLabel(value: string): W;
  exportDefaults(options?: DefaultMetricsOptions<Req, Res>): void;
  excludeAllMetrics(): W;
  registerDefault(...wrappers: W[]): void;
  generateMetrics(options?: GenerateOptions): Promise<Exposition>;
}

/**
 * The wrapper-making part of an instance: `wrapper(onEnter)` is the adapter's, which knows how a request
 * reaches a handler in its framework; which metric a wrapper feeds, and what `registerDefault` accepts, is kept
 * here.
 */
export function instanceApi<Req, Res, W extends object>(
  engine: PromHttp<Req, Res>,
  wrapper: (onEnter: OnEnter<Req, Res>) => W,
): InstanceApi<Req, Res, W> {
  const metrics = new WeakMap<W, CustomMetric<Req, Res>>();
  function custom(kind: CustomKind, name: string, help: string, options?: CustomMetricOptions<Req, Res>): W {
    const metric = engine.custom(kind, name, help, options);
    const w = wrapper(function enterCustom(record, req, res) {
      engine.enter(record, metric, req, res);
    });
    metrics.set(w, metric);
    return w;
  }
  return {
    counter: (name, help, options) => custom('counter', name, help, options),
    gauge: (name, help, options) => custom('gauge', name, help, options),
    summary: (name, help, options) => custom('summary', name, help, options),
    histogram: (name, help, options) => custom('histogram', name, help, options),
    info: (name, help, labels) => engine.info(name, help, labels),
    doNotTrack: () =>
      wrapper(function doNotTrack(record) {
        engine.skipDefaults(record);
      }),
    routeLabel(value) {
      const label = routeLabelValue(value, 'routeLabel(value)');
      return wrapper(function setRouteLabel(record) {
        record.route = label;
      });
    },
    exportDefaults: (options) => engine.exportDefaults(options),
    excludeAllMetrics: () =>
      wrapper(function excludeAllMetrics(record) {
        engine.skipAll(record);
      }),
    registerDefault(...wrappers) {
      engine.registerDefault(
        ...wrappers.map((w) => {
          const metric = metrics.get(w);
          if (metric === undefined)
            throw new TypeError('prom-http: registerDefault takes wrappers made by counter(), gauge(), summary() or histogram()');
          return metric;
        }),
      );
    },
    generateMetrics: (options) => engine.generateMetrics(options),
  };
}
