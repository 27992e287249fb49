// @ts-check
// The store under oidc-provider's in-memory adapter (lib/adapters/memory_adapter.js), for the
// bench's OpenID provider: a Map whose entries expire, in place of the adapter's own QuickLRU of
// 1000 entries. The adapter's code is unchanged; only the cap goes.
//
// Why: with the cap, a provider session or grant left unread while 1000 to 2000 new entries are
// written is evicted (QuickLRU keeps two generations of 1000; each sign-in writes two: its code
// and its access token). Scenario 3 runs its OIDC rounds at 1, 8 and 32 users interleaved, so
// browsers 9 to 32 sit idle through two 1-user and two 8-user rounds before rounds 3 and 5 at 32
// users; on a machine fast enough, their sessions and grants are gone by then and /auth asks for
// a login again (prompt login, reason no_session). A provider with a real store keeps a session
// for its TTL (14 days here), so the cap is a development limit, not part of what the bench
// compares.
//
// Same contract as the QuickLRU the adapter calls: get, set(key, value, maxAgeMs), delete.
// Entries expire after `maxAgeMs` (the adapter passes each model's TTL in ms) and are swept
// periodically, so that spent authorization codes do not pile up over a long run.

/** How often expired entries are dropped, ms. */
const SWEEP_EVERY_MS = 10_000;

export class ExpiringStorage {
  /** @type {Map<string, { value: unknown, expiresAt: number }>} */
  #entries = new Map();

  constructor() {
    // unref: the sweep never keeps the provider's process alive.
    setInterval(() => this.#sweep(), SWEEP_EVERY_MS).unref();
  }

  /** @param {string} key */
  get(key) {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /**
   * @param {string} key
   * @param {unknown} value
   * @param {number} [maxAgeMs] no expiry when left out (the adapter's per-grant key lists)
   */
  set(key, value, maxAgeMs) {
    const expiresAt = maxAgeMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + maxAgeMs;
    this.#entries.set(key, { value, expiresAt });
    return this;
  }

  /** @param {string} key */
  delete(key) {
    return this.#entries.delete(key);
  }

  /** How many entries are held, expired ones not yet swept included. */
  get size() {
    return this.#entries.size;
  }

  #sweep() {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}
