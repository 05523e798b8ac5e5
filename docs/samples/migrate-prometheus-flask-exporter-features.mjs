import express from 'express';
import { metrics } from '@prom-http/express';

const app = express();
const m = metrics({
  prefix: 'flask',
  labelNames: { route: 'url_rule' }, // groupBy 'path' (the default) is the route template, as Flask's url_rule
  buckets: [0.1, 0.5, 1, 5],
  defaultLabels: { region: 'eu-west-1' },
  excludedPaths: ['/static/', '/favicon.ico'],
});
app.use(m);

const byCollection = m.counter('cnt_collection_total', 'Number of invocations per collection', {
  labels: { collection: (req) => req.params.collection_id, status: (req, res) => res.statusCode },
});
app.get('/collection/:collection_id/item/:item_id', byCollection, (req, res) => {
  res.json({});
});

const reportTime = m.summary('report_seconds', 'Report time', { labels: { kind: (req) => req.query.kind } });
app.get('/report', reportTime, (req, res) => {
  res.json({});
});

app.get('/ping', m.doNotTrack(), (req, res) => {
  res.send('pong');
});

app.get('/internal', m.excludeAllMetrics(), (req, res) => {
  res.send('ok');
});

m.registerDefault(m.counter('by_path_counter_total', 'Request count by request paths', { labels: { path: (req) => req.path } }));

app.listen(3000);

// Each feature does what its Flask counterpart does.
import assert from 'node:assert/strict';
import { done, get, hasSample, scrape } from './lib/check.mjs';

const [{ url }] = await listening();
await get(`${url}/collection/10002/item/76`);
await get(`${url}/report?kind=daily`);
await get(`${url}/ping`);
await get(`${url}/internal`);
await get(`${url}/static/app.css`);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'cnt_collection_total{region="eu-west-1",collection="10002",status="200"}', 1);
hasSample(text, 'report_seconds_count{region="eu-west-1",kind="daily"}', 1);
hasSample(
  text,
  'flask_http_request_total{method="GET",url_rule="/collection/:collection_id/item/:item_id",status="200",region="eu-west-1"}',
  1,
);
hasSample(text, 'flask_http_request_duration_seconds_bucket{le="0.1",method="GET",url_rule="/report",status="200",region="eu-west-1"}');
hasSample(text, 'by_path_counter_total{region="eu-west-1",path="/ping"}', 1); // doNotTrack: custom metrics still run
assert.doesNotMatch(text, /url_rule="\/ping"|\/internal|\/static/); // doNotTrack, excludeAllMetrics, excludedPaths
done();
