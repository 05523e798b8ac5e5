/**
 * What shaped a metric prom-http registered, kept on the metric itself so that a second instance or wrapper
 * asking for the same name can reuse it only when it would shape it the same way, and otherwise say which
 * option differs. A global symbol: another copy of prom-http in the process (ESM and CommonJS builds) sees it.
 */
export const kShape = Symbol.for('prom-http.shape');

/** Option name -> the value that shaped the metric (compared as JSON). */
export type MetricShape = Readonly<Record<string, unknown>>;

/** The shape prom-http recorded on `metric`, or undefined when prom-http did not register it. */
export function shapeOf(metric: unknown): MetricShape | undefined {
  return (metric as { [kShape]?: MetricShape } | undefined)?.[kShape];
}

/** Records on `metric` the options that shaped it. */
export function setShape<M>(metric: M, shape: MetricShape): M {
  Object.defineProperty(metric, kShape, { value: shape, enumerable: false });
  return metric;
}

/**
 * The first option of `here` whose value differs from `there`, with both values, or null when they match. An
 * option `here` leaves undefined takes whatever the metric has.
 */
export function firstDifference(there: MetricShape, here: MetricShape): { option: string; there: string; here: string } | null {
  for (const option of Object.keys(here)) {
    if (here[option] === undefined) continue;
    const a = JSON.stringify(there[option]) ?? 'none';
    const b = JSON.stringify(here[option]);
    if (a !== b) return { option, there: a, here: b };
  }
  return null;
}

/**
 * The TypeError for a metric name already taken in the registry: by the app (or another library) when
 * prom-http did not register it, else naming the option that differs. `instead` says what else the caller may
 * use (`another "prefix" or "registry"`).
 */
export function clashError(name: string, existing: unknown, here: MetricShape, instead: string): TypeError {
  const there = shapeOf(existing);
  if (there === undefined) {
    const { type, labelNames } = (existing ?? {}) as { type?: string; labelNames?: readonly string[] };
    return new TypeError(
      `prom-http: metric "${name}" is already registered in this registry by the app or another library, not by prom-http ` +
        `(a ${type ?? 'metric'} with labels [${(labelNames ?? []).join(', ')}]); use ${instead}`,
    );
  }
  const diff = firstDifference(there, here);
  if (diff === null) {
    return new TypeError(`prom-http: metric "${name}" is already registered in this registry by another copy of prom-http; use ${instead}`);
  }
  return new TypeError(
    `prom-http: metric "${name}" is already registered in this registry with another "${diff.option}" ` +
      `(${diff.there} there, ${diff.here} here); what shares a metric must give it the same "${diff.option}", or use ${instead}`,
  );
}
