import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, get as httpGet } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { samples, sampleValue } from '../test/helpers/exposition.js';
import { decodeFamilies } from '../test/helpers/protobuf.js';

// Each example runs as a user would run it (node on the file, against the built packages) and is checked by
// what it serves.
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/**
 * Starts `file` with `env` and resolves once its output matches `ready`; `ports` are the numbers its groups
 * captured. The apps listen on port 0 and print where they are: a port picked by the test and released is free
 * only until something else on the machine takes it.
 */
function run(
  file: string,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<{ child: ChildProcess; ports: number[]; output: () => string }> {
  const child = spawn(process.execPath, [here(file)], {
    env: { ...process.env, HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not get ready: ${out}`)), timeoutMs);
    const check = () => {
      const match = ready.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, ports: match.slice(1).map(Number), output: () => out });
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!ready.test(out)) reject(new Error(`${file} exited with ${code}: ${out}`));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = async (url: string, init?: RequestInit) => (await fetch(url, init)).text();

describe('examples', () => {
  it('separate-port: the app port has no /metrics; the metrics port does', async () => {
    const {
      ports: [port, metricsPort],
    } = await run(
      './separate-port/server.mjs',
      { PORT: '0', METRICS_PORT: '0' },
      /app on http:\/\/[^:]+:(\d+), metrics on http:\/\/[^:]+:(\d+)/,
    );
    expect((await fetch(`http://127.0.0.1:${port}/api/orders/7`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);
    const exposition = await text(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sampleValue(exposition, 'http_request_total', { path: '/api/orders/:id', status: '200' })).toBe(1);
    expect(sampleValue(exposition, 'http_request_total', { path: '<unmatched>', status: '404' })).toBe(1);
  });

  it('protected-endpoint: 401 without the token, the metrics with it', async () => {
    const {
      ports: [port],
    } = await run('./protected-endpoint/server.mjs', { PORT: '0', METRICS_TOKEN: 'tok' }, /app on http:\/\/[^:]+:(\d+)/);
    await fetch(`http://127.0.0.1:${port}/hello/ada`);
    const denied = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(denied.status).toBe(401);
    expect(await denied.text()).not.toContain('http_request_total');
    const allowed = await text(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: 'Bearer tok' } });
    expect(sampleValue(allowed, 'http_request_total', { path: '/hello/:name' })).toBe(1);
  });

  it("custom-metrics: the flask exporter's collection example in both apps", async () => {
    const {
      ports: [expressPort, fastifyPort],
    } = await run(
      './custom-metrics/server.mjs',
      { EXPRESS_PORT: '0', FASTIFY_PORT: '0' },
      /express on http:\/\/[^:]+:(\d+)\/metrics, fastify on http:\/\/[^:]+:(\d+)/,
    );
    for (const port of [expressPort, fastifyPort]) {
      await fetch(`http://127.0.0.1:${port}/collection/10002/item/76`);
      await fetch(`http://127.0.0.1:${port}/ping`);
      const exposition = await text(`http://127.0.0.1:${port}/metrics`);
      expect(sampleValue(exposition, 'cnt_collection', { collection: '10002', status: '200' })).toBe(1);
      expect(sampleValue(exposition, 'http_request_total', { path: '/collection/:collection_id/item/:item_id' })).toBe(1);
      expect(sampleValue(exposition, 'http_request_total', { path: '/ping' })).toBeUndefined();
    }
    const expressText = await text(`http://127.0.0.1:${expressPort}/metrics`);
    expect(sampleValue(expressText, 'item_seconds_count')).toBe(1);
    expect(sampleValue(expressText, 'items_in_flight')).toBe(0);
    expect(sampleValue(expressText, 'app_info', { version: '1.0.0' })).toBe(1);
    expect(sampleValue(expressText, 'responses_by_status', { status: '200' })).toBe(2);
  });

  // A scraper (or a load balancer) keeps one keep-alive connection and sends on it every interval; Node's
  // server.close() ends only the idle ones, so without more the app would serve that connection on and on.
  it.each(['express-basic', 'fastify-basic'])(
    '%s: SIGTERM with a keep-alive client busy and sending on: the request in flight is answered, exit 0',
    async (example) => {
      const {
        child,
        ports: [port],
        output,
      } = await run(`./${example}/server.mjs`, { PORT: '0' }, /metrics at http:\/\/[^:]+:(\d+)/);
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = (path: string) =>
        new Promise<number>((resolve, reject) => {
          httpGet({ host: '127.0.0.1', port, path, agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          }).on('error', reject);
        });
      expect(await get('/metrics')).toBe(200);
      const inFlight = get('/slow?ms=500');
      await sleep(100);
      child.kill('SIGTERM');
      let code: number | null | undefined;
      void exited.then((c) => {
        code = c;
      });
      const after: string[] = [];
      for (let i = 0; i < 40 && code === undefined; i++) {
        await sleep(200);
        after.push(await get('/metrics').then(String, (error: NodeJS.ErrnoException) => error.code ?? String(error)));
      }
      agent.destroy();
      expect(await inFlight).toBe(200);
      expect(code, `after SIGTERM: ${after.join(', ')}\n${output()}`).toBe(0);
    },
    20_000,
  );

  // The docker stack runs the basic apps with NATIVE_HISTOGRAMS=1 and EXEMPLARS=1 (docker/compose.yaml); run
  // directly, they keep the defaults.
  const PROTOBUF = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
  const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';
  const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
  const SPAN_ID = '00f067aa0ba902b7';

  /** After one sampled and one unsampled request to /api/users/1: the native schema and the exemplars scraped. */
  async function scrapeFeatures(example: string, env: Record<string, string>) {
    const {
      ports: [port],
    } = await run(`./${example}/server.mjs`, { PORT: '0', ...env }, /metrics at http:\/\/[^:]+:(\d+)/);
    const base = `http://127.0.0.1:${port}`;
    for (const flags of ['01', '00']) {
      const res = await fetch(`${base}/api/users/1`, { headers: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-${flags}` } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const proto = await fetch(`${base}/metrics`, { headers: { accept: PROTOBUF } });
    expect(proto.headers.get('content-type')).toContain('application/vnd.google.protobuf');
    const duration = decodeFamilies(new Uint8Array(await proto.arrayBuffer())).find((f) => f.name === 'http_request_duration_seconds');
    const histogram = duration?.metric[0]?.histogram;
    const openMetrics = await text(`${base}/metrics`, { headers: { accept: OPENMETRICS } });
    return {
      sampleCount: histogram?.sampleCount as number | undefined,
      schema: histogram?.schema as number | undefined,
      counterExemplars: samples(openMetrics, 'http_request_total').map((s) => s.exemplar?.labels),
      bucketExemplars: samples(openMetrics, 'http_request_duration_seconds_bucket').flatMap((s) => (s.exemplar ? [s.exemplar.labels] : [])),
    };
  }

  it.each(['express-basic', 'fastify-basic'])(
    '%s: NATIVE_HISTOGRAMS=1 EXEMPLARS=1 turn on native buckets and exemplars from the sampled traceparent',
    async (example) => {
      const scraped = await scrapeFeatures(example, { NATIVE_HISTOGRAMS: '1', EXEMPLARS: '1' });
      expect(scraped.sampleCount).toBe(2);
      // bucketFactor 1.1 (the default): schema 3.
      expect(scraped.schema).toBe(3);
      // The unsampled request came last: the exemplar kept is the sampled one's.
      const ids = { trace_id: TRACE_ID, span_id: SPAN_ID };
      expect(scraped.counterExemplars).toEqual([ids]);
      expect(scraped.bucketExemplars).toEqual([ids]);
    },
  );

  it.each(['express-basic', 'fastify-basic'])('%s: without the variables, classic buckets only and no exemplars', async (example) => {
    const scraped = await scrapeFeatures(example, { NATIVE_HISTOGRAMS: '', EXEMPLARS: '' });
    expect(scraped.sampleCount).toBe(2);
    expect(scraped.schema).toBeUndefined();
    expect(scraped.counterExemplars).toEqual([undefined]);
    expect(scraped.bucketExemplars).toEqual([]);
  });

  it('demo: starts, serves traffic and stops by itself', async () => {
    const { child, output } = await run('./demo/demo.mjs', { DEMO_SECONDS: '4' }, /Express app metrics/, 40_000);
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const match = /sent (\d+) requests; the Express app recorded (\d+)/.exec(output());
    expect(match).not.toBeNull();
    expect(Number(match?.[2])).toBeGreaterThan(10);
  }, 60_000);
});
