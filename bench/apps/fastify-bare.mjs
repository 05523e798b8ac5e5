import Fastify from 'fastify';
import { heap, listenFastify, user } from '../lib/app.mjs';

const app = Fastify();
app.get('/__heap', async () => heap());
app.get('/users/:id', async (req) => user(req.params.id));
await listenFastify(app);
