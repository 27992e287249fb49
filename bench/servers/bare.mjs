// @ts-check
// The framework ceiling: a plain fastify route returning the activity JSON as a constant,
// without authentication or data access.
import Fastify from 'fastify';
import { serveParent } from '../lib/worker-process.mjs';

/** @import { FastifyInstance } from 'fastify' */

/** @type {FastifyInstance | undefined} */
let app;

serveParent(
  {
    /**
     * `body` is the JSON to answer with (server2's own answer, captured by the scenario).
     * @param {{ body: unknown }} args
     */
    async start({ body }) {
      const server = Fastify({ logger: false });
      app = server;
      server.get('/api/users/:sub/activity', async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        return body;
      });
      return { url: await server.listen({ port: 0, host: '127.0.0.1' }) };
    },
  },
  async () => app?.close(),
);
