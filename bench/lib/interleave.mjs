// @ts-check
// Runs variants in interleaved rounds, so that each round of every variant sees the same machine
// state, and collects each variant's per-round results. Odd rounds run in reverse order
// (A B C, C B A, A B C, ...), so that a machine slowly speeding up or slowing down during a
// round does not always favour the same variant.

/**
 * One thing to measure; `measure` is called with the round's index, -1 for the warm-up.
 * @template T
 * @typedef {{ name: string, measure: (round: number) => Promise<T> }} Variant
 */

/**
 * Warm-up runs each variant once and discards it. Resolves with
 * { [name]: [result of round 0, round 1, ...] }.
 * @template T
 * @param {Variant<T>[]} variants
 * @param {{ rounds: number, warmUp?: boolean, log?: (line: string) => void }} options
 * @returns {Promise<Record<string, T[]>>}
 */
export async function interleave(variants, { rounds, warmUp = true, log = () => {} }) {
  if (warmUp) {
    for (const variant of variants) {
      log(`  warm-up ${variant.name}`);
      await variant.measure(-1);
    }
  }
  const series = variants.map((variant) => ({ variant, results: /** @type {T[]} */ ([]) }));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? series : [...series].reverse();
    for (const { variant, results } of order) {
      const result = await variant.measure(round);
      results.push(result);
      log(`  round ${round + 1}/${rounds} ${variant.name}: ${describe(result)}`);
    }
  }
  return Object.fromEntries(series.map(({ variant, results }) => [variant.name, results]));
}

/**
 * The results of variant `name`, which must have been measured.
 * @template T
 * @param {Record<string, T[]>} results what interleave resolved with
 * @param {string} name
 * @returns {T[]}
 */
export function resultsOf(results, name) {
  const found = results[name];
  if (!found) throw new Error(`no variant named ${name}`);
  return found;
}

/** @param {unknown} result */
function describe(result) {
  if (typeof result === 'number') return result.toFixed(0);
  if (result && typeof result === 'object') {
    if ('rps' in result && typeof result.rps === 'number') return `${result.rps.toFixed(0)} req/s`;
    if ('rate' in result && typeof result.rate === 'number') return `${result.rate.toFixed(0)}/s`;
  }
  return JSON.stringify(result);
}
