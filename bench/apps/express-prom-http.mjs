import { metrics } from '@prom-http/express';
import express from 'express';
import { heap, listenExpress, user } from '../lib/app.mjs';

const app = express();
// Before the middleware, so that the harness's own probe is never recorded.
app.get('/__heap', (_req, res) => res.json(heap()));
app.use(metrics());
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
