import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLIENT_NAME } from './helpers/client.js';

// Runs from an example package, as a user's app would: the workspace links resolve to the built packages.
const cwd = fileURLToPath(new URL('../examples/express-basic/', import.meta.url));
const built = ['core', 'express', 'fastify'].every((p) => existsSync(new URL(`../packages/${p}/dist/index.js`, import.meta.url)));

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd, encoding: 'utf8' }).trim();
}

const packages = ['core', 'express', 'fastify'] as const;

describe('package.json', () => {
  it.each(packages)('%s has the metadata npm shows and the fields tools rely on', (p) => {
    const pkg = JSON.parse(readFileSync(new URL(`../packages/${p}/package.json`, import.meta.url), 'utf8'));
    expect({
      repository: pkg.repository,
      homepage: pkg.homepage,
      bugs: pkg.bugs,
      license: pkg.license,
      files: pkg.files,
      sideEffects: pkg.sideEffects,
      engines: pkg.engines,
    }).toEqual({
      repository: { type: 'git', url: 'git+https://github.com/prom-http/prom-http.git', directory: `packages/${p}` },
      homepage: 'https://github.com/prom-http/prom-http#readme',
      bugs: { url: 'https://github.com/prom-http/prom-http/issues' },
      license: 'MIT',
      files: ['dist'],
      sideEffects: false,
      engines: { node: '>=20' },
    });
    expect(pkg.keywords).toEqual(expect.arrayContaining(['prometheus', 'metrics']));
    if (p !== 'core') expect(pkg.keywords).toContain(p);
  });
});

