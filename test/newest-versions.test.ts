import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

/*
 * The packed packages, installed as a user installs them, against the newest express 5 and 4, router, fastify 5,
 * prom-client, the OpenTelemetry instrumentations, @fastify/otel, compression and @fastify/compress from the npm
 * registry, and apps with only @prometheus-io/client or with both clients (test/newest-versions/run.mjs). Skipped when the registry cannot be reached, unless CI is set: then
 * it fails, as a job that checks nothing must not pass.
 */

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RUNNER = fileURLToPath(new URL('newest-versions/run.mjs', import.meta.url));
const run = promisify(execFile);

async function registryReachable(): Promise<string | undefined> {
  try {
    await run('npm', ['view', 'express', 'version'], { timeout: 30_000 });
    return undefined;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    return (stderr || message).trim().split('\n')[0];
  }
}

it('the packed packages pass their user-level checks against the newest versions from the registry', { timeout: 900_000 }, async (ctx) => {
  const unreachable = await registryReachable();
  if (unreachable !== undefined) {
    const message = `the npm registry cannot be reached (npm view express: ${unreachable})`;
    if (process.env.CI === 'true') throw new Error(`${message}; CI is set, so this fails rather than skips`);
    ctx.skip(`${message}: newest-versions checks skipped`);
  }
  for (const p of ['core', 'express', 'fastify']) {
    if (!existsSync(new URL(`../packages/${p}/dist/index.js`, import.meta.url))) {
      throw new Error('the checks pack the built packages: run `pnpm run build` first');
    }
  }
  const result = await run(process.execPath, [RUNNER], { cwd: ROOT, timeout: 880_000, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string; message: string }) => ({
      code: error.code ?? 1,
      output: `${error.stdout ?? ''}${error.stderr ?? error.message}`,
    }),
  );
  // The whole report on failure: which versions, which check, expected and got.
  expect(result.code === 0 ? 'passed' : result.output).toBe('passed');
});
