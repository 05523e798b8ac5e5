import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  entry: ['src/index.ts', 'src/internal.ts'],
  format: ['esm', 'cjs'],
  // One copy of each module shared by both entries in CommonJS too (tsup splits only ESM by default), so an app
  // that loads the public and the internal entry gets one engine, one warn-once set, one response watch.
  splitting: true,
  dts: { compilerOptions: { composite: false, incremental: false } },
  clean: true,
  target: 'node20',
  sourcemap: true,
  // client.ts resolves the client with createRequire(import.meta.url); the CommonJS build needs the shim for it.
  shims: true,
  external: [/^@prom-http\//, 'prom-client', '@prometheus-io/client', 'express', 'fastify'],
  // exporter_info's version label, read from package.json so that it cannot drift from the published version.
  define: { __PROM_HTTP_VERSION__: JSON.stringify(version) },
});
