import { createMiddleware, getContentType, getSummary } from '@promster/express';
import express from 'express';
import { heap, listenExpress, user } from '../lib/app.mjs';

const app = express();
app.get('/__heap', (_req, res) => res.json(heap()));
// @promster/express does not serve the metrics; this answers what @promster/server's handler answers.
app.get('/metrics', async (_req, res) => {
  res.setHeader('Content-Type', getContentType());
  res.end(await getSummary());
});
app.use(createMiddleware({ app }));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
