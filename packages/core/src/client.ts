import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { warnOnce } from './diagnostics.js';
import type { RegistryLike } from './types.js';

/** The client packages prom-http works with, in the order it prefers them when the app did not choose. */
const CLIENT_PACKAGES = ['@prometheus-io/client', 'prom-client'] as const;

/** What prom-http needs of a client module; `promClient` is checked for each. */
const CLIENT_MEMBERS = ['Registry', 'Counter', 'Gauge', 'Histogram', 'Summary', 'collectDefaultMetrics'] as const;

/**
 * The client as the engine uses it: the two packages have the same API, so prom-client's types describe both.
 * These types stay inside the implementation; the public declarations name only {@link PromClientLike}, so that
 * they compile for an app that has only one of the packages installed.
 */
export type Client = typeof PromClient;

/** Why a value is not a client module, or null when it looks like one. */
function notAClient(value: unknown): string | null {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return `got ${String(value)}`;
  const module = value as Record<string, unknown>;
  for (const member of CLIENT_MEMBERS) {
    if (typeof module[member] !== 'function') return `has no function "${member}"`;
  }
  if (!(module.register instanceof (module.Registry as new () => unknown))) return 'has no "register" made by its own Registry';
  return null;
}

/** `require` of this module's location: both packages are CommonJS, and `metrics()` must resolve them synchronously. */
const requireHere = createRequire(import.meta.url);

/**
 * The client packages that resolve from prom-http's location (the app's own copies, as npm and pnpm install
 * peers), in {@link CLIENT_PACKAGES} order. Loaded once: a module that resolves is the one the app imports.
 */
let installed: ReadonlyArray<{ name: string; module: Client }> | null = null;

function installedClients(): ReadonlyArray<{ name: string; module: Client }> {
  if (installed === null) {
    const found: Array<{ name: string; module: Client }> = [];
    for (const name of CLIENT_PACKAGES) {
      let module: unknown;
      try {
        module = requireHere(name);
      } catch (error) {
        // Absent is expected (both are optional peers); a package that is there but fails to load is not.
        if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
        continue;
      }
      if (notAClient(module) === null) found.push({ name, module: module as Client });
    }
    installed = found;
  }
  return installed;
}

/**
 * The client in use, in this order: `promClient` (the option, validated); the package whose Registry made
 * `registry`; `@prometheus-io/client` if it resolves; `prom-client`. Warns once (PROMHTTP_TWO_CLIENTS) when
 * both resolve and the app chose neither way, since metrics on the other one's global registry are not served.
 */
export function resolveClient(promClient: unknown, registry: RegistryLike | undefined): Client {
  if (promClient !== undefined) {
    const why = notAClient(promClient);
    if (why !== null) {
      throw new TypeError(`prom-http: option "promClient" must be the prom-client or @prometheus-io/client module, ${why}`);
    }
    return promClient as Client;
  }
  const candidates = installedClients();
  if (registry !== undefined) {
    const maker = candidates.find((c) => registry instanceof c.module.Registry);
    if (maker !== undefined) return maker.module;
  }
  const chosen = candidates[0];
  if (chosen === undefined) {
    throw new Error(
      'prom-http: neither @prometheus-io/client nor prom-client is installed; install one of them (npm install @prometheus-io/client)',
    );
  }
  if (candidates.length > 1 && registry === undefined) {
    warnOnce(
      'PROMHTTP_TWO_CLIENTS',
      `prom-http: both @prometheus-io/client and prom-client are installed; prom-http uses ${chosen.name}. ` +
        `Metrics registered on the global registry of ${candidates[1]?.name} are not served. ` +
        'Pass the client your app uses as the "promClient" option (or its Registry as "registry"), or remove the other package.',
    );
  }
  return chosen.module;
}
