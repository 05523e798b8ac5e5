// Reference row: the bare app plus one empty middleware, the least any `app.use()` instrumentation adds.
import express from 'express';
import { heap, listenExpress, user } from '../lib/app.mjs';

const app = express();
app.use(function passThrough(_req, _res, next) {
  next();
});
app.get('/__heap', (_req, res) => res.json(heap()));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
