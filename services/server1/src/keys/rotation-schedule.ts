import { logTaskFailure, type SigningAlgorithm } from '@jwt-handoff/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { KeyStore } from '../stores/key-store.js';
import type { KeyRing } from './key-ring.js';
import { KEY_RELOAD_INTERVAL_MS, keyState, type RotationTiming } from './key-timeline.js';
import { RotationRefusedError, rotateKeys } from './rotate-keys.js';

/** Options of {@link startKeyMaintenance}. */
export interface KeyMaintenanceOptions {
  store: KeyStore;
  keyRing: KeyRing;
  algorithm: SigningAlgorithm;
  timing: RotationTiming;
  /** Rotate once the current key has signed for this long (ms); undefined: only by command. */
  rotationIntervalMs: number | undefined;
  now: () => number;
  log: FastifyBaseLogger;
  /**
   * Called after each reload: server1 wakes its back-channel dispatcher here, so that a
   * keys-changed event queued by `npm run keys -- revoke` goes out as soon as this process signs
   * with the replacement key, and not before.
   */
  onReload?: () => void;
}

/**
 * The running server1's side of rotation: re-reads the keys every second (a rotation made by the
 * CLI is picked up well inside the publish lead), deletes dropped keys, and, when a rotation
 * interval is configured, starts a rotation once the current key has signed for that long.
 * Returns a stop function.
 */
export function startKeyMaintenance(options: KeyMaintenanceOptions): () => void {
  const { store, keyRing, now, log } = options;
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await store.deleteDropped(now());
      if (options.rotationIntervalMs !== undefined) await rotateWhenDue(options.rotationIntervalMs);
      await keyRing.reload();
      options.onReload?.();
    } catch (err) {
      logTaskFailure(log, err, 'key maintenance failed');
    } finally {
      busy = false;
    }
  };
  const rotateWhenDue = async (intervalMs: number) => {
    const at = now();
    const keys = await store.list();
    if (keys.some((key) => ['scheduled', 'next'].includes(keyState(key, at)))) return;
    const newest = keys.filter((key) => keyState(key, at) === 'current').at(-1);
    if (newest && newest.signFrom + intervalMs > at) return;
    try {
      const result = await rotateKeys(store, {
        algorithm: options.algorithm,
        timing: options.timing,
        now: at,
      });
      log.info(
        { kid: result.kid, signFrom: new Date(result.signFrom).toISOString() },
        'scheduled key rotation started',
      );
    } catch (err) {
      if (!(err instanceof RotationRefusedError)) throw err;
    }
  };
  const timer = setInterval(tick, KEY_RELOAD_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
