// Just enough of the Prometheus text format to count series; label values here never hold `",` or `}`.

/** Series (sample lines) per sample name, e.g. `http_request_duration_seconds_bucket`. */
export function seriesPerName(text) {
  const counts = {};
  for (const line of text.split('\n')) {
    if (line === '' || line[0] === '#') continue;
    const end = line.search(/[{ ]/);
    const name = end === -1 ? line : line.slice(0, end);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Distinct values of `label` among the samples named `name`. */
export function labelValues(text, name, label) {
  const values = new Set();
  const needle = `${label}="`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const at = line.indexOf(needle, name.length);
    if (at === -1) continue;
    const start = at + needle.length;
    values.add(line.slice(start, line.indexOf('"', start)));
  }
  return values;
}

/** Whether some sample with the route in its labels has a non-zero value: the library did record it. */
export function recordsRoute(text, route) {
  return text.split('\n').some((line) => line[0] !== '#' && line.includes(route) && Number(line.slice(line.lastIndexOf(' ') + 1)) > 0);
}
