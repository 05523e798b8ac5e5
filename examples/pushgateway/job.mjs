// A batch job that ends before Prometheus could scrape it: it pushes its metrics to a Pushgateway, which
// Prometheus scrapes instead (with `honor_labels: true`).
//
//   PUSHGATEWAY_URL=http://127.0.0.1:9091 node job.mjs
//   curl http://127.0.0.1:9091/metrics | grep batch_
//
// Environment: PUSHGATEWAY_URL (http://127.0.0.1:9091), SHARD (0), RECORDS (1000).
import { pushToGateway } from '@prom-http/core';
import { Counter, Gauge, Registry } from 'prom-client';

const url = process.env.PUSHGATEWAY_URL ?? 'http://127.0.0.1:9091';
const shard = process.env.SHARD ?? '0';
const records = Number(process.env.RECORDS ?? 1000);

// A registry of the job's own: the push replaces the group's metrics with exactly these.
const registry = new Registry();
const processed = new Counter({ name: 'batch_records_processed_total', help: 'Records processed by the last run', registers: [registry] });
const duration = new Gauge({ name: 'batch_duration_seconds', help: 'Duration of the last run', registers: [registry] });
const lastSuccess = new Gauge({
  name: 'batch_last_success_timestamp_seconds',
  help: 'When the last run succeeded (alert on time() minus this)',
  registers: [registry],
});

const endTimer = duration.startTimer();
for (let i = 0; i < records; i++) processed.inc();
endTimer();
lastSuccess.setToCurrentTime();

try {
  // One group per job and shard: a run replaces the previous run's metrics of the same shard only.
  await pushToGateway(url, { job: 'example_batch', groupings: { shard }, registry });
  console.log(`pushed ${records} records' metrics to ${url} (job="example_batch", shard="${shard}")`);
} catch (error) {
  // The error names the URL, and the gateway's status and answer when it gave one.
  console.error(error.message);
  process.exitCode = 1;
}
