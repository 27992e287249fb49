import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestCa, freePort, type ServiceProcess, startService, tempDir } from '@jwt-handoff/testkit';
import { startPostgres } from '../postgres/postgres-server.js';
import { type RunningNginx, startNginx, UPSTREAM_HEADER_SNIPPET } from '../proxy/nginx.js';
import { REDIS_SERVER_BINARY, redisServerAvailable, startRedisServer } from '../redis/redis-server.js';
import type { TopologyTarget } from './target.js';

/** The compose topology's public names: the default of {@link LocalTopologyOptions.hosts}. */
const COMPOSE_HOSTS = { server1: 'id.jwt-handoff.test', server2: 'app.jwt-handoff.test' } as const;
const DEMO_PASSWORD = 'topology-demo-password';
const METRICS_TOKEN = 'topology-metrics-token-0123456789abcdef';
const RESOLVE_HOSTS = fileURLToPath(new URL('./resolve-hosts.mjs', import.meta.url));

/**
 * A local topology's target: the run's CA and the host names, which the compose run leaves to the
 * environment, are always set. A client resolves every name in `hosts` to 127.0.0.1 itself.
 */
export interface LocalTarget extends TopologyTarget {
  readonly caFile: string;
  readonly hosts: Readonly<Record<string, string>>;
}

/** Options of {@link startLocalTopology}. */
export interface LocalTopologyOptions {
  /**
   * The services' public host names, resolved to 127.0.0.1 by the test client (its `hosts`) and
   * by the services (resolve-hosts.mjs): no /etc/hosts edit. Default the compose topology's,
   * id.jwt-handoff.test and app.jwt-handoff.test, which share the registrable domain
   * jwt-handoff.test: a browser sees them as one site. A test of SameSite rules between the two
   * needs names on two sites, e.g. id.localtest and app.localtest.
   */
  readonly hosts?: { readonly server1: string; readonly server2: string };
}

/** The local topology: the target the tests run against, and how to take it down. */
export interface LocalTopology {
  readonly target: LocalTarget;
  /** Every replica, to read their output when something fails. */
  readonly replicas: readonly ServiceProcess[];
  readonly nginx: RunningNginx;
  /** Stops everything, last started first, and deletes its folders. */
  stop(): Promise<void>;
}

/**
 * Starts the production topology without docker: PostgreSQL, Redis, two server1 replicas on the
 * PostgreSQL, two server2 replicas on the Redis, and nginx terminating TLS in front of them with
 * deploy/nginx's template and its X-Upstream-Addr snippet. The services reach each other by the
 * public names, through nginx, over https with the run's CA (TLS_CA_FILE). The topology suite runs
 * against it (global-setup.ts), and so does the browser suite over https. Throws, naming what to
 * install, when PostgreSQL, redis-server, nginx or openssl is missing.
 */
export async function startLocalTopology(options: LocalTopologyOptions = {}): Promise<LocalTopology> {
  const hosts = options.hosts ?? COMPOSE_HOSTS;
  const cleanups: Array<() => unknown> = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    if (!redisServerAvailable()) {
      throw new Error(
        `${REDIS_SERVER_BINARY} cannot be run: the local topology (topology suite, browser suite over ` +
          'https) needs it (apt-get install redis-server, or set REDIS_SERVER); .ci/run installs it',
      );
    }
    const ca = createTestCa('topology');
    cleanups.push(() => ca.remove());
    const certificate = ca.issue('nginx', [hosts.server1, hosts.server2]);
    const postgres = await startPostgres();
    cleanups.push(() => postgres.destroy());
    const databaseUrl = await postgres.createDatabase('server1');
    // Stopped, and its folder removed, by `stop` (a scope of this topology's own).
    const redis = await startRedisServer((cleanup) => cleanups.push(cleanup));

    const httpsPort = await freePort();
    const server1Url = `https://${hosts.server1}:${httpsPort}`;
    const server2Url = `https://${hosts.server2}:${httpsPort}`;
    const common = {
      // One proxy hop: nginx, which replaces X-Forwarded-For with the address it accepted.
      TRUST_PROXY: '1',
      TLS_CA_FILE: ca.caFile,
      METRICS_TOKEN,
      RESOLVE_TO_LOOPBACK: `${hosts.server1},${hosts.server2}`,
    };
    const serviceOptions = { execArgv: ['--import', RESOLVE_HOSTS], timeoutMs: 30_000 };
    const dataDir = (name: string) => {
      const dir = tempDir(`topology-${name}`);
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    };
    const ports = {
      server1: [await freePort(), await freePort()] as const,
      server2: [await freePort(), await freePort()] as const,
    };

    // nginx first: the replicas reach each other through it as they start (server2 fetches the
    // JWKS by server1's public name); until a replica listens, nginx answers for it with 502.
    const upstreams = ([a, b]: readonly [number, number]) => [`127.0.0.1:${a}`, `127.0.0.1:${b}`] as const;
    const nginx = await startNginx(
      {
        hosts,
        httpsPort,
        certificate,
        replicas: { server1: upstreams(ports.server1), server2: upstreams(ports.server2) },
      },
      { include: [UPSTREAM_HEADER_SNIPPET] },
    );
    cleanups.push(() => nginx.stop());

    // Started together, as replicas of one deployment are: the migrations and the first signing
    // key are made once, under PostgreSQL's advisory lock.
    const server1 = await Promise.all(
      ports.server1.map((port, i) =>
        startService(
          'server1',
          {
            ...common,
            PORT: String(port),
            PUBLIC_URL: server1Url,
            DATA_DIR: dataDir(`server1-${i}`),
            DATABASE_URL: databaseUrl,
            SEED_DEMO_USERS: 'true',
            DEMO_PASSWORD,
            LOGOUT_RETRY_BASE_MS: '100',
            LOGOUT_RETRY_MAX_MS: '400',
            // Back-channel and API calls go to server2's public name, through nginx, to one replica.
            CLIENTS: JSON.stringify([
              {
                id: 'server2',
                redirect_uris: [`${server2Url}/handoff/callback`],
                backchannel_logout_uri: `${server2Url}/backchannel-logout`,
                api_url: server2Url,
                post_logout_redirect_uris: [`${server2Url}/logout/complete`],
              },
            ]),
          },
          serviceOptions,
        ),
      ),
    );
    for (const replica of server1) cleanups.push(() => replica.stop());
    const server2 = await Promise.all(
      ports.server2.map((port, i) =>
        startService(
          'server2',
          {
            ...common,
            PORT: String(port),
            PUBLIC_URL: server2Url,
            ISSUER_URL: server1Url,
            JWKS_URL: `${server1Url}/.well-known/jwks.json`,
            DATA_DIR: dataDir(`server2-${i}`),
            REDIS_URL: redis.url,
            SESSION_SECRET: 'topology-replicas-share-this-secret-0123456789',
          },
          serviceOptions,
        ),
      ),
    );
    for (const replica of server2) cleanups.push(() => replica.stop());

    return {
      target: {
        server1Url,
        server2Url,
        server1Replicas: ports.server1.map((port) => `http://127.0.0.1:${port}`),
        server2Replicas: ports.server2.map((port) => `http://127.0.0.1:${port}`),
        demoPassword: DEMO_PASSWORD,
        databaseUrl,
        metricsToken: METRICS_TOKEN,
        caFile: ca.caFile,
        hosts: { [hosts.server1]: '127.0.0.1', [hosts.server2]: '127.0.0.1' },
      },
      replicas: [...server1, ...server2],
      nginx,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
