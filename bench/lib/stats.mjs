// @ts-check
// Medians and spreads. Every figure the harness reports is the median over rounds, with the
// spread (the lowest and highest round) next to it, because one round on a shared machine
// proves little.

/**
 * A series of per-round figures, summarized.
 * @typedef {object} Summary
 * @property {number} median
 * @property {number} min the lowest round
 * @property {number} max the highest round
 * @property {number} n how many rounds
 * @property {number[]} values every round's figure, in round order
 */

/**
 * The median of `values` (the mean of the middle two for an even count); NaN when empty.
 * @param {readonly number[]} values
 * @returns {number}
 */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const high = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? high : ((sorted[middle - 1] ?? Number.NaN) + high) / 2;
}

/**
 * The median of `values` with their range.
 * @param {number[]} values
 * @returns {Summary}
 */
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
 * @param {readonly number[]} a
 * @param {readonly number[]} b
 * @returns {Summary}
 */
export function pairedRatio(a, b) {
  if (a.length !== b.length) throw new Error('paired series must have as many rounds');
  return summarize(a.map((value, i) => value / (b[i] ?? Number.NaN)));
}

/**
 * The value at fraction `p` (0..1) of `values`, nearest rank; NaN when empty.
 * @param {readonly number[]} values
 * @param {number} p
 * @returns {number}
 */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? Number.NaN;
}
