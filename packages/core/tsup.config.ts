import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
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
