// Medians and spreads. Every figure the harness reports is the median over rounds, with the
// spread (the lowest and highest round) next to it, because one round on a shared machine
// proves little.

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The median of `values` with their range: { median, min, max, n, values }. */
export function summarize(values) {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
    values,
  };
}

/**
 * The ratio of two series measured in the same rounds: one ratio per round (a[i] / b[i]), then
 * their median and range. Pairing by round cancels what the machine did during that round.
 */
export function pairedRatio(a, b) {
  if (a.length !== b.length) throw new Error('paired series must have as many rounds');
  return summarize(a.map((value, i) => value / b[i]));
}

/** The value at fraction `p` (0..1) of `values`, nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
}
