import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string, entry = 'index') => fileURLToPath(new URL(`./packages/${pkg}/src/${entry}.ts`, import.meta.url));

const COMPAT = 'test/newest-versions.test.ts';

const coreVersion = (JSON.parse(readFileSync(new URL('./packages/core/package.json', import.meta.url), 'utf8')) as { version: string })
  .version;

export default defineConfig({
  // What core's build defines (packages/core/tsup.config.ts), for the tests that run on its sources.
  define: { __PROM_HTTP_VERSION__: JSON.stringify(coreVersion) },
  resolve: {
    // Package tests run against the sources; examples run as separate processes against the builds.
    // Exact matches: a plain '@prom-http/core' key would also rewrite '@prom-http/core/internal'.
    alias: [
      { find: /^@prom-http\/core$/, replacement: src('core') },
      { find: /^@prom-http\/core\/internal$/, replacement: src('core', 'internal') },
      { find: /^@prom-http\/express$/, replacement: src('express') },
      { find: /^@prom-http\/fastify$/, replacement: src('fastify') },
    ],
  },
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    // The files mostly wait on child processes and sockets: vitest's default (a worker per core but one) would
    // run them one at a time on two cores.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // `pnpm test` runs the unit project, `pnpm run test:types`, `test:bench` and `test:compat` the others, and
    // `pnpm run test:all` every project.
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // The packages' tests on their sources; the examples, docs and cross-package tests on the builds.
          include: ['packages/*/src/**/*.test.ts', 'examples/**/*.test.ts', 'docker/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', COMPAT],
        },
      },
      // The type tests of the public API (vitest's typecheck, with tsc).
      {
        extends: true,
        test: {
          name: 'types',
          include: [],
          typecheck: { enabled: true, only: true, include: ['packages/*/src/**/*.test-d.ts'], tsconfig: './tsconfig.test.json' },
        },
      },
      // Smoke runs of the benchmark harness: minutes of CPU, kept out of the everyday run.
      { extends: true, test: { name: 'bench', include: ['bench/**/*.test.ts'] } },
      // The packed packages against the newest releases from the npm registry: needs the network.
      { extends: true, test: { name: 'compat', include: [COMPAT] } },
    ],
  },
});
