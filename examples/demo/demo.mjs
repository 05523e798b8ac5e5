// The README's demo: the Express and Fastify example apps under steady traffic, and, when a `prometheus`
// binary is on the machine, a local Prometheus scraping both. Prints where to look; Ctrl-C stops everything.
//
//   DEMO_SECONDS=20 node examples/demo/demo.mjs   stops by itself after 20 s (the test suite runs it so)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const examples = fileURLToPath(new URL('..', import.meta.url));
const seconds = Number(process.env.DEMO_SECONDS ?? 0);
const children = [];
let stopping = false;

/**
 * Starts a server and resolves with the port it says it listens on (the first group of `listening`, matched
 * against its output): every server here listens on port 0, so none can find its port taken. Its output is kept
 * and shown only if it stops before the demo does.
 */
function start(name, command, args, env, listening) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => fail(`${name} did not start within 30 s:\n${output}`), 30_000);
    const onData = (d) => {
      output = (output + d).slice(-20_000);
      const match = listening.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      if (!stopping) fail(`${name} exited (${signal ?? code}):\n${output}`);
    });
  });
}

async function waitFor(url, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  fail(`${url} did not answer within ${timeoutMs} ms`);
}

function fail(message) {
  console.error(`demo: ${message}`);
  stop(1);
}

function stop(code = 0) {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

let dataDir;
const appListening = /metrics at http:\/\/[^:]+:(\d+)/;
const [expressPort, fastifyPort] = await Promise.all([
  start('express-basic', process.execPath, [join(examples, 'express-basic/server.mjs')], { PORT: '0', HOST: '127.0.0.1' }, appListening),
  start('fastify-basic', process.execPath, [join(examples, 'fastify-basic/server.mjs')], { PORT: '0', HOST: '127.0.0.1' }, appListening),
]);
const expressUrl = `http://127.0.0.1:${expressPort}`;
const fastifyUrl = `http://127.0.0.1:${fastifyPort}`;

let prometheusUrl;
if (spawnSync('prometheus', ['--version']).status === 0) {
  dataDir = mkdtempSync(join(tmpdir(), 'prom-http-demo-'));
  const config = join(dataDir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 2s',
      'scrape_configs:',
      '  - job_name: express-app',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${expressPort}']`,
      '  - job_name: fastify-app',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${fastifyPort}']`,
      '',
    ].join('\n'),
  );
  const promPort = await start(
    'prometheus',
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dataDir, 'data')}`, '--web.listen-address=127.0.0.1:0'],
    {},
    /msg="Listening on" address=[^\s]*:(\d+)/,
  );
  prometheusUrl = `http://127.0.0.1:${promPort}`;
  await waitFor(`${prometheusUrl}/-/ready`, 30_000);
}

// Traffic: mostly good requests, some 404s and errors, a few slow ones.
const paths = ['/', '/api/users/1', '/api/users/2', '/api/users/42', '/slow', '/boom', '/nope'];
let sent = 0;
const traffic = setInterval(() => {
  for (const base of [expressUrl, fastifyUrl]) {
    const path = paths[Math.floor(Math.random() * paths.length)];
    sent++;
    fetch(base + path)
      .then((r) => r.arrayBuffer())
      .catch(() => {});
  }
}, 20);

console.log(`
prom-http demo: two instrumented apps under traffic.

  Express app metrics   ${expressUrl}/metrics
  Fastify app metrics   ${fastifyUrl}/metrics
  ${prometheusUrl ? `Prometheus UI         ${prometheusUrl}/graph` : 'Prometheus            not found on this machine (apt-get install prometheus) — the apps still serve /metrics'}

Queries to paste into Prometheus:
  sum by (job, path) (rate(http_request_total[1m]))
  histogram_quantile(0.99, sum by (le, path) (rate(http_request_duration_seconds_bucket[1m])))
  sum by (job) (rate(http_request_exceptions_total[1m]))
  http_requests_in_progress

${seconds > 0 ? `Stopping after ${seconds} s.` : 'Ctrl-C stops the demo.'}
`);

if (seconds > 0) {
  setTimeout(async () => {
    clearInterval(traffic);
    const text = await (await fetch(`${expressUrl}/metrics`)).text();
    const total = text
      .split('\n')
      .filter((l) => l.startsWith('http_request_total{'))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    console.log(`demo: sent ${sent} requests; the Express app recorded ${total} so far`);
    stop(0);
  }, seconds * 1000);
}
