import { metrics } from '@prom-http/express';
import express from 'express';
import { heap, listenExpress, user } from '../lib/app.mjs';

// prom-http's defaults plus native histogram buckets in the duration histogram.
const app = express();
const m = metrics({ nativeHistograms: true });
app.use(m);
app.get('/__heap', m.excludeAllMetrics(), (_req, res) => res.json(heap()));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
