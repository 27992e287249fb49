// The framework ceiling: a plain fastify route returning the activity JSON as a constant,
// without authentication or data access.
import Fastify from 'fastify';
import { serveParent } from '../lib/worker-process.mjs';

let app;

serveParent(
  {
    /** { body }: the JSON to answer with (server2's own answer, captured by the scenario). */
    async start({ body }) {
      app = Fastify({ logger: false });
      app.get('/api/users/:sub/activity', async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        return body;
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { url: `http://127.0.0.1:${app.server.address().port}` };
    },
  },
  async () => app?.close(),
);
