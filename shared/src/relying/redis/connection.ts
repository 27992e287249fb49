import { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../errors.js';
import {
  REDIS_CONNECTION_DEFAULTS,
  type RedisConnectionEvent,
  type RedisTimeouts,
} from './connection-options.js';

/** One Redis client and the key prefix every store of a relying service writes under. */
export interface RedisConnection {
  /** Runs `command`; any failure of Redis is rethrown as a {@link StoreUnavailableError}. */
  run<T>(command: (client: Redis) => Promise<T>): Promise<T>;
  /** A Lua script, loaded once and run by its hash (`EVALSHA`, falling back to `EVAL`). */
  script(name: string, lua: string, numberOfKeys: number): RedisScript;
  /** `prefix + key`: every key of the stores goes through this. */
  key(...parts: string[]): string;
  /** The number of keys matching `pattern` (a key name with a trailing `*`), by SCAN: for gauges only. */
  countKeys(pattern: string): Promise<number>;
  /** Whether the client is connected and Redis answered its ready check. */
  isReady(): boolean;
  close(): Promise<void>;
}

/** A loaded Lua script. */
export interface RedisScript {
  run(keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown>;
}

/** Options of {@link connectRedis}. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: string;
  /** Put before every key, so that several services or apps can share one Redis. */
  keyPrefix: string;
  timeouts?: Partial<RedisTimeouts>;
  onEvent?: (event: RedisConnectionEvent) => void;
}

/**
 * Connects to Redis for the relying stores. Nothing waits unboundedly: no command is queued while
 * the connection is down (it fails at once), a command in flight gives up after `commandMs`, and
 * a command lost with its connection is not sent again (a resent `SET NX` would report its own
 * first write as a replay). The client keeps reconnecting in the background, so service resumes
 * by itself when Redis returns; until then every store call fails with StoreUnavailableError and
 * `isReady` is false.
 */
export function connectRedis(options: RedisConnectionOptions): RedisConnection {
  const timeouts = { ...REDIS_CONNECTION_DEFAULTS, ...options.timeouts };
  const client = new Redis(options.url, {
    connectTimeout: timeouts.connectMs,
    commandTimeout: timeouts.commandMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, timeouts.maxReconnectDelayMs),
    // Commands issued in the same tick (the requests in flight) leave in one write and their
    // replies come back in one read: the socket writes were server2's largest line on Redis.
    enableAutoPipelining: true,
  });
  // Without a listener, ioredis prints every failed reconnection; with one, the outage is
  // reported once when it starts and once when it ends.
  let reported: 'ready' | 'lost' | undefined;
  client.on('ready', () => {
    reported = 'ready';
    options.onEvent?.({ state: 'ready' });
  });
  const lost = (error: string) => {
    if (reported === 'lost') return;
    reported = 'lost';
    options.onEvent?.({ state: 'lost', error });
  };
  client.on('error', (err: Error) => lost(err.message));
  // A server that shuts down closes the connection without an error; the reconnection attempts
  // that follow fail with one.
  client.on('close', () => {
    if (reported === 'ready') lost('the connection was closed');
  });

  // A Redis that stops answering (paused, overloaded) keeps its connection open: the client's
  // status stays 'ready' while every command times out. A failed command therefore marks the
  // store not ready until a command succeeds again, which a PING every `commandMs` finds out
  // even when no traffic comes (a replica out of the load balancer gets none).
  let failing: NodeJS.Timeout | undefined;
  const recovered = () => {
    clearInterval(failing);
    failing = undefined;
  };
  const failed = () => {
    if (failing !== undefined) return;
    failing = setInterval(() => {
      client.ping().then(recovered, () => undefined);
    }, timeouts.commandMs);
    failing.unref();
  };

  const prefix = options.keyPrefix;
  const run = async <T>(command: (redis: Redis) => Promise<T>): Promise<T> => {
    try {
      const result = await command(client);
      if (failing !== undefined) recovered();
      return result;
    } catch (err) {
      failed();
      throw new StoreUnavailableError('Redis', err);
    }
  };
  return {
    run,
    script(name, lua, numberOfKeys) {
      client.defineCommand(name, { lua, numberOfKeys });
      const command = (
        client as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>
      )[name] as (...args: Array<string | number>) => Promise<unknown>;
      return { run: (keys, args) => run(() => command.call(client, ...keys, ...args)) };
    },
    key: (...parts) => prefix + parts.join(':'),
    countKeys: (pattern) =>
      run(async (redis) => {
        let cursor = '0';
        let count = 0;
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', prefix + pattern, 'COUNT', 1000);
          cursor = next;
          count += keys.length;
        } while (cursor !== '0');
        return count;
      }),
    isReady: () => client.status === 'ready' && failing === undefined,
    async close() {
      recovered();
      // QUIT lets Redis finish what was sent; when not connected there is nothing to finish.
      if (client.status === 'ready') await client.quit().catch(() => undefined);
      client.disconnect();
    },
  };
}

/** A MULTI's results, rethrowing the first step that failed (`exec` reports failures, not throws). */
export function transactionResults(
  results: Array<[Error | null, unknown]> | null,
): Array<[Error | null, unknown]> {
  if (results === null) throw new Error('the transaction was aborted');
  const failed = results.find(([err]) => err !== null);
  if (failed) throw failed[0];
  return results;
}
