import { metrics } from '@prom-http/express';
import express from 'express';
import { heap, listenExpress, user } from '../lib/app.mjs';

const app = express();
const m = metrics();
// First, as the README asks.
app.use(m);
// The harness's heap probe, opted out of every metric.
app.get('/__heap', m.excludeAllMetrics(), (_req, res) => res.json(heap()));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
