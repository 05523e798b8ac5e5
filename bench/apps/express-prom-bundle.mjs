import express from 'express';
import promBundle from 'express-prom-bundle';
import { heap, listenExpress, user } from '../lib/app.mjs';

const app = express();
app.get('/__heap', (_req, res) => res.json(heap()));
app.use(
  promBundle({
    includeMethod: true,
    includePath: true,
    includeStatusCode: true,
    // The bundle labels by URL; this folds the route's id the way its README shows, as a user of it would.
    normalizePath: [['^/users/[^/]+$', '/users/:id']],
  }),
);
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
