import express from 'express';
import { metrics } from '@prom-http/express';

const app = express();
const m = metrics({
  prefix: 'flask',
  groupBy: 'url', // Flask's group_by='path' is the path as requested
  labelNames: { route: 'path' },
});
app.use(m);

m.info('app_info', 'Application info', { version: '1.0.3' });

app.get('/users/:userId', (req, res) => {
  res.json({ id: Number(req.params.userId) });
});

app.get('/fail', () => {
  throw new Error('boom');
});

app.get('/health', m.doNotTrack(), (req, res) => {
  res.send('ok');
});

app.listen(3000);

// The proof that dashboards keep working: fixtures/prometheus-flask-exporter-0.23.2.prom is what the Flask app
// of the guide served after the same requests. The duration histogram has the same series (label names, label
// values, `le` compared as numbers) and counts; the two counters have the same series once their added `path`
// label is summed away; the differences are the ones the guide lists.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { done, scrape } from './lib/check.mjs';
import { parse, sendRequests, seriesOf } from './lib/series.mjs';

const [{ url }] = await listening();
await sendRequests(url);
const before = parse(readFileSync(new URL('fixtures/prometheus-flask-exporter-0.23.2.prom', import.meta.url), 'utf8'));
const after = parse(await scrape(`${url}/metrics`));

const duration = 'flask_http_request_duration_seconds';
assert.equal(after.get(duration).type, before.get(duration).type);
assert.deepEqual(seriesOf(after, duration), seriesOf(before, duration));
const counts = (f) => seriesOf(f, duration, { withValues: true }).filter((s) => s.startsWith(`${duration}_count`));
assert.deepEqual(counts(after), counts(before));

/** The series of a counter as `{labels without path} value`, summed over `path`. */
function withoutPath(families, name) {
  const sums = new Map();
  for (const { labels, value } of families.get(name).series) {
    const { path, ...rest } = labels;
    const key = JSON.stringify(Object.fromEntries(Object.entries(rest).sort()));
    sums.set(key, (sums.get(key) ?? 0) + value);
  }
  return [...sums].map(([key, value]) => `${key} ${value}`).sort();
}
for (const counter of ['flask_http_request_total', 'flask_http_request_exceptions_total']) {
  assert.ok(
    after.get(counter).series.every((s) => 'path' in s.labels),
    counter,
  );
  assert.ok(
    before.get(counter).series.every((s) => !('path' in s.labels)),
    counter,
  );
  assert.deepEqual(withoutPath(after, counter), withoutPath(before, counter), counter);
}
assert.deepEqual(seriesOf(after, 'app_info', { withValues: true }), seriesOf(before, 'app_info', { withValues: true }));
assert.deepEqual(Object.keys(after.get('flask_exporter_info').series[0].labels), ['version']);

// Families on one side only: Python's `_created` series and interpreter metrics, prom-http's in-progress gauge,
// label-error counter and Node.js metrics.
const httpFamilies = (families) => [...families.keys()].filter((f) => /^(flask|app|exporter)_/.test(f)).sort();
assert.deepEqual(
  httpFamilies(before).filter((f) => !after.has(f)),
  ['flask_http_request_created', 'flask_http_request_duration_seconds_created', 'flask_http_request_exceptions_created'],
);
assert.deepEqual(
  httpFamilies(after).filter((f) => !before.has(f)),
  ['exporter_label_errors_total', 'flask_http_requests_in_progress'],
);
done();
