// Runs variants in interleaved rounds, so that each round of every variant sees the same machine
// state, and collects each variant's per-round results. Odd rounds run in reverse order
// (A B C, C B A, A B C, ...), so that a machine slowly speeding up or slowing down during a
// round does not always favour the same variant.

/**
 * `variants` is a list of { name, measure(round) }. Warm-up runs each once and discards it.
 * Resolves with { [name]: [result of round 0, round 1, ...] }.
 */
export async function interleave(variants, { rounds, warmUp = true, log = () => {} }) {
  if (warmUp) {
    for (const variant of variants) {
      log(`  warm-up ${variant.name}`);
      await variant.measure(-1);
    }
  }
  const results = Object.fromEntries(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) {
      const result = await variant.measure(round);
      results[variant.name].push(result);
      log(`  round ${round + 1}/${rounds} ${variant.name}: ${describe(result)}`);
    }
  }
  return results;
}

function describe(result) {
  if (typeof result === 'number') return result.toFixed(0);
  if (result && typeof result.rps === 'number') return `${result.rps.toFixed(0)} req/s`;
  if (result && typeof result.rate === 'number') return `${result.rate.toFixed(0)}/s`;
  return JSON.stringify(result);
}
