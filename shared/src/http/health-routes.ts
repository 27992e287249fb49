import type { FastifyInstance } from 'fastify';
import type { MetricsRegistry } from './metrics.js';

/** What the health routes need to know of a service. */
export interface HealthRoutesOptions {
  /** Whether the service can do its job now (for server2: it holds server1's keys). */
  isReady: () => boolean;
  metrics: MetricsRegistry;
}

/**
 * `/healthz` (the process is alive), `/readyz` (it should receive traffic) and `/metrics`
 * (Prometheus text). Liveness never depends on another service, so an outage of server1 never
 * makes an orchestrator restart server2.
 */
export async function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): Promise<void> {
  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/readyz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (options.isReady()) return { status: 'ready' };
    return reply.code(503).send({ status: 'not_ready', reason: 'not_ready' });
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('cache-control', 'no-store').type(options.metrics.contentType);
    return options.metrics.render();
  });
}
