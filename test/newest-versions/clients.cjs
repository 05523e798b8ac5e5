'use strict';
/**
 * The client an app uses, with the packed packages installed by npm as a user installs them.
 * `node clients.cjs only express|fastify`: an app that has ONLY @prometheus-io/client (npm must not add prom-client,
 * an optional peer) counts on its global registry, and `/metrics` serves that metric with prom-http's defaults.
 * `node clients.cjs only types`: types.ts compiles (strict, no skipLibCheck) there, as CommonJS and as ESM.
 * `node clients.cjs none express`: neither installed; creating the middleware throws, naming both.
 * `node clients.cjs both express|fastify`: both packages installed; unchosen, prom-http warns
 * PROMHTTP_TWO_CLIENTS once and takes @prometheus-io/client; with `promClient` it takes the app's.
 */
const { checkDefaults, done, expectEqual, fail, scrape, send, value } = require('./check.cjs');

const [setup = 'only', framework = 'express'] = process.argv.slice(2);
const resolves = (name) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};
const versionOf = (name) => (resolves(name) ? require(`${name}/package.json`).version : '(not installed)');
console.log(
  `@prometheus-io/client ${versionOf('@prometheus-io/client')}, prom-client ${versionOf('prom-client')}, node ${process.version}, ${setup} ${framework}`,
);

const warnings = [];
process.on('warning', (w) => {
  if (w.name === 'PromHttpWarning') warnings.push(w.code);
});

/** An app on `framework` with prom-http (`options`) and one route; resolves to its base URL, its API and a closer. */
async function start(options) {
  if (framework === 'fastify') {
    const Fastify = require('fastify');
    const { fastifyMetrics } = require('@prom-http/fastify');
    const app = Fastify();
    await app.register(fastifyMetrics, options);
    app.get('/orders/:id', async () => 'ok');
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    return { base, api: app.metrics, close: () => app.close() };
  }
  const express = require('express');
  const { metrics } = require('@prom-http/express');
  const app = express();
  const m = metrics(options);
  app.use(m);
  app.get('/orders/:id', function order(_req, res) {
    res.send('ok');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return { base: `http://127.0.0.1:${server.address().port}`, api: m, close: () => new Promise((r) => server.close(r)) };
}

/** The app's own counter on `client`'s global registry, at 3. */
function appCounter(client, name) {
  new client.Counter({ name, help: "The app's own orders" }).inc(3);
}

async function main() {
  if (framework === 'types') {
    const { execFileSync } = require('node:child_process');
    const tsc = require('node:path').join('node_modules', '.bin', 'tsc');
    // As CommonJS (types.ts: the app has no "type") and as ESM (types.mts): each reads its own declarations.
    require('node:fs').copyFileSync('types.ts', 'types.mts');
    const args = [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      'types.ts',
      'types.mts',
    ];
    let output = '';
    try {
      execFileSync(tsc, args, { encoding: 'utf8' });
    } catch (error) {
      output = `${error.stdout}${error.stderr}`.trim();
    }
    expectEqual(`tsc ${require('typescript/package.json').version} compiles types.ts without skipLibCheck`, output, '');
    return;
  }
  if (setup === 'none') {
    let message = '(no error)';
    try {
      require('@prom-http/express').metrics();
    } catch (error) {
      message = error.message;
    }
    expectEqual(
      'neither client installed: metrics() throws naming both',
      message,
      'prom-http: neither @prometheus-io/client nor prom-client is installed; install one of them (npm install @prometheus-io/client)',
    );
    return;
  }
  const pio = require('@prometheus-io/client');
  if (setup === 'only') {
    expectEqual('prom-client is not installed (an optional peer: npm leaves it out)', resolves('prom-client'), false);
    appCounter(pio, 'app_orders_total');
    const { base, api, close } = await start(undefined);
    try {
      expectEqual('the client in use is @prometheus-io/client', api.client === pio, true);
      await send(base, [['/orders/1', 2]]);
      const { samples } = await scrape(base);
      expectEqual("the app's own metric on the global registry is served", value(samples, 'app_orders_total', {}), 3);
      checkDefaults(samples, [{ route: '/orders/:id', status: 200, count: 2 }]);
      expectEqual('process metrics are served', value(samples, 'process_cpu_seconds_total', {}) >= 0, true);
      expectEqual('no warning', warnings, []);
    } finally {
      await close();
    }
    return;
  }
  const pc = require('prom-client');
  appCounter(pc, 'app_orders_total');
  // Unchosen: a warning, and the app's metric (on prom-client's registry) not served, which the warning says.
  const unchosen = await start({ collectDefaultMetrics: false });
  try {
    expectEqual('unchosen: @prometheus-io/client is taken', unchosen.api.client === pio, true);
    const { samples } = await scrape(unchosen.base);
    expectEqual("unchosen: the app's prom-client metric is not served", value(samples, 'app_orders_total', {}), undefined);
    expectEqual('unchosen: one PROMHTTP_TWO_CLIENTS warning', warnings, ['PROMHTTP_TWO_CLIENTS']);
  } finally {
    await unchosen.close();
  }
  const chosen = await start({ promClient: pc, prefix: 'chosen' });
  try {
    expectEqual('promClient: prom-client is taken', chosen.api.client === pc, true);
    expectEqual('promClient: its global registry is the registry', chosen.api.registry === pc.register, true);
    await send(chosen.base, [['/orders/1', 1]]);
    const { samples } = await scrape(chosen.base);
    expectEqual("promClient: the app's metric is served", value(samples, 'app_orders_total', {}), 3);
    expectEqual(
      'promClient: the defaults are served beside it',
      value(samples, 'chosen_http_request_total', { method: 'GET', path: '/orders/:id', status: '200' }),
      1,
    );
    expectEqual('still one warning', warnings, ['PROMHTTP_TWO_CLIENTS']);
  } finally {
    await chosen.close();
  }
}

main().then(done, (error) => {
  fail('clients', error);
  done();
});
