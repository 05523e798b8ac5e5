import { type ByteWriter, escapeString, familyHeader, valueString } from '../exposition/text-format.js';
import type { AggregatedFamily } from './aggregate.js';

/** How families are joined in each format, as `renderExposition` joins them. */
const FRAMING = {
  text: { separator: Buffer.from('\n\n'), end: Buffer.from('\n') },
  openMetrics: { separator: Buffer.from('\n'), end: Buffer.from('\n# EOF\n') },
};
const CLOSE = Buffer.from('} ');

/** A single-sample gauge the primary adds to the sum. */
export interface ExtraGauge {
  name: string;
  help: string;
  value: number;
}

/**
 * Writes the sum as prom-client renders the registry `AggregatorRegistry.aggregate` builds from the same
 * families, byte for byte: each sample's labels in the order of the process that first reported it.
 */
export function renderAggregated(
  w: ByteWriter,
  families: readonly AggregatedFamily[],
  gauges: readonly ExtraGauge[],
  openMetrics: boolean,
): void {
  const framing = openMetrics ? FRAMING.openMetrics : FRAMING.text;
  let first = true;
  for (const family of families) {
    if (!first) w.bytes(framing.separator);
    first = false;
    const isCounter = family.type === 'counter';
    const base = escapeString(openMetrics && isCounter ? family.name.replace(/_total$/, '') : family.name);
    const suffix = openMetrics && isCounter ? '_total' : '';
    w.str(familyHeader(family.name, family.help, family.type, openMetrics));
    const { order, display, values } = family;
    const metricName = family.cluster.metricName;
    // Line starts by metric name (a family has a handful: `_bucket`, `_sum`, `_count`...).
    const starts = new Map<string | undefined, { labelled: Buffer; bare: Buffer }>();
    let current: string | undefined | null = null;
    let start: { labelled: Buffer; bare: Buffer } = { labelled: CLOSE, bare: CLOSE };
    for (let pos = 0; pos < order.length; pos++) {
      const name = metricName[order[pos] as number];
      if (name !== current) {
        current = name;
        let known = starts.get(name);
        if (known === undefined) {
          const lineName = (name ?? base) + suffix;
          known = { labelled: Buffer.from(`\n${lineName}{`), bare: Buffer.from(`\n${lineName} `) };
          starts.set(name, known);
        }
        start = known;
      }
      const labels = display[pos] as string;
      if (labels === '') {
        w.bytes(start.bare);
      } else {
        w.bytes(start.labelled);
        w.str(labels);
        w.bytes(CLOSE);
      }
      w.value(values[pos] as number);
    }
  }
  for (const gauge of gauges) {
    if (!first) w.bytes(framing.separator);
    first = false;
    w.str(`${familyHeader(gauge.name, gauge.help, 'gauge', openMetrics)}\n${escapeString(gauge.name)} ${valueString(gauge.value)}`);
  }
  w.bytes(framing.end);
}
