import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  createTestCa,
  freePort,
  type ServiceProcess,
  startService,
  type TestCa,
  tempDir,
} from '@jwt-handoff/testkit';
import type { Scope } from '@jwt-handoff/testkit/vitest';
import { startPostgres } from '../postgres/postgres-server.js';
import { type RunningNginx, startNginx } from '../proxy/nginx.js';
import { REDIS_SERVER_BINARY, redisServerAvailable, startRedisServer } from '../redis/redis-server.js';

/** The two public host names; they resolve to the loopback address in the test's browser only. */
export const SERVER1_HOST = 'id.localtest';
export const SERVER2_HOST = 'app.localtest';

const DEMO_PASSWORD = 'browser-tls-demo-password';

/** One request a replica answered, from its own request log. */
export interface AnsweredRequest {
  /** Which replica answered it: 0 or 1. */
  readonly replica: number;
  readonly method: string;
  /** The path, without its query. */
  readonly path: string;
  /** When it was answered (epoch ms, the log line's time). */
  readonly time: number;
}

/** The deployment {@link startProxiedDeployment} runs, as browsers and operators see it. */
export interface ProxiedDeployment {
  /** `https://id.localtest:<port>` and `https://app.localtest:<port>`, both served by nginx. */
  readonly server1Url: string;
  readonly server2Url: string;
  /** nginx's plain-http port, which only redirects to https. */
  readonly httpPort: number;
  /** The run's CA, which issued nginx's certificate for both host names. */
  readonly ca: TestCa;
  readonly demoPassword: string;
  readonly nginx: RunningNginx;
  readonly replicas: {
    readonly server1: readonly ServiceProcess[];
    readonly server2: readonly ServiceProcess[];
  };
  /** The requests `service`'s replicas have answered so far, oldest first. */
  answered(service: 'server1' | 'server2'): AnsweredRequest[];
}

/**
 * Starts the deployment docs/deployment.md describes, on this machine: nginx terminating TLS for
 * two host names with a certificate from a CA made for the run, in front of two server1
 * replicas on one real PostgreSQL and two server2 replicas on one real Redis (sharing one
 * SESSION_SECRET), so that consecutive requests of one handoff land on different replicas.
 * Everything is stopped and removed when `scope` ends. Throws, naming what to install, when
 * redis-server, PostgreSQL, nginx or openssl is missing: no test is skipped.
 */
export async function startProxiedDeployment(scope: Scope): Promise<ProxiedDeployment> {
  if (!redisServerAvailable()) {
    throw new Error(
      `${REDIS_SERVER_BINARY} is missing: the browser suite over https runs server2 on a real Redis ` +
        '(apt-get install redis-server, or set REDIS_SERVER); .ci/run installs it',
    );
  }
  const ca = createTestCa('browser-tls');
  scope(() => ca.remove());
  const certificate = ca.issue('nginx', [SERVER1_HOST, SERVER2_HOST]);
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const server1Url = `https://${SERVER1_HOST}:${httpsPort}`;
  const server2Url = `https://${SERVER2_HOST}:${httpsPort}`;

  const redis = await startRedisServer(scope);
  const postgres = await startPostgres();
  scope(() => postgres.destroy());
  const databaseUrl = await postgres.createDatabase('browser_tls');

  const dataDir = (name: string) => {
    const dir = tempDir(name);
    scope(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  };
  const started = (replica: ServiceProcess) => {
    scope(() => replica.stop());
    return replica;
  };
  const server2Ports = [await freePort(), await freePort()];
  // server1 calls server2 on the loopback address, never through the public host names, which
  // exist in the browser's resolver only. The back-channel goes to replica B alone: a sign-out
  // ends sessions that either replica started because both keep them in Redis.
  const server2Direct = `http://127.0.0.1:${server2Ports[1]}`;
  const server1Env = {
    PUBLIC_URL: server1Url,
    DATABASE_URL: databaseUrl,
    SEED_DEMO_USERS: 'true',
    DEMO_PASSWORD,
    TRUST_PROXY: '1',
    // Request logs: which replica answered what (answered()).
    LOG_LEVEL: 'info',
    LOGOUT_RETRY_BASE_MS: '100',
    LOGOUT_RETRY_MAX_MS: '400',
    CLIENTS: JSON.stringify([
      {
        id: 'server2',
        redirect_uris: [`${server2Url}/handoff/callback`],
        backchannel_logout_uri: `${server2Direct}/backchannel-logout`,
        api_url: server2Direct,
        post_logout_redirect_uris: [`${server2Url}/logout/complete`],
      },
    ]),
  };
  // One after the other: the first migrates the database, makes the signing key and seeds the
  // demo users; the second finds them there, as a replica added to a running deployment does.
  const server1: ServiceProcess[] = [];
  for (const name of ['server1-a', 'server1-b']) {
    const port = await freePort();
    server1.push(
      started(await startService('server1', { ...server1Env, PORT: String(port), DATA_DIR: dataDir(name) })),
    );
  }
  const sessionSecret = randomBytes(32).toString('base64url');
  const server2 = await Promise.all(
    ['server2-a', 'server2-b'].map(async (name, i) =>
      started(
        await startService('server2', {
          PORT: String(server2Ports[i]),
          PUBLIC_URL: server2Url,
          ISSUER_URL: server1Url,
          // Each server2 replica fetches the keys from its own server1 replica: both publish the
          // same JWKS, read from PostgreSQL.
          JWKS_URL: `http://127.0.0.1:${server1[i]?.env.PORT}/.well-known/jwks.json`,
          DATA_DIR: dataDir(name),
          REDIS_URL: redis.url,
          SESSION_SECRET: sessionSecret,
          TRUST_PROXY: '1',
          LOG_LEVEL: 'info',
        }),
      ),
    ),
  );

  const address = (replica: ServiceProcess | undefined) => `127.0.0.1:${replica?.env.PORT}`;
  const nginx = await startNginx({
    SERVER1_HOST,
    SERVER2_HOST,
    HTTPS_PORT: String(httpsPort),
    HTTP_PORT: String(httpPort),
    TLS_CERT_FILE: certificate.certFile,
    TLS_KEY_FILE: certificate.keyFile,
    SERVER1_REPLICA_1: address(server1[0]),
    SERVER1_REPLICA_2: address(server1[1]),
    SERVER2_REPLICA_1: address(server2[0]),
    SERVER2_REPLICA_2: address(server2[1]),
  });
  scope(() => nginx.stop());

  const replicas = { server1, server2 };
  return {
    server1Url,
    server2Url,
    httpPort,
    ca,
    demoPassword: DEMO_PASSWORD,
    nginx,
    replicas,
    answered: (service) =>
      replicas[service]
        .flatMap((replica, index) => requestsIn(replica.output(), index))
        .sort((a, b) => a.time - b.time),
  };
}

/** The requests in a service's output: its one JSON line per answered request (request-log.ts). */
function requestsIn(output: string, replica: number): AnsweredRequest[] {
  const requests: AnsweredRequest[] = [];
  // Complete lines only: the last one may still be arriving.
  for (const line of output.slice(0, output.lastIndexOf('\n') + 1).split('\n')) {
    if (!line.includes('"request completed"')) continue;
    const entry = JSON.parse(line) as { time: number; req: { method: string; url: string } };
    requests.push({
      replica,
      method: entry.req.method,
      path: entry.req.url.split('?')[0] as string,
      time: entry.time,
    });
  }
  return requests;
}
