/** Set at build time from packages/core/package.json (tsup's `define`; vitest's for the test runs on sources). */
declare const __PROM_HTTP_VERSION__: string;

/** The version of prom-http, exported as the `version` label of `exporter_info`. */
export const VERSION: string = __PROM_HTTP_VERSION__;
