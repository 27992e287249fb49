/**
 * What the topology suite runs against: two replicas of each service behind nginx, by their public
 * https URLs and each replica's own plain-http URL. In the compose topology the e2e container's
 * environment names them (the variables below); run locally, test/topology/global-setup.ts starts
 * one and provides the same values.
 */
export interface TopologyTarget {
  /** server1's public URL, through nginx (SERVER1_URL), e.g. https://id.jwt-handoff.test. */
  readonly server1Url: string;
  /** server2's public URL, through nginx (SERVER2_URL), e.g. https://app.jwt-handoff.test. */
  readonly server2Url: string;
  /** Each server1 replica directly, plain http (SERVER1_REPLICA_URLS, comma-separated; two). */
  readonly server1Replicas: readonly string[];
  /** Each server2 replica directly, plain http (SERVER2_REPLICA_URLS, comma-separated; two). */
  readonly server2Replicas: readonly string[];
  /** The password of the demo users alice and bob (E2E_DEMO_PASSWORD). */
  readonly demoPassword: string;
  /** server1's PostgreSQL (DATABASE_URL), for `keys rotate` run by the test. */
  readonly databaseUrl: string;
  /**
   * The replicas' METRICS_TOKEN, for reading each replica's /metrics from another host; unset, the
   * metrics are read as a loopback peer (the local topology).
   */
  readonly metricsToken: string | undefined;
  /** A CA file the test client trusts (local runs; the compose run has NODE_EXTRA_CA_CERTS). */
  readonly caFile: string | undefined;
  /** Host names the test client resolves itself (local runs; the compose run has DNS). */
  readonly hosts: Readonly<Record<string, string>> | undefined;
}

/**
 * Reads the topology from the e2e container's environment. Throws naming every missing or wrong
 * variable at once: a suite CI runs must never skip for want of its target.
 */
export function targetFromEnv(env: Readonly<Record<string, string | undefined>>): TopologyTarget {
  const problems: string[] = [];
  const url = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') problems.push(`${name} must be set`);
    else if (!URL.canParse(value)) problems.push(`${name} must be a URL, got "${value}"`);
    return (value ?? '').replace(/\/+$/, '');
  };
  const replicas = (name: string): string[] => {
    const list = (env[name] ?? '')
      .split(',')
      .map((entry) => entry.trim().replace(/\/+$/, ''))
      .filter(Boolean);
    if (list.length !== 2 || !list.every((entry) => URL.canParse(entry)))
      problems.push(`${name} must list two replica URLs, comma-separated`);
    return list;
  };
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === '') problems.push(`${name} must be set`);
    return value ?? '';
  };
  const target: TopologyTarget = {
    server1Url: url('SERVER1_URL'),
    server2Url: url('SERVER2_URL'),
    server1Replicas: replicas('SERVER1_REPLICA_URLS'),
    server2Replicas: replicas('SERVER2_REPLICA_URLS'),
    demoPassword: required('E2E_DEMO_PASSWORD'),
    databaseUrl: required('DATABASE_URL'),
    metricsToken: env.METRICS_TOKEN || undefined,
    caFile: undefined,
    hosts: undefined,
  };
  if (problems.length > 0)
    throw new Error(`the topology suite's target is incomplete:\n  ${problems.join('\n  ')}`);
  return target;
}
