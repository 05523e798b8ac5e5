import express from 'express';
import { metrics } from '@prom-http/express';

const app = express();
const m = metrics();
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

// prom-http's defaults for the requests the Flask app got: the guide's "What changes" table.
import assert from 'node:assert/strict';
import { done, hasSample, scrape } from './lib/check.mjs';
import { sendRequests } from './lib/series.mjs';

const [{ url }] = await listening();
assert.deepEqual(await sendRequests(url), [200, 200, 200, 200, 500, 404, 200]);
const text = await scrape(`${url}/metrics`);
hasSample(text, 'http_request_duration_seconds_count{method="GET",path="/users/:userId",status="200"}', 3);
hasSample(text, 'http_request_duration_seconds_count{method="HEAD",path="/users/:userId",status="200"}', 1);
hasSample(text, 'http_request_total{method="GET",path="/fail",status="500"}', 1);
hasSample(text, 'http_request_exceptions_total{method="GET",path="/fail",status="500"}', 1);
hasSample(text, 'http_request_total{method="GET",path="<unmatched>",status="404"}', 1);
hasSample(text, 'app_info{version="1.0.3"}', 1);
assert.match(text, /^exporter_info\{version="\d+\.\d+\.\d+[^"]*"\} 1$/m);
assert.doesNotMatch(text, /path="\/health"|path="\/metrics"/); // doNotTrack, and the metrics endpoint
done();
