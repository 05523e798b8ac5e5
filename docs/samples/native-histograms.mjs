import assert from 'node:assert/strict';
import express from 'express';
import { metrics } from '@prom-http/express';
import { done, get, hasSample, scrape } from './lib/check.mjs';

const app = express();
const m = metrics({ nativeHistograms: true }); // the duration histogram keeps native buckets too
app.use(m);
const jobTime = m.histogram('job_seconds', 'Job time', { native: true }); // and so does this one
app.get(
  '/jobs',
  jobTime((req, res) => res.json({})),
);

app.listen(3000);
const [{ url }] = await listening();
await get(`${url}/jobs`);
// The text formats are as without the option.
hasSample(await scrape(`${url}/metrics`), 'job_seconds_count', 1);
// A scrape asking for protobuf (Prometheus with native histograms on) gets it.
const protobuf = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
const response = await fetch(`${url}/metrics`, { headers: { accept: protobuf } });
assert.equal(response.headers.get('content-type'), protobuf);
assert.ok(Buffer.from(await response.arrayBuffer()).includes('job_seconds'));
done();
