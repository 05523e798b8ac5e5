import { spawnSync } from 'node:child_process';
import { metrics } from '@prom-http/express';
import fastifyMetrics from '@prom-http/fastify';
import express from 'express';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import request from 'supertest';
import { describe, expect, it } from 'vitest';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
if (!hasPromtool && process.env.CI) throw new Error('promtool is missing: .ci/run installs the Debian package prometheus');

/**
 * promtool's complaints about the metrics this project defines, one a line ('' when none). prom-client's own
 * process metrics are left out: `nodejs_active_handles_total` is a gauge whose name promtool dislikes.
 */
function lint(exposition: string): string {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  const complaints = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
  if (result.status !== 0 && complaints.length === 0) throw new Error(`promtool failed: ${result.error ?? result.status}`);
  return complaints.filter((line) => !/^(nodejs|process)_/.test(line)).join('\n');
}

describe.skipIf(!hasPromtool)('promtool check metrics', () => {
  it('finds nothing to complain about in a Fastify exposition', async () => {
    const app = Fastify();
    await app.register(fastifyMetrics, { registry: new Registry(), defaultLabels: { service: 'api' } });
    app.get('/users/:id', async () => ({}));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    const counter = app.metrics.counter('user_reads_total', 'Reads by user', {
      labels: { user: (req) => (req.params as { id: string }).id },
    });
    app.get(
      '/reads/:id',
      counter(async () => ({})),
    );
    await app.inject('/users/1');
    await app.inject('/boom');
    await app.inject('/reads/3');
    await app.inject('/missing');
    const { body } = await app.inject('/metrics');
    expect(body).toContain('http_request_total{');
    expect(lint(body)).toBe('');
    const om = await app.inject({ url: '/metrics', headers: { accept: 'application/openmetrics-text' } });
    expect(om.body).toContain('# EOF');
    await app.close();
  });

  it('finds nothing to complain about in an Express exposition', async () => {
    const app = express();
    const m = metrics({ registry: new Registry(), latencyAsHistogram: false });
    app.use(m);
    app.get('/users/:id', (_req, res) => {
      res.json({});
    });
    await request(app).get('/users/1');
    await request(app).get('/missing');
    const { text } = await request(app).get('/metrics');
    expect(text).toContain('http_request_duration_seconds{');
    expect(lint(text)).toBe('');
  });
});
