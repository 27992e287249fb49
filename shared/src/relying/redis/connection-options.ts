// What the Redis connection can be told, apart from the client itself: the public option types
// stay free of ioredis's own types.

/** Bounds on waiting for Redis, in milliseconds; see {@link REDIS_CONNECTION_DEFAULTS}. */
export interface RedisTimeouts {
  /** How long one connection attempt may take. */
  connectMs: number;
  /** How long one command may wait for its answer. */
  commandMs: number;
  /** The longest pause between reconnection attempts. */
  maxReconnectDelayMs: number;
}

/** Defaults of {@link RedisTimeouts}. */
export const REDIS_CONNECTION_DEFAULTS: Readonly<RedisTimeouts> = Object.freeze({
  connectMs: 2_000,
  commandMs: 1_000,
  maxReconnectDelayMs: 1_000,
});

/** What the connection reports as it comes and goes (for logging: nothing else depends on it). */
export type RedisConnectionEvent = { state: 'ready' } | { state: 'lost'; error: string };
