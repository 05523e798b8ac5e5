import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { done } from './lib/check.mjs';

// A stand-in for the Pushgateway that logs what it is sent.
const log = [];
const gateway = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    log.push({ method: req.method, url: req.url, body });
    res.writeHead(req.method === 'DELETE' ? 202 : 200).end();
  });
});
await new Promise((resolve) => gateway.listen(0, '127.0.0.1', resolve));
process.env.PUSHGATEWAY_URL = `http://127.0.0.1:${gateway.address().port}`;

import { deleteFromGateway, pushToGateway } from '@prom-http/core';
import { Counter, Gauge, Registry } from 'prom-client';

const gatewayUrl = process.env.PUSHGATEWAY_URL; // e.g. http://pushgateway:9091
const registry = new Registry();
const processed = new Counter({ name: 'batch_records_processed_total', help: 'Records processed', registers: [registry] });
const lastSuccess = new Gauge({ name: 'batch_last_success_timestamp_seconds', help: 'Last success', registers: [registry] });

// … the job's work: processed.inc() …
lastSuccess.setToCurrentTime();
await pushToGateway(gatewayUrl, { job: 'nightly_import', groupings: { shard: '3' }, registry });

// when the job is retired for good:
await deleteFromGateway(gatewayUrl, { job: 'nightly_import', groupings: { shard: '3' } });

assert.deepEqual(
  log.map(({ method, url }) => `${method} ${url}`),
  ['PUT /metrics/job/nightly_import/shard/3', 'DELETE /metrics/job/nightly_import/shard/3'],
);
assert.match(log[0].body, /^batch_records_processed_total 0$/m);
assert.match(log[0].body, /^batch_last_success_timestamp_seconds \d+/m);
done();
