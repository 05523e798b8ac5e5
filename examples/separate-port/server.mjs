// Metrics on a port of their own: the app's port serves the app only; the metrics port is for Prometheus.
//   node examples/separate-port/server.mjs      (PORT=3000, METRICS_PORT=9100)

import { metrics } from '@prom-http/express';
import express from 'express';

const port = Number(process.env.PORT ?? 3000);
const metricsPort = Number(process.env.METRICS_PORT ?? 9100);
const host = process.env.HOST ?? '0.0.0.0';

const app = express();
const m = metrics({ path: null }); // nothing served on the app's own port
app.use(m);
app.get('/api/orders/:id', (req, res) => {
  res.json({ id: req.params.id, total: 42 });
});

const server = app.listen(port, host, async () => {
  const metricsServer = await m.startHttpServer(metricsPort, { host });
  const { port: actualMetricsPort } = metricsServer.address();
  console.log(`app on http://${host}:${server.address().port}, metrics on http://${host}:${actualMetricsPort}/metrics`);
  const stop = () => {
    metricsServer.close(); // its answers close their connections from now on: a scraper cannot hold it open
    // The app's clients cannot either: close() ends idle connections, and every response from now on closes its own.
    server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
});
