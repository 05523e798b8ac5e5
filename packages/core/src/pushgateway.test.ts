import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import client, { Counter, Gauge, Histogram, Registry } from '../../../test/helpers/client.js';
import { parseExposition, sampleValue } from '../../../test/helpers/exposition.js';
import { freePort } from '../../../test/helpers/ports.js';
import { decodeFamilies, labelsOf } from '../../../test/helpers/protobuf.js';
import { CustomMetric } from './custom/custom-metric.js';
import { PROTOBUF_CONTENT_TYPE } from './exposition/protobuf.js';
import { deleteFromGateway, PushgatewayError, pushToGateway } from './pushgateway.js';

const PUSHGATEWAY = '/usr/bin/prometheus-pushgateway';
const ROOT = new URL('../../../', import.meta.url);
const JOB_EXAMPLE = fileURLToPath(new URL('examples/pushgateway/job.mjs', ROOT));

let gateway: ChildProcess | undefined;
let url = '';

/** What the gateway exposes to Prometheus. */
async function gatewayMetrics(): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  return response.text();
}

/**
 * The gateway's metrics once `done` holds of them: it answers a DELETE with 202 Accepted and applies it a moment
 * later, so what follows a delete is read until it shows (or 3 s have passed).
 */
async function gatewayMetricsOnce(done: (body: string) => boolean): Promise<string> {
  const until = Date.now() + 3000;
  for (;;) {
    const body = await gatewayMetrics();
    if (done(body) || Date.now() > until) return body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One group as the gateway's query API (`/api/v1/metrics`) lists it. */
interface GatewayGroup {
  labels: Record<string, string>;
  [family: string]: unknown;
}

/** The groups the gateway holds, by its JSON query API: their grouping labels exactly as the gateway stored them. */
async function gatewayGroups(): Promise<GatewayGroup[]> {
  const response = await fetch(`${url}/api/v1/metrics`);
  return ((await response.json()) as { data: GatewayGroup[] }).data;
}

/** The value of the gauge `name` in `group`, as the query API gives it (a string), or undefined. */
function groupGauge(group: GatewayGroup | undefined, name: string): string | undefined {
  return (group?.[name] as { metrics: Array<{ value: string }> } | undefined)?.metrics[0]?.value;
}

/** A local HTTP server on 127.0.0.1, port 0, answering with `listener`; its base URL. */
async function localServer(listener: RequestListener): Promise<{ server: Server; base: string }> {
  const server = createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  if (!existsSync(PUSHGATEWAY))
    throw new Error(`these tests need the Pushgateway binary at ${PUSHGATEWAY} (Debian: apt-get install prometheus-pushgateway)`);
  // On port 0: a port picked here and released is free only until something else on the machine takes it. The
  // gateway logs the port it got. An empty persistence file keeps everything in memory: nothing outlives the test.
  const started = spawn(PUSHGATEWAY, ['--web.listen-address=127.0.0.1:0', '--persistence.file='], { stdio: ['ignore', 'ignore', 'pipe'] });
  gateway = started;
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Pushgateway did not start within 10 s: ${log}`)), 10_000);
    started.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      const match = /msg="Listening on" address=[^\s]*:(\d+)/.exec(log);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    started.once('exit', (code) => reject(new Error(`the Pushgateway exited (${code}): ${log}`)));
  });
  url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (tries > 100) throw new Error(`the Pushgateway did not get ready on ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(() => {
  gateway?.kill('SIGKILL');
});

/** A registry with a histogram that keeps native buckets (`native: true`), fed 1 s, 1.2 s and 2 s. */
function nativeRegistry(): Registry {
  const registry = new Registry();
  const defaults = { client, registry, staticLabels: [], dynamicLabels: [], seriesLimit: 100 };
  const metric = new CustomMetric('histogram', 'batch_native_seconds', 'Steps', { native: { bucketFactor: 1.2 } }, defaults, () => {});
  for (const seconds of [1, 1.2, 2]) metric.finish(metric.enter({}, {}, 0) as never, {}, {}, seconds * 1000);
  return registry;
}

/** What the native buckets of that histogram are at schema 2: buckets 0, 2 and 4 hold one each. */
const NATIVE_FIELDS = { schema: 2, zeroCount: 0, positiveSpan: [{ offset: 0, length: 5 }], positiveDelta: [1, -1, 1, -1, 1] };

describe('pushToGateway / deleteFromGateway against a real Pushgateway', () => {
  it('pushes a registry into its group, which Prometheus then reads from the gateway; delete removes the group', async () => {
    const registry = new Registry();
    new Counter({ name: 'batch_records_total', help: 'Records', labelNames: ['kind'], registers: [registry] }).inc({ kind: 'csv' }, 42);
    new Gauge({ name: 'batch_last_success_seconds', help: 'Last success', registers: [registry] }).set(1_700_000_000);
    const histogram = new Histogram({ name: 'batch_step_seconds', help: 'Steps', buckets: [1, 10], registers: [registry] });
    histogram.observe(0.5);
    histogram.observe(5);
    // A value with a slash goes base64-encoded in the URL.
    const group = { job: 'nightly', instance: 'host-1', shard: 'eu/west' };

    await pushToGateway(`${url}/`, { job: 'nightly', groupings: { instance: 'host-1', shard: 'eu/west' }, registry });
    const pushed = await gatewayMetrics();
    expect(sampleValue(pushed, 'batch_records_total', { ...group, kind: 'csv' })).toBe(42);
    expect(sampleValue(pushed, 'batch_last_success_seconds', group)).toBe(1_700_000_000);
    expect(sampleValue(pushed, 'batch_step_seconds_bucket', { ...group, le: '1' })).toBe(1);
    expect(sampleValue(pushed, 'batch_step_seconds_count', group)).toBe(2);
    expect(sampleValue(pushed, 'batch_step_seconds_sum', group)).toBe(5.5);
    const pushTime = sampleValue(pushed, 'push_time_seconds', group) as number;
    expect(Math.abs(pushTime - Date.now() / 1000)).toBeLessThan(60);

    await deleteFromGateway(url, { job: 'nightly', groupings: { instance: 'host-1', shard: 'eu/west' } });
    const after = await gatewayMetricsOnce((body) => sampleValue(body, 'push_time_seconds', group) === undefined);
    expect(sampleValue(after, 'batch_records_total', group)).toBeUndefined();
    expect(sampleValue(after, 'push_time_seconds', group)).toBeUndefined();
  });

  it('native buckets survive a push to a Pushgateway of 1.5.0 or later (Debian has 1.5.1)', async () => {
    await pushToGateway(url, { job: 'native', registry: nativeRegistry() });
    const response = await fetch(`${url}/metrics`, { headers: { accept: PROTOBUF_CONTENT_TYPE } });
    const family = decodeFamilies(new Uint8Array(await response.arrayBuffer())).find((f) => f.name === 'batch_native_seconds');
    expect(family?.type).toBe('HISTOGRAM');
    expect(labelsOf(family?.metric[0] ?? {})).toEqual({ job: 'native', instance: '' });
    expect(family?.metric[0]?.histogram).toMatchObject({ sampleCount: 3, sampleSum: 4.2, ...NATIVE_FIELDS });
    await deleteFromGateway(url, { job: 'native' });
  });

  it("PUT replaces the group's metrics, POST only those of the names pushed", async () => {
    const first = new Registry();
    new Gauge({ name: 'step_a', help: 'a', registers: [first] }).set(1);
    new Gauge({ name: 'step_b', help: 'b', registers: [first] }).set(2);
    const second = new Registry();
    new Gauge({ name: 'step_b', help: 'b', registers: [second] }).set(20);
    const group = { job: 'replace-test' };

    await pushToGateway(url, { job: 'replace-test', registry: first });
    await pushToGateway(url, { job: 'replace-test', registry: second, method: 'POST' });
    let body = await gatewayMetrics();
    expect(sampleValue(body, 'step_a', group)).toBe(1);
    expect(sampleValue(body, 'step_b', group)).toBe(20);

    await pushToGateway(url, { job: 'replace-test', registry: second });
    body = await gatewayMetrics();
    expect(sampleValue(body, 'step_a', group)).toBeUndefined();
    expect(sampleValue(body, 'step_b', group)).toBe(20);
    await deleteFromGateway(url, { job: 'replace-test' });
  });

  it('an error status rejects with the status and the gateway’s answer', async () => {
    const counter = new Registry();
    new Counter({ name: 'clash_total', help: 'Clash', registers: [counter] }).inc();
    const gauge = new Registry();
    new Gauge({ name: 'clash_total', help: 'Clash', registers: [gauge] }).set(1);
    await pushToGateway(url, { job: 'clash-a', registry: counter });
    const target = `${url}/metrics/job/clash-b`;
    const error = (await pushToGateway(url, { job: 'clash-b', registry: gauge }).catch((e: unknown) => e)) as PushgatewayError;
    expect(error).toBeInstanceOf(PushgatewayError);
    expect(error.status).toBe(400);
    expect(error.url).toBe(target);
    // The gateway names whichever of the two clashing metrics it meets first.
    expect(error.body).toMatch(
      /^pushed metrics are invalid or inconsistent with existing metrics: .*"clash_total".* is not a (COUNTER|GAUGE)$/,
    );
    expect(error.message).toBe(`prom-http: the Pushgateway at ${target} answered PUT with 400 Bad Request: ${error.body}`);
    await deleteFromGateway(url, { job: 'clash-a' });
    const gone = (body: string) => !parseExposition(body).some((s) => s.name === 'clash_total');
    expect(gone(await gatewayMetricsOnce(gone))).toBe(true);
  });

  it('an unreachable gateway rejects naming the URL', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const error = (await pushToGateway(closed, { job: 'lost', registry: new Registry() }).catch((e: unknown) => e)) as PushgatewayError;
    expect(error).toBeInstanceOf(PushgatewayError);
    expect(error.status).toBeUndefined();
    expect(error.url).toBe(`${closed}/metrics/job/lost`);
    expect(error.message).toMatch(
      new RegExp(`^prom-http: cannot reach the Pushgateway at ${closed}/metrics/job/lost \\(PUT\\): .*ECONNREFUSED`),
    );
    await expect(deleteFromGateway(`${closed}/gateway/`, { job: 'lost' })).rejects.toThrow(
      `cannot reach the Pushgateway at ${closed}/gateway/metrics/job/lost (DELETE)`,
    );
  });

  it('rejects bad arguments with a TypeError naming them, before any request', async () => {
    const registry = new Registry();
    await expect(pushToGateway('not a url', { job: 'j', registry })).rejects.toThrow(TypeError);
    await expect(pushToGateway('ftp://127.0.0.1', { job: 'j', registry })).rejects.toThrow(/http or https URL/);
    await expect(pushToGateway(url, { job: '', registry })).rejects.toThrow(/option "job" must be a non-empty string/);
    await expect(pushToGateway(url, { job: 'j', groupings: { 'bad-name': 'x' }, registry })).rejects.toThrow(
      /invalid label name "bad-name"/,
    );
    await expect(pushToGateway(url, { job: 'j', groupings: { job: 'x' }, registry })).rejects.toThrow(/invalid label name "job"/);
    await expect(pushToGateway(url, { job: 'j', registry, metod: 'POST' } as never)).rejects.toThrow('pushToGateway has no option "metod"');
    await expect(pushToGateway(url, { job: 'j', registry, method: 'PATCH' as never })).rejects.toThrow(/"method" must be "PUT" or "POST"/);
    await expect(deleteFromGateway(url, { job: 'j', registry } as never)).rejects.toThrow('deleteFromGateway has no option "registry"');
  });

  it('an empty grouping value is pushed as such', async () => {
    const registry = new Registry();
    new Gauge({ name: 'empty_label_gauge', help: 'x', registers: [registry] }).set(3);
    await pushToGateway(url, { job: 'empty-label', groupings: { zone: '' }, registry });
    const body = await gatewayMetrics();
    expect(parseExposition(body).find((s) => s.name === 'empty_label_gauge')?.value).toBe(3);
    await deleteFromGateway(url, { job: 'empty-label', groupings: { zone: '' } });
    const gone = (body: string) => !parseExposition(body).some((s) => s.name === 'empty_label_gauge');
    expect(gone(await gatewayMetricsOnce(gone))).toBe(true);
  });

  it('grouping values ".", "..", "/" and "" (and such a job) never change the group: push and delete touch only their own', async () => {
    // Each group holds one gauge with a value of its own, so a push that lands in another group shows.
    const pushGroup = (job: string, groupings: Record<string, string>, value: number) => {
      const registry = new Registry();
      new Gauge({ name: 'grouping_probe', help: 'Which push wrote this group', registers: [registry] }).set(value);
      return pushToGateway(url, { job, groupings, registry });
    };
    const jobs = new Set(['dots', '.', '..', 'a/b']);
    // Groups compared as sorted lists of [labels, value], the labels in name order.
    const canonical = (groups: Array<{ labels: Record<string, string>; value: string | undefined }>) =>
      groups.map((g) => JSON.stringify([Object.entries(g.labels).sort(), g.value])).sort();
    const ours = async () =>
      canonical(
        (await gatewayGroups())
          .filter((g) => jobs.has(g.labels.job as string))
          .map((g) => ({ labels: g.labels, value: groupGauge(g, 'grouping_probe') })),
      );
    // The neighbours: the groups a path normalised by ".." or "." would land in.
    const neighbours: Array<{ job: string; groupings: Record<string, string>; value: number }> = [
      { job: 'dots', groupings: {}, value: 1 },
      { job: 'dots', groupings: { instance: 'x' }, value: 2 },
    ];
    const tricky: typeof neighbours = [
      { job: 'dots', groupings: { instance: '..' }, value: 10 },
      { job: 'dots', groupings: { instance: '.' }, value: 11 },
      { job: 'dots', groupings: { instance: 'x', shard: '..' }, value: 12 },
      { job: 'dots', groupings: { instance: 'x', shard: '.' }, value: 13 },
      { job: 'dots', groupings: { instance: '../x' }, value: 14 },
      { job: 'dots', groupings: { instance: 'x', shard: '' }, value: 15 },
      { job: 'dots', groupings: { instance: '%2e%2e' }, value: 16 },
      { job: '..', groupings: { instance: 'x' }, value: 17 },
      { job: '.', groupings: {}, value: 18 },
      { job: 'a/b', groupings: { instance: 'x' }, value: 19 },
    ];
    const expected = (groups: typeof neighbours) =>
      canonical(groups.map((g) => ({ labels: { job: g.job, ...g.groupings }, value: String(g.value) })));

    for (const g of neighbours) await pushGroup(g.job, g.groupings, g.value);
    for (const g of tricky) await pushGroup(g.job, g.groupings, g.value);
    // Every push made its own group, with its labels exactly as given, and the neighbours kept their values.
    expect(await ours()).toEqual(expected([...neighbours, ...tricky]));

    for (const g of tricky) await deleteFromGateway(url, { job: g.job, groupings: g.groupings });
    const left = expected(neighbours);
    let groups = await ours();
    for (const until = Date.now() + 3000; JSON.stringify(groups) !== JSON.stringify(left) && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      groups = await ours();
    }
    // The deletes removed their own groups and nothing else.
    expect(groups).toEqual(left);
    for (const g of neighbours) await deleteFromGateway(url, { job: g.job, groupings: g.groupings });
  });

  it('examples/pushgateway/job.mjs pushes its run', async () => {
    if (!existsSync(new URL('packages/core/dist/index.js', ROOT))) {
      throw new Error("the example runs the built packages: run `pnpm -r --filter './packages/*' run build` first");
    }
    const { stdout } = await promisify(execFile)(process.execPath, [JOB_EXAMPLE], {
      env: { ...process.env, PUSHGATEWAY_URL: url, SHARD: '7', RECORDS: '250' },
    });
    expect(stdout).toContain(`pushed 250 records' metrics to ${url}`);
    const body = await gatewayMetrics();
    const group = { job: 'example_batch', shard: '7' };
    expect(sampleValue(body, 'batch_records_processed_total', group)).toBe(250);
    expect(Math.abs((sampleValue(body, 'batch_last_success_timestamp_seconds', group) as number) - Date.now() / 1000)).toBeLessThan(60);
    await deleteFromGateway(url, { job: 'example_batch', groupings: { shard: '7' } });
  });
});

describe('pushToGateway / deleteFromGateway against a misbehaving gateway', () => {
  it('a redirect is not followed: it rejects with a PushgatewayError giving the status and where it pointed', async () => {
    let requests = 0;
    const { server, base } = await localServer(function redirect(_req, res) {
      requests++;
      res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' }).end('moved');
    });
    try {
      const registry = new Registry();
      new Gauge({ name: 'redirected_gauge', help: 'x', registers: [registry] }).set(1);
      const error = (await pushToGateway(base, { job: 'moved', registry }).catch((e: unknown) => e)) as PushgatewayError;
      expect(error).toBeInstanceOf(PushgatewayError);
      expect(error.status).toBe(307);
      expect(error.url).toBe(`${base}/metrics/job/moved`);
      expect(error.body).toBe('moved');
      expect(error.message).toBe(
        `prom-http: the Pushgateway at ${base}/metrics/job/moved answered PUT with 307 Temporary Redirect to http://127.0.0.1:1/elsewhere (redirects are not followed: use the URL it points to): moved`,
      );
      const deleted = (await deleteFromGateway(base, { job: 'moved' }).catch((e: unknown) => e)) as PushgatewayError;
      expect(deleted).toBeInstanceOf(PushgatewayError);
      expect(deleted.status).toBe(307);
      expect(requests).toBe(2);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a huge error body is not read: the error holds its first 1 KB', async () => {
    const total = 50 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    chunk.write('the gateway is unhappy: ');
    let written = 0;
    let closed: Promise<unknown> = Promise.resolve();
    const { server, base } = await localServer(function hugeError(req, res) {
      req.resume();
      closed = once(res, 'close');
      res.writeHead(500, { 'content-type': 'text/plain', 'content-length': total });
      // Writes as fast as the client reads (each write waits for the last to drain), so what was written when
      // the connection closed tells how much the client took.
      const more = () => {
        while (written < total && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    try {
      const started = Date.now();
      const error = (await pushToGateway(base, { job: 'huge', registry: new Registry() }).catch((e: unknown) => e)) as PushgatewayError;
      await closed;
      expect(error).toBeInstanceOf(PushgatewayError);
      expect(error.status).toBe(500);
      expect(Buffer.byteLength(error.body ?? '')).toBe(1024);
      expect(error.body).toBe(chunk.toString('latin1', 0, 1024));
      expect(error.message).toBe(
        `prom-http: the Pushgateway at ${base}/metrics/job/huge answered PUT with 500 Internal Server Error: ${error.body} [cut at 1 KB]`,
      );
      // Socket buffers on both sides hold a few MB at most; reading the body whole would take all 50.
      expect(written).toBeLessThan(16 * 1024 * 1024);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('pushToGateway and native histograms', () => {
  /** The content type and body of one push to a local server. */
  async function captured(registry: Registry): Promise<{ contentType: string | undefined; body: Buffer }> {
    let contentType: string | undefined;
    const chunks: Buffer[] = [];
    const { server, base } = await localServer(function capture(req, res) {
      contentType = req.headers['content-type'];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.writeHead(200).end());
    });
    try {
      await pushToGateway(base, { job: 'capture', registry });
      return { contentType, body: Buffer.concat(chunks) };
    } finally {
      server.close();
    }
  }

  it('sends protobuf, with the native buckets, when a histogram of the registry keeps them', async () => {
    const { contentType, body } = await captured(nativeRegistry());
    expect(contentType).toBe(PROTOBUF_CONTENT_TYPE);
    const [family] = decodeFamilies(body);
    expect(family?.metric[0]?.histogram).toMatchObject({ sampleCount: 3, ...NATIVE_FIELDS });
  });

  it('sends the text format otherwise', async () => {
    const registry = new Registry();
    new Gauge({ name: 'plain', help: 'Plain', registers: [registry] }).set(1);
    const { contentType, body } = await captured(registry);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(body.toString()).toBe(await registry.metrics());
  });
});
