import assert from 'node:assert/strict';
import { done, get, scrape } from './lib/check.mjs';
import { register } from 'prom-client';
import { series } from './lib/migrate.mjs';

import express from 'express';
import { metrics } from '@prom-http/express';
import { createMiddleware, getContentType, getSummary } from '@promster/express';
import { Registry } from 'prom-client';

const app = express();
app.use(
  metrics({
    registry: new Registry(), // its own: no name clash, and the new names are final
    path: '/next/metrics', // /metrics stays promster's
    excludedPaths: '/metrics$', // promster's endpoint is not a request of the app
  }),
);
app.use(createMiddleware({ app }));
app.get('/metrics', async (req, res) => {
  res.setHeader('Content-Type', getContentType());
  res.end(await getSummary());
});
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

// Both endpoints answer and each library counts the app's requests; promster counts its own endpoint, as before.
const users = (text) => series(text, 'http_requests_total').filter((s) => s.labels.path === '/users/#val');
assert.deepEqual(users(old), [{ labels: { method: 'get', path: '/users/#val', status_code: '200' }, value: 1 }]);
assert.deepEqual(users(oldAgain), [{ labels: { method: 'get', path: '/users/#val', status_code: '200' }, value: 2 }]);
assert.ok(series(oldAgain, 'http_requests_total').every((s) => s.labels.path !== '/next/metrics'));
assert.deepEqual(series(next, 'http_request_total'), [{ labels: { method: 'GET', path: '/users/:id', status: '200' }, value: 1 }]);
assert.deepEqual(series(nextAgain, 'http_request_total'), [{ labels: { method: 'GET', path: '/users/:id', status: '200' }, value: 2 }]);
done();
