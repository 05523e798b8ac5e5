// Reference row: bare Express holding about 1.3 MB more live heap (small objects and strings), as much as
// prom-client and prom-http add to it, and nothing else: what a bigger heap alone costs Express's requests.
import express from 'express';
import { heap, listenExpress, user } from '../lib/app.mjs';

globalThis.retained = Array.from({ length: 12_000 }, (_, i) => ({ i, name: `retained ${i}`, next: null }));

const app = express();
app.get('/__heap', (_req, res) => res.json(heap()));
app.get('/users/:id', (req, res) => res.json(user(req.params.id)));
listenExpress(app);
