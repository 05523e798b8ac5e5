// The Prometheus configuration the docs show is run too: every `yaml` block with `scrape_configs` passes
// `promtool check config`, and the promster guide's relabel rule, in a real Prometheus scraping a prom-http app,
// does turn `method="GET"` into `method="get"`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metrics } from '@prom-http/express';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { Registry } from './helpers/client.js';
import { ok, PROMETHEUS_LISTENING, Processes, promQuery } from './helpers/processes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(process.env.PROMHTTP_DEBIAN13 ?? '/opt/prom-http-debian13', 'usr', 'bin');
const hasTools = existsSync(join(BIN, 'prometheus')) && existsSync(join(BIN, 'promtool'));
if (!hasTools && process.env.CI)
  throw new Error(`${BIN}/prometheus and promtool are missing: .ci/run unpacks them with .ci/prometheus-native`);

interface ScrapeJob {
  job_name: string;
  static_configs?: Array<{ targets: string[] }>;
  [field: string]: unknown;
}

/** Every `yaml` block of docs/*.md that configures scrapes, with where it is. */
function configBlocks(): Array<{ where: string; yaml: string }> {
  const out: Array<{ where: string; yaml: string }> = [];
  for (const page of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(join(ROOT, 'docs', page), 'utf8');
    for (const match of text.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)) {
      const yaml = match[1] as string;
      if (/^scrape_configs:/m.test(yaml)) out.push({ where: `docs/${page}:${text.slice(0, match.index).split('\n').length}`, yaml });
    }
  }
  return out;
}

const processes = new Processes();
const dir = mkdtempSync(join(tmpdir(), 'prom-http-docs-config-'));
let server: Server | undefined;

afterAll(async () => {
  await processes.stopAll();
  server?.close();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe.skipIf(!hasTools)("the docs' Prometheus configuration", () => {
  const blocks = configBlocks();

  it('finds the blocks (the Pushgateway scrape job and the promster relabel rule)', () => {
    expect(blocks.map((b) => b.where.split(':')[0]).sort()).toEqual(['docs/migrate-from-promster.md', 'docs/pushgateway.md']);
  });

  it.each(blocks)('$where passes promtool check config', ({ yaml }) => {
    const file = join(dir, `check-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(file, yaml);
    const check = spawnSync(join(BIN, 'promtool'), ['check', 'config', file], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it("the promster guide's relabel rule lower-cases the method a real Prometheus stores", async () => {
    const block = blocks.find((b) => b.where.startsWith('docs/migrate-from-promster.md'));
    const job = (parse(block?.yaml ?? '') as { scrape_configs: ScrapeJob[] }).scrape_configs[0] as ScrapeJob;
    const app = express();
    app.use(metrics({ registry: new Registry(), collectDefaultMetrics: false }));
    app.get('/users/:id', (_req, res) => {
      res.send('ok');
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server?.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (let i = 0; i < 3; i++) await (await fetch(`${url}/users/${i}`)).arrayBuffer();

    // The guide's job as it is, its target swapped for the app.
    const config = { global: { scrape_interval: '1s' }, scrape_configs: [{ ...job, static_configs: [{ targets: [url.slice(7)] }] }] };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const prometheus = processes.start('prometheus', join(BIN, 'prometheus'), [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
    ]);
    const prometheusUrl = `http://127.0.0.1:${await processes.listeningPort(prometheus, PROMETHEUS_LISTENING)}`;
    await processes.eventually('Prometheus ready', () => ok(`${prometheusUrl}/-/ready`), 30_000);
    const stored = await processes.eventually('the requests scraped', async () => {
      const found = await promQuery(prometheusUrl, 'http_request_total');
      return found.length > 0 ? found : undefined;
    });
    expect(stored.map((s) => [s.metric.method, s.metric.path, Number(s.value[1])])).toEqual([['get', '/users/:id', 3]]);
  }, 60_000);
});
