// Compiled by clients.cjs with the app's TypeScript, strict and without skipLibCheck, in an app that has only
// @prometheus-io/client: prom-http's declarations must not need prom-client's.
import { metrics } from '@prom-http/express';
import fastifyMetrics from '@prom-http/fastify';
import * as client from '@prometheus-io/client';
import express from 'express';
import Fastify from 'fastify';

const registry = new client.Registry();
const m = metrics({ promClient: client, registry, collectDefaultMetrics: false });
express().use(m);
const counter = new client.Counter({ name: 'orders_total', help: 'Orders', registers: [registry] });
counter.inc();
const info = m.info('build_info', 'Build', { commit: 'abc' });
info.set(1);
const sameClient: boolean = m.client === client;
const app = Fastify();
void app.register(fastifyMetrics, { registry: new client.Registry() });
void sameClient;
