import assert from 'node:assert/strict';
import express from 'express';
import { metrics } from '@prom-http/express';
import { done, hasSample, scrape } from './lib/check.mjs';

const app = express();
const m = metrics();
app.use(m);
let release;
const received = new Promise((resolve) => {
  release = resolve;
});
function handleUpload(req, res) {
  release();
  setTimeout(() => res.send('stored'), 200);
}

const busy = m.gauge('uploads_in_progress', 'Uploads being received', { labels: { kind: (req) => req.query.kind } });
app.post('/upload', busy(handleUpload)); // labels are evaluated on entry, and the same series goes down at the finish

app.listen(3000);
const [{ url }] = await listening();
const upload = fetch(`${url}/upload?kind=image`, { method: 'POST' });
await received;
hasSample(await scrape(`${url}/metrics`), 'uploads_in_progress{kind="image"}', 1);
assert.equal((await upload).status, 200);
hasSample(await scrape(`${url}/metrics`), 'uploads_in_progress{kind="image"}', 0);
done();
