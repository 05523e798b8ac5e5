// One command, a whole node:cluster: `node server.mjs` starts a primary and WORKERS workers serving one app.
//
//   curl http://127.0.0.1:3000/items/1     any worker answers
//   curl http://127.0.0.1:3000/metrics     any worker answers with the sum over all workers (and the primary)
//   curl http://127.0.0.1:9100/metrics     the same sum, from the primary's own port (Gunicorn style)
//
// Environment: PORT (3000), METRICS_PORT (9100), HOST (0.0.0.0), WORKERS (2), FRAMEWORK (express | fastify).
import cluster from 'node:cluster';

const PORT = Number(process.env.PORT ?? 3000);
const METRICS_PORT = Number(process.env.METRICS_PORT ?? 9100);
const HOST = process.env.HOST ?? '0.0.0.0';
const WORKERS = Number(process.env.WORKERS ?? 2);
const FRAMEWORK = process.env.FRAMEWORK ?? 'express';

if (cluster.isPrimary) {
  const { setupClusterPrimary } = await import('@prom-http/core');
  // Answers the workers' requests for the sum; `port` also serves it from here, which stays up while workers restart.
  await setupClusterPrimary({ port: METRICS_PORT, host: HOST });

  let stopping = false;
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('exit', function restart(worker, code, signal) {
    if (stopping) return;
    // Its counters stay in the sum; the new worker's add to them.
    console.log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    cluster.fork();
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, function stop() {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
      process.exit(0);
    });
  }
  console.log(
    `primary ${process.pid}: app on http://${HOST}:${PORT}, cluster-wide metrics on :${PORT}/metrics and :${METRICS_PORT}/metrics`,
  );
} else if (FRAMEWORK === 'fastify') {
  const { default: Fastify } = await import('fastify');
  const { default: fastifyMetrics } = await import('@prom-http/fastify');
  const app = Fastify();
  await app.register(fastifyMetrics, { cluster: true });
  app.get('/items/:id', async function getItem(request) {
    return { id: request.params.id, pid: process.pid };
  });
  await app.listen({ port: PORT, host: HOST });
} else {
  const { default: express } = await import('express');
  const { metrics } = await import('@prom-http/express');
  const app = express();
  app.use(metrics({ cluster: true }));
  app.get('/items/:id', function getItem(req, res) {
    res.json({ id: req.params.id, pid: process.pid });
  });
  app.listen(PORT, HOST);
}
