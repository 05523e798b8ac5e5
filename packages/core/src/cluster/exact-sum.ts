/**
 * Adds `x` to the exact sum held in `partials`: non-overlapping floats whose exact sum is everything added
 * (Shewchuk's algorithm, as in Python's `math.fsum`).
 */
function addExact(partials: number[], value: number): void {
  let x = value;
  let i = 0;
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j] as number;
    if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials.length = i;
  partials.push(x);
}

/** The exact sum held in `partials`, correctly rounded to the nearest float (ties to even). */
function roundExact(partials: readonly number[]): number {
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n] as number;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n] as number;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  const next = n > 0 ? (partials[n - 1] as number) : 0;
  if ((lo < 0 && next < 0) || (lo > 0 && next > 0)) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

/**
 * The sum of `values`, exact then rounded once, so that it does not depend on their order or grouping: summed
 * left to right, moving an exited worker's counters into the retired total could change the last bit of a
 * `_sum` and make it go down, which Prometheus reads as a counter reset.
 */
export function exactSum(values: readonly number[]): { value: number; partials: number[] } {
  const partials: number[] = [];
  for (const v of values) {
    if (!Number.isFinite(v)) return { value: values.reduce((a, b) => a + b, 0), partials: [] };
    addExact(partials, v);
  }
  const value = roundExact(partials);
  return Number.isFinite(value) ? { value, partials } : { value: values.reduce((a, b) => a + b, 0), partials: [] };
}
