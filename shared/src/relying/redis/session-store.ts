import { isSessionLive, type SessionTimeouts, touchIntervalMs } from '../../http/session-cookies.js';
import { hashSecret } from '../../http/session-id.js';
import { newRelyingSession } from '../new-session.js';
import type { RelyingSession, RelyingSessionStore } from '../stores.js';
import type { RedisConnection } from './connection.js';

// Keys, under the prefix: `session:<idHash>` holds a session as JSON and expires with it;
// `session-sub:<sub>` and `session-sid:<sid>` are sets of idHashes, the indexes that let any
// replica end a user's or an issuer session's sessions. An index expires no sooner than the
// longest-lived session it names; a member whose session has expired is dropped when next seen.
// The scripts compute the keys they touch from the prefix, so this store needs one Redis (or a
// primary with replicas), not Redis Cluster.

/** Stores the session and adds it to its indexes, each kept at least as long as the session can live. */
const CREATE = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local last = 2
if ARGV[5] == '1' then last = 3 end
for i = 2, last do
  redis.call('SADD', KEYS[i], ARGV[3])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
return 1`;

/**
 * Deletes sessions and their index entries in one step; returns how many existed. ARGV[1] is the
 * prefix; ARGV[2] says which: 'one' (ARGV[3] an idHash), 'sid' (ARGV[3] a sid, ARGV[4] a sub that
 * must match, or ''), 'sub' (ARGV[3] a sub).
 */
const DROP = `
local prefix = ARGV[1]
local function drop(idHash, sub)
  local key = prefix .. 'session:' .. idHash
  local json = redis.call('GET', key)
  if not json then return -1 end
  local session = cjson.decode(json)
  if sub ~= '' and session.sub ~= sub then return 0 end
  redis.call('DEL', key)
  redis.call('SREM', prefix .. 'session-sub:' .. session.sub, idHash)
  if type(session.sid) == 'string' then
    redis.call('SREM', prefix .. 'session-sid:' .. session.sid, idHash)
  end
  return 1
end
local function dropIndexed(index, sub)
  local ended = 0
  for _, idHash in ipairs(redis.call('SMEMBERS', index)) do
    local result = drop(idHash, sub)
    if result == -1 then redis.call('SREM', index, idHash) end
    if result == 1 then ended = ended + 1 end
  end
  return ended
end
if ARGV[2] == 'one' then return math.max(drop(ARGV[3], ''), 0) end
if ARGV[2] == 'sid' then return dropIndexed(prefix .. 'session-sid:' .. ARGV[3], ARGV[4]) end
return dropIndexed(prefix .. 'session-sub:' .. ARGV[3], '')`;

/** A session as stored: everything but its key. */
type StoredSession = Omit<RelyingSession, 'idHash'>;

/** The Redis {@link RelyingSessionStore}: a session started at one replica is valid at all of them. */
export function createRedisSessionStore(
  redis: RedisConnection,
  timeouts: SessionTimeouts,
): RelyingSessionStore {
  const create = redis.script('jwtHandoffCreateSession', CREATE, 3);
  const drop = redis.script('jwtHandoffDropSessions', DROP, 0);
  const touchEveryMs = touchIntervalMs(timeouts);
  // The key lives as long as the session may: until its absolute end or its idle end, whichever is first.
  const ttlMs = (session: StoredSession, now: number) =>
    Math.max(1, Math.min(session.expiresAt, session.lastSeenAt + timeouts.idleMs) - now);
  const read = (idHash: string, json: string): RelyingSession => ({ idHash, ...parse(json) });
  const dropSessions = async (...args: string[]) => Number(await drop.run([], [redis.key(''), ...args]));

  return {
    timeouts,
    async create(handoff, now) {
      const { id, session } = newRelyingSession(handoff, now, timeouts);
      const { idHash, ...stored } = session;
      await create.run(
        [
          redis.key('session', idHash),
          redis.key('session-sub', stored.sub),
          redis.key('session-sid', stored.sid ?? ''),
        ],
        [
          JSON.stringify(stored),
          ttlMs(stored, now),
          idHash,
          timeouts.absoluteMs,
          stored.sid === undefined ? '0' : '1',
        ],
      );
      return { id, session };
    },
    async touch(id, now) {
      const idHash = hashSecret(id);
      const key = redis.key('session', idHash);
      const json = await redis.run((client) => client.get(key));
      if (json === null) return undefined;
      const stored = parse(json);
      if (!isSessionLive(stored, timeouts, now)) {
        await dropSessions('one', idHash);
        return undefined;
      }
      if (now - stored.lastSeenAt < touchEveryMs) return { idHash, ...stored };
      const touched: StoredSession = { ...stored, lastSeenAt: now };
      // XX: only if it still exists, so that a touch racing a sign-out at another replica
      // cannot bring the ended session back.
      const written = await redis.run((client) =>
        client.set(key, JSON.stringify(touched), 'PX', ttlMs(touched, now), 'XX'),
      );
      return written === 'OK' ? { idHash, ...touched } : undefined;
    },
    async delete(idHash) {
      await dropSessions('one', idHash);
    },
    deleteBySid: (sid, sub) => dropSessions('sid', sid, sub ?? ''),
    deleteBySub: (sub) => dropSessions('sub', sub),
    async listForSub(sub, now) {
      const index = redis.key('session-sub', sub);
      const idHashes = await redis.run((client) => client.smembers(index));
      if (idHashes.length === 0) return [];
      const values = await redis.run((client) =>
        client.mget(idHashes.map((idHash) => redis.key('session', idHash))),
      );
      const sessions: RelyingSession[] = [];
      values.forEach((json, i) => {
        if (json !== null) sessions.push(read(idHashes[i] as string, json));
      });
      return sessions
        .filter((session) => isSessionLive(session, timeouts, now))
        .sort((a, b) => b.createdAt - a.createdAt);
    },
    count: () => redis.countKeys('session:*'),
  };
}

function parse(json: string): StoredSession {
  return JSON.parse(json) as StoredSession;
}
