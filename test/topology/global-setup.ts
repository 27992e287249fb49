import type { TestProject } from 'vitest/node';
import { type LocalTopology, startLocalTopology } from './local-topology.js';
import { type TopologyTarget, targetFromEnv } from './target.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** What the topology suite runs against (test/topology/target.ts). */
    topology: TopologyTarget;
  }
}

let local: LocalTopology | undefined;

/**
 * The suite's target: the compose topology named by the environment when SERVER1_URL is set (its
 * e2e container), else a local topology started here, once for every file. Either way a missing
 * piece fails the run; nothing is skipped.
 */
export async function setup(project: TestProject): Promise<void> {
  if (process.env.SERVER1_URL) {
    project.provide('topology', targetFromEnv(process.env));
    return;
  }
  const started = Date.now();
  local = await startLocalTopology();
  console.info(
    `local topology up in ${Date.now() - started} ms: ${local.target.server1Url}, ${local.target.server2Url}`,
  );
  project.provide('topology', local.target);
}

export async function teardown(): Promise<void> {
  await local?.stop();
}
