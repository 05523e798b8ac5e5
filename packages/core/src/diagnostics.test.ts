import { afterEach, describe, expect, it } from 'vitest';
import { resetWarnings, WARNING_TYPE, warnOnce } from './diagnostics.js';

describe('warnOnce', () => {
  afterEach(() => resetWarnings());

  it('logs each code once per process, with its code and type', async () => {
    const seen: Error[] = [];
    const listener = (warning: Error) => seen.push(warning);
    process.on('warning', listener);
    try {
      expect(warnOnce('PROMHTTP_TEST_A', 'first')).toBe(true);
      expect(warnOnce('PROMHTTP_TEST_A', 'again')).toBe(false);
      expect(warnOnce('PROMHTTP_TEST_B', 'other')).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    expect(seen.map((w) => [w.name, (w as Error & { code?: string }).code, w.message])).toEqual([
      [WARNING_TYPE, 'PROMHTTP_TEST_A', 'first'],
      [WARNING_TYPE, 'PROMHTTP_TEST_B', 'other'],
    ]);
  });
});
