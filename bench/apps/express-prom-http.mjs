import express from 'express';
import { heap, importPromHttp, listenExpress, user } from '../lib/app.mjs';

// The bench's build of prom-http, or another checkout's (PROMHTTP_DIR, for the `-baseline` rows).
const { metrics } = await importPromHttp('express');
const app = express();
const m = metrics();
// First, as the README asks.
app.use(m);
// The harness's heap probe, opted out of every metric.
app.get('/__heap', m.excludeAllMetrics(), (_req, res) => res.json(heap()));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
