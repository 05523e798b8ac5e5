import { routeLabelValue, warnOnce } from '@prom-http/core/internal';
import type { FastifyRequest, RouteOptions } from 'fastify';
import type { RouteMetricsConfig } from './types.js';

/** What recording a request needs of its route, computed once per route. */
export interface RouteInfo {
  /** The URL template with the plugin prefixes; undefined for Fastify's not-found handler. */
  readonly template: string | undefined;
  /** The handler's name, else the template. */
  readonly endpoint: string | undefined;
  readonly doNotTrack: boolean;
  readonly excludeAll: boolean;
  /** The route label the route's config gives, else undefined. */
  readonly routeLabel: string | undefined;
}

/** For a request whose route cannot be read: no template, so `<unmatched>`. */
const UNKNOWN_ROUTE: RouteInfo = { template: undefined, endpoint: undefined, doNotTrack: false, excludeAll: false, routeLabel: undefined };

function routeInfo(url: string | undefined, handlerName: string | undefined, flags: RouteMetricsConfig | undefined): RouteInfo {
  const routeLabel = flags?.routeLabel;
  return {
    routeLabel: routeLabel === undefined ? undefined : routeLabelValue(routeLabel, `route ${url}: config.metrics.routeLabel`),
    template: url,
    endpoint: url === undefined ? undefined : handlerName || url,
    doNotTrack: flags?.doNotTrack === true,
    excludeAll: flags?.excludeAll === true,
  };
}

/**
 * Reads the route of a request through public hook points. The `onRoute` hook (`precompute`) sees the routes
 * registered after the plugin in its context and below, and leaves their info in the route's config, under a
 * key of this instance: Fastify copies that config into the one `request.routeOptions.config` gives, the same
 * object for every request of the route. Any other route (registered before the plugin, Fastify's not-found
 * handler) is read from `request.routeOptions` on its first request and kept per config object.
 */
export function routeInfoReader(): { precompute(route: RouteOptions): void; read(request: FastifyRequest): RouteInfo } {
  const key = Symbol('prom-http route');
  const late = new WeakMap<object, RouteInfo>();

  return {
    precompute: function promHttpOnRoute(route) {
      const config = route.config as (Record<PropertyKey, unknown> & { metrics?: RouteMetricsConfig }) | undefined;
      // A copy: the app may hand one config object to several routes.
      route.config = { ...config, [key]: routeInfo(route.url, route.handler.name, config?.metrics) } as NonNullable<RouteOptions['config']>;
    },
    read: function readRouteInfo(request) {
      // `routeOptions` builds a new object on every read: read once a request.
      const options = request.routeOptions as FastifyRequest['routeOptions'] | undefined;
      const config = options?.config as (Record<PropertyKey, unknown> & { metrics?: RouteMetricsConfig }) | undefined;
      if (options === undefined || config === undefined) {
        warnOnce(
          'PROMHTTP_FASTIFY_NO_ROUTE_OPTIONS',
          'this Fastify has no request.routeOptions.config: requests are counted with the route label "<unmatched>" and the route config "metrics" is ignored; upgrade Fastify to its latest 4.x or to 5',
        );
        return UNKNOWN_ROUTE;
      }
      const known = (config[key] as RouteInfo | undefined) ?? late.get(config);
      if (known !== undefined) return known;
      // Fastify binds route handlers: their name reads "bound <name>".
      const info = routeInfo(options.url, options.handler?.name.replace(/^bound /, ''), config.metrics);
      late.set(config, info);
      return info;
    },
  };
}
