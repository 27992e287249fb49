// @ts-check
// The server-side-session baseline the seed compares JWTs with: a signed cookie carries a
// session id, looked up in a SQLite sessions table on every request (as server2 looks up its own
// sessions: by the id's hash, claims parsed, liveness checked), then the same activity query.
import { createHash, randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import Fastify from 'fastify';
import { serveParent } from '../lib/worker-process.mjs';
import { openActivityDatabase } from './activity-data.mjs';

const COOKIE = 'sid';
const IDLE_MS = 30 * 60_000;
const hash = (/** @type {string} */ id) => createHash('sha256').update(id).digest('base64url');

/** @import { FastifyInstance } from 'fastify' */

/**
 * A row of server2's sessions table, as far as this route reads it.
 * @typedef {{ claims: string, last_seen_at: number, expires_at: number }} SessionRow
 */

/** @type {FastifyInstance | undefined} */
let app;
/** @type {ReturnType<typeof openActivityDatabase> | undefined} */
let data;

serveParent(
  {
    /** Resolves with its URL and the signed cookie of its one session. */
    async start() {
      const activity = openActivityDatabase('bench-session');
      data = activity;
      const now = Date.now();
      const id = randomBytes(32).toString('base64url');
      activity.db
        .prepare(
          `INSERT INTO sessions (id_hash, sub, sid, claims, created_at, last_seen_at, expires_at)
           VALUES (?, 'browser-user', 'sid-1', ?, ?, ?, ?)`,
        )
        .run(
          hash(id),
          JSON.stringify({ sub: 'browser-user', name: 'Bench User' }),
          now,
          now,
          now + 12 * 3_600_000,
        );
      const select = activity.db.prepare('SELECT * FROM sessions WHERE id_hash = ?');

      const server = Fastify({ logger: false });
      app = server;
      await server.register(fastifyCookie, { secret: randomBytes(32).toString('base64url') });
      server.get('/api/users/:sub/activity', async (request, reply) => {
        const raw = request.cookies[COOKIE];
        const unsigned = raw ? request.unsignCookie(raw) : undefined;
        const row = unsigned?.valid
          ? /** @type {SessionRow | undefined} */ (select.get(hash(unsigned.value)))
          : undefined;
        const at = Date.now();
        if (!row || row.expires_at <= at || row.last_seen_at + IDLE_MS <= at) {
          return reply.code(401).send({ error: 'unauthorized', reason: 'session_missing' });
        }
        const claims = JSON.parse(row.claims);
        if (typeof claims.sub !== 'string') return reply.code(401).send({ error: 'unauthorized' });
        reply.header('cache-control', 'no-store');
        return activity.activityOf(/** @type {{ sub: string }} */ (request.params).sub, at);
      });
      return {
        url: await server.listen({ port: 0, host: '127.0.0.1' }),
        cookie: `${COOKIE}=${server.signCookie(id)}`,
      };
    },
  },
  async () => {
    await app?.close();
    await data?.close();
  },
);
