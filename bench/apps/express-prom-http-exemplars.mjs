import { metrics } from '@prom-http/express';
import express from 'express';
import { heap, listenExpress, traceparentExemplar, user } from '../lib/app.mjs';

// prom-http's defaults plus an exemplar on every request, read by the function form from the traceparent
// header the harness sends (without an OpenTelemetry SDK, whose own cost is not prom-http's).
const app = express();
const m = metrics({ exemplars: traceparentExemplar });
app.use(m);
app.get('/__heap', m.excludeAllMetrics(), (_req, res) => res.json(heap()));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