describe('packaging', () => {
  it('the packages are built (`pnpm run test:all` builds them first)', () => {
    expect(built).toBe(true);
  });

  it.runIf(built)('CommonJS: require() gives the same API', () => {
    const out = node([
      '-e',
      `const e = require('@prom-http/express'); const f = require('@prom-http/fastify'); const c = require('@prom-http/core');
       const i = require('@prom-http/core/internal');
       console.log(JSON.stringify([typeof e.metrics, typeof e.default, typeof f.fastifyMetrics, f.default === f.fastifyMetrics, typeof c.setupClusterPrimary, typeof i.PromHttp, c.VERSION]))`,
    ]);
    expect(JSON.parse(out)).toEqual(['function', 'function', 'function', true, 'function', 'function', '0.1.0']);
  });

  it.runIf(built)("core's main entry holds only the public API; the engine is on the internal entry", () => {
    const out = node([
      '--input-type=module',
      '-e',
      `const c = await import('@prom-http/core'); const i = await import('@prom-http/core/internal');
       const r = (await import('node:module')).createRequire(process.cwd() + '/');
       console.log(JSON.stringify([Object.keys(c).sort(), Object.keys(r('@prom-http/core')).sort(), typeof i.PromHttp, typeof i.failOpen]));`,
    ]);
    const publicNames = [
      'DEFAULT_BUCKETS',
      'PushgatewayError',
      'VERSION',
      'deleteFromGateway',
      'pushToGateway',
      'recordException',
      'setupClusterPrimary',
    ];
    expect(JSON.parse(out)).toEqual([publicNames, publicNames, 'function', 'function']);
  });

  it.runIf(built)('exemplars: true loads @opentelemetry/api from either build (createRequire in the CommonJS one too)', () => {
    const create = `metrics({ registry: new Registry(), collectDefaultMetrics: false, exemplars: true })`;
    const cjs = node([
      '-e',
      `const { metrics } = require('@prom-http/express'); const { Registry } = require('prom-client'); console.log(typeof ${create})`,
    ]);
    const esm = node([
      '--input-type=module',
      '-e',
      `import { metrics } from '@prom-http/express'; import { Registry } from 'prom-client'; console.log(typeof ${create})`,
    ]);
    expect([cjs, esm]).toEqual(['function', 'function']);
  });

  it.runIf(built)('ESM: import gives the same API and a working middleware', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import { metrics } from '@prom-http/express'; import fastifyMetrics from '@prom-http/fastify';
       import { Registry } from 'prom-client';
       const m = metrics({ registry: new Registry(), collectDefaultMetrics: false });
       const { body } = await m.generateMetrics();
       console.log(JSON.stringify([typeof fastifyMetrics, body.includes('exporter_info{version="0.1.0"} 1')]));`,
    ]);
    expect(JSON.parse(out)).toEqual(['function', true]);
  });

  it.runIf(built)('both builds resolve the client of registry, and make their metrics with it', () => {
    // The client as the app has it (the workspace's copy, the same files as the packages see).
    const clientPath = createRequire(import.meta.url).resolve(CLIENT_NAME);
    const check = `const m = metrics({ registry: new client.Registry(), collectDefaultMetrics: false });
       const { body } = await m.generateMetrics();
       console.log(JSON.stringify([m.client === client, m.registry.getSingleMetric('exporter_info') instanceof client.Gauge, body.includes('exporter_info{version="0.1.0"} 1')]));`;
    const cjs = node([
      '-e',
      `const { metrics } = require('@prom-http/express'); const client = require(${JSON.stringify(clientPath)}); (async () => { ${check} })();`,
    ]);
    const esm = node([
      '--input-type=module',
      '-e',
      `import { metrics } from '@prom-http/express'; import client from ${JSON.stringify(clientPath)}; ${check}`,
    ]);
    expect([JSON.parse(cjs), JSON.parse(esm)]).toEqual([
      [true, true, true],
      [true, true, true],
    ]);
  });

  it.runIf(built)('the bundles are plain ASCII, so V8 keeps their source at one byte a character', () => {
    // One character past Latin-1 (an arrow in a comment) and V8 holds the whole module source as UTF-16 on the
    // heap of every app that loads it: twice the size (core: 144 KB instead of 72 KB, in a heap snapshot).
    for (const p of ['core', 'express', 'fastify']) {
      for (const f of ['index.js', 'index.cjs']) {
        const source = readFileSync(new URL(`../packages/${p}/dist/${f}`, import.meta.url), 'utf8');
        const wide = [...source].findIndex((c) => c.charCodeAt(0) > 0x7f);
        expect(wide === -1 ? '' : `${p}/dist/${f}: ${JSON.stringify(source.slice(wide - 30, wide + 10))}`).toBe('');
      }
    }
  });

  it.runIf(built)('ESM: importing the packages does not load the lazy parts of node:util', () => {
    // An ESM import of a Node built-in reads every export, and node:util's lazy ones (parseArgs, MIMEType) then
    // load their modules: about 30 KB of heap in every app, for nothing prom-http uses.
    const out = node([
      '--input-type=module',
      '-e',
      `const lazy = () => process.moduleLoadList.filter((m) => m.includes('parse_args') || m.endsWith('internal/mime')).length;
       const { Registry } = await import('prom-client');
       const before = lazy();
       const { metrics } = await import('@prom-http/express');
       await import('@prom-http/fastify');
       const { body } = await metrics({ registry: new Registry() }).generateMetrics();
       console.log(JSON.stringify([before, lazy(), body.includes('exporter_info')]));`,
    ]);
    expect(JSON.parse(out)).toEqual([0, 0, true]);
  });

  it.runIf(built)('importing the packages registers nothing (what "sideEffects": false promises bundlers)', () => {
    // Listeners and channel subscriptions are made when an app creates a middleware or calls
    // setupClusterPrimary, never at import: a bundler may then drop any module whose exports go unused.
    const out = node([
      '--input-type=module',
      '-e',
      `import cluster from 'node:cluster'; import dc from 'node:diagnostics_channel';
       const channels = ['http.server.request.start', 'http.server.response.finish', 'http.client.request.start'];
       const state = () => JSON.stringify([
         ...channels.map((c) => dc.hasSubscribers(c)),
         ...['message', 'warning', 'exit', 'beforeExit'].map((e) => process.listenerCount(e)),
         ...['message', 'exit', 'disconnect'].map((e) => cluster.listenerCount(e)),
       ]);
       const before = state();
       await import('@prom-http/core'); await import('@prom-http/core/internal');
       await import('@prom-http/express'); await import('@prom-http/fastify');
       console.log(JSON.stringify([before, state()]));`,
    ]);
    const [before, after] = JSON.parse(out);
    expect(after).toBe(before);
  });

  it.runIf(built)('ships type declarations for both module systems', () => {
    for (const p of ['core', 'express', 'fastify']) {
      for (const f of ['index.d.ts', 'index.d.cts']) {
        expect(existsSync(new URL(`../packages/${p}/dist/${f}`, import.meta.url))).toBe(true);
      }
    }
  });
});
