#!/usr/bin/env node
/**
 * The packed packages against the newest versions of the frameworks and the libraries beside them, installed as
 * a user installs them: `pnpm pack` each package, then one `npm install` in a scratch app under the temp dir of
 * the three tarballs with the newest express 5 (and 4, in a second workspace of the same install), router,
 * fastify 5, prom-client, the OpenTelemetry instrumentations, @fastify/otel, compression and @fastify/compress,
 * from the registry, not from the lockfile; and two more scratch apps for the client packages: one with only
 * @prometheus-io/client (prom-client, an optional peer, is not installed), one with both, one with neither. Then each check script here runs in that app (plain `node`; each
 * starts its app on 127.0.0.1 port 0, sends requests, scrapes, and exits non-zero on a failed check).
 *
 *   node test/newest-versions/run.mjs [--build] [--keep]
 *
 * --build runs `pnpm run build` first (otherwise the packages' dist/ must be current); --keep leaves the scratch
 * app in place and prints where. Exits 0 when every check passed, 1 when one failed, 2 when the npm registry
 * cannot be reached (nothing was checked), 3 when the install failed.
 */
import { execFile as execFileCb, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFile = promisify(execFileCb);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['core', 'express', 'fastify'];
const build = process.argv.includes('--build');
const keep = process.argv.includes('--keep');

/**
 * OpenTelemetry's newest line (SDK 3: `@opentelemetry/sdk-trace`, instrumentations 0.300+, API 1.10) needs Node
 * 22.15 or later, and its instrumentations cannot share an API with the 2.x SDK (`sdk-trace-node` accepts API
 * below 1.10 only). On an older Node the checks take the newest releases of the 2.x line, which a user of that
 * Node gets. @fastify/otel is taken at its newest on every Node (it declares Node 22.15+ as well, but npm only
 * warns about `engines`, and it runs on 20).
 */
const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split('.').map(Number);
const OTEL_LATEST_LINE = nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 15);
const OTEL_DEPENDENCIES = OTEL_LATEST_LINE
  ? {
      '@opentelemetry/sdk-trace': 'latest',
      '@opentelemetry/context-async-hooks': 'latest',
      '@opentelemetry/instrumentation': 'latest',
      '@opentelemetry/instrumentation-express': 'latest',
      '@opentelemetry/instrumentation-http': 'latest',
    }
  : {
      '@opentelemetry/sdk-trace-node': '2',
      '@opentelemetry/instrumentation': '<0.300',
      '@opentelemetry/instrumentation-express': '<0.72',
      '@opentelemetry/instrumentation-http': '<0.300',
    };

/**
 * What the scratch app depends on from the registry: the newest release in each range. `@opentelemetry/api` is
 * left to npm, as the peer the OpenTelemetry packages agree on.
 */
const REGISTRY_DEPENDENCIES = {
  express: '5',
  router: 'latest',
  fastify: '5',
  'prom-client': 'latest',
  compression: 'latest',
  '@fastify/compress': 'latest',
  '@fastify/otel': 'latest',
  ...OTEL_DEPENDENCIES,
};
/** The Express 4 app: a workspace of the same install, so `require('express')` there gives Express 4. */
const EXPRESS4_DEPENDENCIES = { express: '4' };

/** Each check: the script, its argument, and the directory (of the scratch app) it runs in. */
const CHECKS = [
  ['express.cjs', 'plain', '.'],
  ['express.cjs', 'otel', '.'],
  ['express.cjs', 'compression', '.'],
  ['express.cjs', 'plain', 'express4'],
  ['express.cjs', 'otel', 'express4'],
  ['express.cjs', 'compression', 'express4'],
  ['fastify.cjs', 'plain', '.'],
  ['fastify.cjs', 'otel', '.'],
  ['fastify.cjs', 'compress', '.'],
];
const SOURCES = ['check.cjs', 'otel.cjs', 'express.cjs', 'fastify.cjs'];

/** The client apps: scratch apps of their own, since npm hoists every dependency of an install to its root. */
const CLIENT_APPS = {
  'clients-only': {
    express: '5',
    fastify: '5',
    '@prometheus-io/client': 'latest',
    typescript: 'latest',
    '@types/node': 'latest',
    '@types/express': 'latest',
  },
  'clients-none': { express: '5' },
  'clients-both': { express: '5', fastify: '5', '@prometheus-io/client': 'latest', 'prom-client': 'latest' },
};
const CLIENT_CHECKS = [
  ['clients.cjs', 'only express', '../clients-only'],
  ['clients.cjs', 'only fastify', '../clients-only'],
  ['clients.cjs', 'only types', '../clients-only'],
  ['clients.cjs', 'none express', '../clients-none'],
  ['clients.cjs', 'both express', '../clients-both'],
  ['clients.cjs', 'both fastify', '../clients-both'],
];
const CLIENT_SOURCES = ['check.cjs', 'clients.cjs', 'types.ts'];

