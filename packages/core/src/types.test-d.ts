import type { IncomingMessage } from 'node:http';
import { describe, expectTypeOf, it } from 'vitest';
import type { CustomMetricOptions, GaugeLike, MetricsOptions, PromClientLike, RegistryLike } from './types.js';

interface FrameworkRequest extends IncomingMessage {
  get(name: string): string | undefined;
}

describe('MetricsOptions', () => {
  it('types the request authorize gets as the framework request or, from startHttpServer, a bare IncomingMessage', () => {
    type Authorize = NonNullable<MetricsOptions<FrameworkRequest, unknown>['authorize']>;
    expectTypeOf<Parameters<Authorize>[0]>().toEqualTypeOf<FrameworkRequest | IncomingMessage>();
  });

  it('takes exemplars as a boolean or a function of the framework request and response giving labels', () => {
    type Exemplars = NonNullable<MetricsOptions<FrameworkRequest, { statusCode: number }>['exemplars']>;
    expectTypeOf<true>().toMatchTypeOf<Exemplars>();
    const read: Exemplars = (req, res) => ({ trace_id: req.get('x-trace-id') ?? '', status: String(res.statusCode) });
    expectTypeOf(read).toMatchTypeOf<Exemplars>();
    // @ts-expect-error labels are strings
    const bad: Exemplars = () => ({ trace_id: 1 });
    void bad;
  });
});

describe('native histograms', () => {
  it('take true or their settings, on the instance and on a custom histogram', () => {
    const instance: MetricsOptions = { nativeHistograms: { bucketFactor: 1.2, maxBuckets: 100, zeroThreshold: 1e-9 } };
    const custom: CustomMetricOptions = { native: true };
    void [instance, custom];
    // @ts-expect-error settings are numbers
    const bad: MetricsOptions = { nativeHistograms: { bucketFactor: '1.2' } };
    void bad;
  });
});

describe('the client types', () => {
  it('take either client: its module as promClient, its Registry as registry, its Gauge as a GaugeLike', async () => {
    const pio = await import('@prometheus-io/client');
    const pc = await import('prom-client');
    expectTypeOf(pio).toMatchTypeOf<PromClientLike>();
    expectTypeOf(pc).toMatchTypeOf<PromClientLike>();
    expectTypeOf(pio.default).toMatchTypeOf<PromClientLike>();
    expectTypeOf(pc.default).toMatchTypeOf<PromClientLike>();
    expectTypeOf<InstanceType<typeof pio.Registry>>().toMatchTypeOf<RegistryLike>();
    expectTypeOf<InstanceType<typeof pc.Registry>>().toMatchTypeOf<RegistryLike>();
    expectTypeOf<InstanceType<typeof pio.Gauge>>().toMatchTypeOf<GaugeLike>();
    expectTypeOf<InstanceType<typeof pc.Gauge>>().toMatchTypeOf<GaugeLike>();
    const options: MetricsOptions<unknown, unknown> = { promClient: pio, registry: new pio.Registry() };
    void options;
  });
});
