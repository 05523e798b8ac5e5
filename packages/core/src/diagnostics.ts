/**
 * prom-http's coded warnings. Each code is logged at most once per process (the README lists every code with
 * its meaning and fix), so an app that hits one on every request still gets one line, and a monitoring tool can
 * match on the code rather than on the wording.
 */

/** Every code prom-http may warn with. Add a code here and to the README's list together. */
export type WarningCode = `PROMHTTP_${string}`;

/** The type of every warning prom-http emits (`process.on('warning', w => w.name === 'PromHttpWarning')`). */
export const WARNING_TYPE = 'PromHttpWarning';

/**
 * The codes already warned about, shared by every copy of this package in the process (an app that loads both
 * the ESM and the CommonJS build, or two versions, still gets one warning per code).
 */
const kWarned = Symbol.for('prom-http.warned');
const globalSlots = globalThis as Record<symbol, unknown>;
if (!(globalSlots[kWarned] instanceof Set)) globalSlots[kWarned] = new Set<string>();
const warned = globalSlots[kWarned] as Set<string>;

/** Logs `message` with `code` unless that code was already logged in this process. Returns whether it logged. */
export function warnOnce(code: WarningCode, message: string): boolean {
  if (warned.has(code)) return false;
  warned.add(code);
  process.emitWarning(message, { type: WARNING_TYPE, code });
  return true;
}

/** For tests: forget that `code` (every code, when none is given) was logged. */
export function resetWarnings(code?: WarningCode): void {
  if (code === undefined) warned.clear();
  else warned.delete(code);
}
