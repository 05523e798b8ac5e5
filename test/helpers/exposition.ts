/** One sample of a text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** The OpenMetrics exemplar that ends the line (` # {labels} value timestamp`), if any. */
  exemplar?: { labels: Record<string, string>; value: number; timestamp: number | undefined };
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const EXEMPLAR = /^\{(.*)\} (\S+)(?: (\S+))?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of text.matchAll(LABEL)) {
    labels[l[1] as string] = (l[2] as string).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  }
  return labels;
}

/** Parses the samples of a Prometheus text (or OpenMetrics) exposition. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const hash = line.indexOf(' # {');
    const m = SAMPLE.exec(hash === -1 ? line : line.slice(0, hash));
    if (!m) throw new Error(`not a sample line: ${line}`);
    const sample: Sample = { name: m[1] as string, labels: parseLabels(m[2] ?? ''), value: Number(m[3] === 'Nan' ? Number.NaN : m[3]) };
    if (hash !== -1) {
      const e = EXEMPLAR.exec(line.slice(hash + 3));
      if (!e) throw new Error(`not an exemplar: ${line}`);
      sample.exemplar = {
        labels: parseLabels(e[1] as string),
        value: Number(e[2]),
        timestamp: e[3] === undefined ? undefined : Number(e[3]),
      };
    }
    samples.push(sample);
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when none, throws when several. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = parseExposition(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Every sample named `name`. */
export function samples(text: string, name: string): Sample[] {
  return parseExposition(text).filter((s) => s.name === name);
}