async function run(file, args, options = {}) {
  return execFile(file, args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', ...options });
}

function elapsed(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

async function main() {
  const started = Date.now();
  // The registry first: without it nothing here can run, which the caller reports differently from a failure.
  try {
    await run('npm', ['view', 'express', 'version'], { timeout: 30_000 });
  } catch (error) {
    console.error(
      `newest-versions: the npm registry cannot be reached (npm view express): ${String(error.stderr || error.message).trim()}`,
    );
    return 2;
  }
  if (build) {
    console.log('== pnpm run build');
    await run('pnpm', ['run', 'build'], { cwd: ROOT });
  }

  const dir = mkdtempSync(join(tmpdir(), 'prom-http-newest-'));
  try {
    const tarballs = join(dir, 'tarballs');
    mkdirSync(tarballs);
    const packed = {};
    for (const name of PACKAGES) {
      await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(ROOT, 'packages', name) });
      const file = readdirSync(tarballs).find((f) => f.startsWith(`prom-http-${name}-`) && f.endsWith('.tgz'));
      if (file === undefined) throw new Error(`pnpm pack of packages/${name} left no tarball in ${tarballs}`);
      packed[`@prom-http/${name}`] = `file:${join(tarballs, file)}`;
    }

    const app = join(dir, 'app');
    mkdirSync(join(app, 'express4'), { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify(
        { name: 'newest-versions-app', private: true, workspaces: ['express4'], dependencies: { ...packed, ...REGISTRY_DEPENDENCIES } },
        null,
        2,
      ),
    );
    writeFileSync(
      join(app, 'express4', 'package.json'),
      JSON.stringify({ name: 'newest-versions-express4', private: true, dependencies: EXPRESS4_DEPENDENCIES }, null, 2),
    );
    for (const source of SOURCES) {
      copyFileSync(join(HERE, source), join(app, source));
      copyFileSync(join(HERE, source), join(app, 'express4', source));
    }

    const installing = Date.now();
    console.log(`== npm install in ${app}`);
    try {
      await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], { cwd: app, timeout: 300_000 });
    } catch (error) {
      console.error(`newest-versions: npm install failed:\n${error.stderr || error.message}`);
      return 3;
    }
    console.log(`   installed in ${elapsed(installing)}`);
    await printVersions(app);
    for (const [name, dependencies] of Object.entries(CLIENT_APPS)) {
      const where = join(dir, name);
      mkdirSync(where);
      writeFileSync(
        join(where, 'package.json'),
        JSON.stringify({ name, private: true, dependencies: { ...packed, ...dependencies } }, null, 2),
      );
      for (const source of CLIENT_SOURCES) copyFileSync(join(HERE, source), join(where, source));
      console.log(`== npm install in ${where}`);
      try {
        await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'], { cwd: where, timeout: 300_000 });
      } catch (error) {
        console.error(`newest-versions: npm install failed:\n${error.stderr || error.message}`);
        return 3;
      }
    }

    let failed = 0;
    const checks = [...CHECKS, ...CLIENT_CHECKS];
    for (const [script, variant, where] of checks) {
      const label = `${script} ${variant}${where === '.' ? '' : ` (${where})`}`;
      const { code, output } = await check(join(app, where), script, variant.split(' '));
      // A passing check prints its versions and how many checks passed; a failing one prints everything.
      const lines = output.trimEnd().split('\n');
      const shown = code === 0 ? lines.filter((l) => !l.startsWith('ok ')) : lines;
      const passed = lines.length - shown.length;
      console.log(`\n== ${label}: ${code === 0 ? `passed (${passed} checks)` : `FAILED (exit ${code})`}\n${shown.join('\n')}`);
      if (code !== 0) failed++;
    }
    console.log(`\nnewest-versions: ${checks.length - failed} of ${checks.length} checks passed, in ${elapsed(started)}`);
    return failed === 0 ? 0 : 1;
  } finally {
    if (keep) console.log(`newest-versions: the scratch app is kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** The versions the checks run against, as installed, beside the registry's `latest` tag of each. */
async function printVersions(app) {
  const installed = (where, name) => {
    try {
      return JSON.parse(readFileSync(join(app, where, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return '(not installed)';
    }
  };
  const names = [...Object.keys(REGISTRY_DEPENDENCIES), 'fastify-plugin', '@opentelemetry/api'];
  // A few at a time: a dozen npm processes at once overload a 2-core machine past the timeout.
  const latest = [];
  for (let i = 0; i < names.length; i += 4) {
    const batch = names.slice(i, i + 4).map((name) =>
      run('npm', ['view', name, 'dist-tags.latest'], { timeout: 60_000 }).then(
        (r) => r.stdout.trim(),
        () => '?',
      ),
    );
    latest.push(...(await Promise.all(batch)));
  }
  console.log(
    `   node ${process.version}, OpenTelemetry ${OTEL_LATEST_LINE ? 'SDK 3 line' : '2.x line (the newest line needs Node 22.15+)'}`,
  );
  names.forEach((name, i) => {
    console.log(`   ${name.padEnd(42)} ${String(installed('.', name)).padEnd(10)} (registry latest: ${latest[i]})`);
  });
  console.log(`   ${'express (express4 workspace)'.padEnd(42)} ${installed('express4', 'express')}`);
}

/** Runs one check script; its exit code and everything it printed. */
function check(cwd, script, args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? `${signal}`, output });
    });
  });
}

process.exitCode = await main();
