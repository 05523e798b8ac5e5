import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** Prometheus' own schema (client_model's metrics.proto), read by protobufjs: the reference decoder of the tests. */
const root = protobuf.loadSync(fileURLToPath(new URL('../../packages/core/src/fixtures/metrics.proto', import.meta.url)));
const MetricFamily = root.lookupType('io.prometheus.client.MetricFamily');

/** A decoded MetricFamily: enums as names, 64-bit integers as numbers, fields not sent left out (but `metric`). */
export interface DecodedFamily {
  name: string;
  help: string;
  type: string;
  metric: Array<Record<string, any>>;
}

/** Every MetricFamily of a length-delimited protobuf exposition. */
export function decodeFamilies(body: Uint8Array): DecodedFamily[] {
  const reader = protobuf.Reader.create(body);
  const families: DecodedFamily[] = [];
  while (reader.pos < reader.len) {
    const message = MetricFamily.decodeDelimited(reader);
    const family = withoutEmptyArrays(MetricFamily.toObject(message, { enums: String, longs: Number })) as DecodedFamily;
    family.metric ??= [];
    families.push(family);
  }
  return families;
}

/** `toObject` leaves empty repeated fields as `[]`: dropped, so that expectations list what was sent. */
function withoutEmptyArrays(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmptyArrays);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) if (!(Array.isArray(v) && v.length === 0)) out[key] = withoutEmptyArrays(v);
  return out;
}

/** The labels of a decoded series as an object. */
export function labelsOf(metric: Record<string, any>): Record<string, string> {
  return Object.fromEntries((metric.label ?? []).map((l: { name: string; value: string }) => [l.name, l.value]));
}
