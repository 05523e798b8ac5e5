'use strict';
/**
 * OpenTelemetry tracing as an app sets it up, spans kept in memory so a check can see the instrumentation ran.
 * `startTracing('express')` must run before `require('express')`: the instrumentation patches express (its
 * Layer and Router) from a require hook.
 */
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

/**
 * A tracer provider registered globally with its context manager, of whichever SDK line is installed: SDK 3
 * (`@opentelemetry/sdk-trace`, Node 22.15+) or 2.x (`@opentelemetry/sdk-trace-node`).
 */
function registerProvider() {
  let node;
  try {
    // First: the 2.x line also installs a (2.x) `@opentelemetry/sdk-trace`, as a dependency of this one.
    node = require('@opentelemetry/sdk-trace-node');
  } catch {
    node = undefined;
  }
  if (node !== undefined) {
    const exporter = new node.InMemorySpanExporter();
    const provider = new node.NodeTracerProvider({ spanProcessors: [new node.SimpleSpanProcessor(exporter)] });
    provider.register();
    return { provider, exporter };
  }
  const sdk = require('@opentelemetry/sdk-trace');
  const api = require('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
  const exporter = new sdk.InMemorySpanExporter();
  // SDK 3 takes the processor's options as an object.
  const provider = new sdk.TracerProvider({ spanProcessors: [new sdk.SimpleSpanProcessor({ exporter })] });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.trace.setGlobalTracerProvider(provider);
  return { provider, exporter };
}

function startTracing(framework) {
  const { provider, exporter } = registerProvider();
  const instrumentations = [new HttpInstrumentation()];
  let fastifyOtel;
  if (framework === 'express') {
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express');
    instrumentations.push(new ExpressInstrumentation());
  } else {
    const otel = require('@fastify/otel');
    const FastifyOtelInstrumentation = otel.FastifyOtelInstrumentation ?? otel.default ?? otel;
    fastifyOtel = new FastifyOtelInstrumentation({ servername: 'newest-versions' });
    fastifyOtel.setTracerProvider(provider);
  }
  registerInstrumentations({ tracerProvider: provider, instrumentations });
  /** The names of the instrumentation scopes that finished spans. */
  const scopes = () =>
    [...new Set(exporter.getFinishedSpans().map((s) => (s.instrumentationScope ?? s.instrumentationLibrary).name))].sort();
  return { provider, fastifyOtel, scopes };
}

module.exports = { startTracing };
