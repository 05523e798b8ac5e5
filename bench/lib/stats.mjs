// The bench scripts' one statistic: medians, because this machine's noise comes in bursts that means would carry.

/** The median of `xs` (the mean of the two middle values when their number is even); NaN when there are none. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
