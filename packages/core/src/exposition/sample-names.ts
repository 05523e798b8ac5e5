import type { GenerateOptions } from '../types.js';
import type { RenderedExposition } from './exposition.js';

/** What a family's sample names add to its name. */
const SAMPLE_SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_info', '_gcount', '_gsum'];

/**
 * `name[]` selects families by their own names and, as prometheus_client does, by their sample names:
 * `name[]=http_request_duration_seconds_bucket` gives that histogram's bucket lines only. Wraps `render` (which
 * selects whole families by name) so that both kinds of names work, whatever renders: one registry or the
 * cluster's sum.
 */
export function withSampleNames(
  render: (options: GenerateOptions) => Promise<RenderedExposition>,
): (options: GenerateOptions) => Promise<RenderedExposition> {
  return async function renderSelected(options) {
    const names = options.names;
    if (names === undefined || names.length === 0) return render(options);
    const families = new Set(names);
    for (const name of names) {
      for (const suffix of SAMPLE_SUFFIXES) if (name.endsWith(suffix)) families.add(name.slice(0, -suffix.length));
    }
    const rendered = await render({ ...options, names: [...families] });
    if (families.size === names.length || !/^(text\/plain|application\/openmetrics-text)/.test(rendered.contentType)) return rendered;
    const body = typeof rendered.body === 'string' ? rendered.body : rendered.body.toString('utf8');
    return { contentType: rendered.contentType, body: keepSamples(body, new Set(names)) };
  };
}

/** The family a `# HELP` / `# TYPE` / `# UNIT` line describes, else undefined. */
function describedFamily(line: string): string | undefined {
  const match = /^# (?:HELP|TYPE|UNIT) (\S+)/.exec(line);
  return match?.[1];
}

/** The sample name of a sample line. */
function sampleName(line: string): string {
  const end = line.search(/[{ ]/);
  return end === -1 ? line : line.slice(0, end);
}

/**
 * The exposition `body` with, for each family not selected by its own name, only the sample lines whose names are
 * in `names`; a family left with no sample is left out whole.
 */
export function keepSamples(body: string, names: ReadonlySet<string>): string {
  const out: string[] = [];
  let family: string | undefined;
  let header: string[] = [];
  let kept = 0;
  for (const line of body.split('\n')) {
    const described = describedFamily(line);
    if (described !== undefined) {
      if (described !== family) {
        family = described;
        header = [];
        kept = 0;
      }
      if (names.has(family)) out.push(line);
      else header.push(line);
      continue;
    }
    if (line === '' || line.startsWith('#') || family === undefined || names.has(family)) {
      out.push(line);
      continue;
    }
    if (!names.has(sampleName(line))) continue;
    if (kept++ === 0) out.push(...header);
    out.push(line);
  }
  return out.join('\n');
}
