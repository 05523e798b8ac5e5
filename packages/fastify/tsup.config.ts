import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false, incremental: false } },
  clean: true,
  target: 'node20',
  sourcemap: true,
  external: [/^@prom-http\//, 'prom-client', 'express', 'fastify'],
});
