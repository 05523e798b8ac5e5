// Reference row: express-prom-http with `collectDefaultMetrics: false` (no process and Node.js metrics from
// prom-client; prom-client is still loaded): what prom-http's request metrics cost Express on their own.
import { metrics } from '@prom-http/express';
import express from 'express';
import { heap, listenExpress, user } from '../lib/app.mjs';

const app = express();
const m = metrics({ collectDefaultMetrics: false });
app.use(m);
app.get('/__heap', m.excludeAllMetrics(), (_req, res) => res.json(heap()));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
