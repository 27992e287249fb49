import type { Browser } from '@jwt-handoff/testkit';
import type { TopologyTarget } from './target.js';

/** One replica's metrics: each series (`name{labels}`, as Prometheus prints it) and its value. */
export type MetricSamples = ReadonlyMap<string, number>;

/**
 * Reads a replica's GET /metrics, directly: with the replicas' METRICS_TOKEN when the target has
 * one, else as a loopback peer. A refusal fails the test, naming what to set.
 */
export async function readMetrics(
  browser: Browser,
  target: TopologyTarget,
  replicaUrl: string,
): Promise<MetricSamples> {
  const page = await browser.fetch('GET', `${replicaUrl}/metrics`, undefined, {
    accept: 'text/plain',
    ...(target.metricsToken ? { authorization: `Bearer ${target.metricsToken}` } : {}),
  });
  if (page.status !== 200) {
    throw new Error(
      `${replicaUrl}/metrics answered ${page.status}: set METRICS_TOKEN to the replicas' METRICS_TOKEN in the test's environment`,
    );
  }
  const samples = new Map<string, number>();
  for (const line of page.body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/**
 * The sum of `series` over several replicas' metrics. `series` is a whole series as printed
 * (`name{label="value"}`), or a bare metric name, which sums every series of that metric.
 */
export function total(replicas: readonly MetricSamples[], series: string): number {
  let sum = 0;
  for (const samples of replicas) {
    for (const [key, value] of samples) {
      if (key === series || (!series.includes('{') && key.startsWith(`${series}{`))) sum += value;
    }
  }
  return sum;
}
