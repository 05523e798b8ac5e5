import assert from 'node:assert/strict';
import { done, get, scrape } from './lib/check.mjs';
import { register } from 'prom-client';
import { series } from './lib/migrate.mjs';

import express from 'express';
import promBundle from 'express-prom-bundle';
import { metrics } from '@prom-http/express';
import { Registry } from 'prom-client';

const app = express();
app.use(
  metrics({
    registry: new Registry(), // its own: no name clash, and the new names are final
    path: '/next/metrics', // /metrics stays express-prom-bundle's
    excludedPaths: '/metrics/?$', // express-prom-bundle's endpoint is not a request of the app
  }),
);
app.use(promBundle({ includeMethod: true, includePath: true }));
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
app.listen(3000);

// On the registry the old library uses, prom-http refuses the clash at creation and says what to do.
assert.throws(() => metrics({ registry: register }), {
  name: 'TypeError',
  message: /"http_request_duration_seconds" is already registered in this registry by the app.*"prefix" or "registry"/,
});

const [{ url }] = await listening();
await get(`${url}/users/1`);
const old = await scrape(`${url}/metrics`);
const next = await scrape(`${url}/next/metrics`);
await get(`${url}/users/2`);
const oldAgain = await scrape(`${url}/metrics`);
const nextAgain = await scrape(`${url}/next/metrics`);

// Both endpoints answer, each library counts the app's requests, neither counts the other's endpoint.
const oldCount = (text) => series(text, 'http_request_duration_seconds_count');
assert.deepEqual(oldCount(old), [{ labels: { status_code: '200', method: 'GET', path: '/users/#val' }, value: 1 }]);
assert.deepEqual(oldCount(oldAgain), [{ labels: { status_code: '200', method: 'GET', path: '/users/#val' }, value: 2 }]);
assert.deepEqual(series(next, 'http_request_total'), [{ labels: { method: 'GET', path: '/users/:id', status: '200' }, value: 1 }]);
assert.deepEqual(series(nextAgain, 'http_request_total'), [{ labels: { method: 'GET', path: '/users/:id', status: '200' }, value: 2 }]);
assert.ok(!old.includes('path="/users/:id"') && !next.includes('status_code='));
done();
