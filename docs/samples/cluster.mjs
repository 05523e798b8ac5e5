import { done, get, hasSample, scrape } from './lib/check.mjs';

import cluster from 'node:cluster';
import express from 'express';
import { setupClusterPrimary } from '@prom-http/core';
import { metrics } from '@prom-http/express';

if (cluster.isPrimary) {
  await setupClusterPrimary(); // answers the workers' requests for the sum
  for (let i = 0; i < 4; i++) cluster.fork();
} else {
  const app = express();
  app.use(metrics({ cluster: true })); // GET /metrics → the sum over all workers
  app.get('/items/:id', (req, res) => res.json({}));
  app.listen(3000);
}

// The checks, in the primary: 40 requests spread over the workers, and every scrape (whichever worker
// answers it) gives the sum of all of them.
if (cluster.isPrimary) {
  const ports = [];
  await new Promise((resolve) => {
    cluster.on('listening', (_worker, address) => {
      ports.push(address.port);
      if (ports.length === 4) resolve();
    });
  });
  const url = `http://127.0.0.1:${ports[0]}`;
  for (let i = 0; i < 40; i++) await get(`${url}/items/${i}`, { connection: 'close' });
  for (let i = 0; i < 4; i++) {
    hasSample(
      await scrape(`${url}/metrics`, { connection: 'close' }),
      'http_request_total{method="GET",path="/items/:id",status="200"}',
      40,
    );
  }
  for (const worker of Object.values(cluster.workers)) worker.kill();
  done();
}
