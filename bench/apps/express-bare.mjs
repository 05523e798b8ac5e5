import express from 'express';
import { heap, listenExpress, user } from '../lib/app.mjs';

const app = express();
app.get('/__heap', (_req, res) => res.json(heap()));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
