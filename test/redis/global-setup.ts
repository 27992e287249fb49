import { REDIS_SERVER_BINARY, redisServerAvailable } from './redis-server.js';

/**
 * The Redis suite needs a real redis-server. Missing on CI, the run fails here, loudly: a suite
 * CI skipped would be counted as passed. Missing on a developer's machine, the files skip.
 */
export default function checkRedisServer(): void {
  if (redisServerAvailable()) return;
  const message = `${REDIS_SERVER_BINARY} cannot be run: install redis-server (apt-get install redis-server) or set REDIS_SERVER`;
  if (process.env.CI) throw new Error(message);
  console.warn(`${message}; the Redis suite is skipped`);
}
