import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { MetricsRegistry } from './metrics.js';
import { metricsAccess } from './metrics-access.js';

/** What the health routes need to know of a service. */
export interface HealthRoutesOptions {
  /** Whether the service can do its job now (for server2: it holds server1's keys). */
  isReady: () => boolean;
  metrics: MetricsRegistry;
  /**
   * Opens `/metrics` to a request with `Authorization: Bearer <metricsToken>` (METRICS_TOKEN).
   * Default none: only a loopback peer may read it.
   */
  metricsToken?: string | undefined;
}

/**
 * `/healthz` (the process is alive), `/readyz` (it should receive traffic) and `/metrics`
 * (Prometheus text). Liveness never depends on another service, so an outage of server1 never
 * makes an orchestrator restart server2. `/metrics` answers only a loopback peer or the bearer of
 * `metricsToken` (see {@link metricsAccess}); anyone else gets 403 `metrics_forbidden`.
 */
export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  const mayReadMetrics = metricsAccess({ token: options.metricsToken });

  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/readyz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (options.isReady()) return { status: 'ready' };
    return reply.code(503).send({ status: 'not_ready', reason: 'not_ready' });
  });

  const guardMetrics = async (request: FastifyRequest) => {
    if (!mayReadMetrics(request))
      throw new AppError('metrics_forbidden', 'metrics are for this host or the bearer of METRICS_TOKEN');
  };
  app.get('/metrics', { onRequest: guardMetrics }, async (_request, reply) => {
    reply.header('cache-control', 'no-store').type(options.metrics.contentType);
    return options.metrics.render();
  });
}
