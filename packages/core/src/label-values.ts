import { assertLabelName, describe, fail } from './option-checks.js';
import type { LabelFunction, LabelValue } from './types.js';

export const MAX_LABEL_LENGTH = 256;

/** A label value that is not one: the observation is dropped and counted as a label error. */
export class LabelValueError extends Error {
  override name = 'LabelValueError';
}

function ignore(): void {}

function cut(value: string): string {
  if (value.length <= MAX_LABEL_LENGTH) return value;
  // Cutting between the halves of a surrogate pair would leave half a character (exported as U+FFFD).
  const code = value.charCodeAt(MAX_LABEL_LENGTH - 1);
  return value.slice(0, code >= 0xd800 && code <= 0xdbff ? MAX_LABEL_LENGTH - 1 : MAX_LABEL_LENGTH);
}

/**
 * A label value as exported: numbers, booleans and bigints become strings, `null`/`undefined` `""`, an array of
 * strings its elements joined with `,`; cut at {@link MAX_LABEL_LENGTH} characters. Anything else (a promise,
 * an object, a function) throws a {@link LabelValueError}: `String()` of it would export `[object Promise]`.
 */
export function labelString(value: LabelValue): string {
  if (typeof value === 'string') return value.length <= MAX_LABEL_LENGTH ? value : cut(value);
  if (value === null || value === undefined) return '';
  const type = typeof value;
  if (type === 'number' || type === 'boolean' || type === 'bigint') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return cut(value.join(','));
  const then = (value as { then?: unknown }).then;
  if (typeof then === 'function') {
    // Nobody else will ever look at this promise: a rejection must not become an unhandled one.
    (then as (ok: () => void, ko: () => void) => void).call(value, ignore, ignore);
    throw new LabelValueError('returned a promise; label functions must return the value itself');
  }
  throw new LabelValueError(
    `returned ${Array.isArray(value) ? 'an array with values other than strings' : type === 'object' ? 'an object' : `a ${type}`}; label values are strings, numbers, booleans or null`,
  );
}

/** Splits label sources into static values and per-request functions, validating names. */
export function splitLabels<Req, Res>(
  option: string,
  labels: unknown,
): {
  staticLabels: Array<readonly [string, string]>;
  dynamicLabels: Array<readonly [string, LabelFunction<Req, Res>]>;
} {
  const staticLabels: Array<readonly [string, string]> = [];
  const dynamicLabels: Array<readonly [string, LabelFunction<Req, Res>]> = [];
  if (labels === undefined) return { staticLabels, dynamicLabels };
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    fail(option, `must be an object of label name -> value or (req, res) => value, got ${describe(labels)}`);
  }
  for (const [name, value] of Object.entries(labels)) {
    assertLabelName(option, name);
    if (typeof value === 'function') {
      dynamicLabels.push([name, value as LabelFunction<Req, Res>]);
    } else {
      try {
        staticLabels.push([name, labelString(value as LabelValue)]);
      } catch {
        fail(option, `label "${name}" must be a string, number, boolean, array of strings or function, got ${describe(value)}`);
      }
    }
  }
  return { staticLabels, dynamicLabels };
}

/**
 * A per-route label value (`m.routeLabel(value)`, Fastify's `config.metrics.routeLabel`), checked when the route is
 * declared: a string, cut as every label value is. `where` names it in the TypeError.
 */
export function routeLabelValue(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new TypeError(`prom-http: ${where} must be a string (the route label's value), got ${typeof value}`);
  return labelString(value);
}
