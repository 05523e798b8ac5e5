import type { IncomingMessage } from 'node:http';
import { describe, expectTypeOf, it } from 'vitest';
import type { MetricsOptions } from './types.js';

interface FrameworkRequest extends IncomingMessage {
  get(name: string): string | undefined;
}

describe('MetricsOptions', () => {
  it('types the request authorize gets as the framework request or, from startHttpServer, a bare IncomingMessage', () => {
    type Authorize = NonNullable<MetricsOptions<FrameworkRequest, unknown>['authorize']>;
    expectTypeOf<Parameters<Authorize>[0]>().toEqualTypeOf<FrameworkRequest | IncomingMessage>();
  });
});
