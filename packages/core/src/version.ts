/** The version of prom-http, exported as the `version` label of `exporter_info`. */
export const VERSION = '0.1.0';
