import type { SigningAlgorithm } from '@jwt-handoff/shared';
import type { KeyStore } from '../stores/key-store.js';
import { generateSigningKey } from './generate-key.js';
import { keyState, type RotationTiming } from './key-timeline.js';

/** What a rotation scheduled. */
export interface RotationResult {
  readonly kid: string;
  /** When the new key starts signing (ms). */
  readonly signFrom: number;
  /** The keys it replaces, and when they leave the JWKS (ms). */
  readonly retiring: ReadonlyArray<{ kid: string; retireAt: number; unpublishAt: number }>;
}

/** Thrown when a rotation cannot start now; the message says why. */
export class RotationRefusedError extends Error {}

/**
 * Starts a rotation: publishes a new key now, lets it sign after the publish lead, and schedules
 * the current key to stop signing at that moment and to leave the JWKS after the retention
 * time. Works against the store directly, so the CLI can rotate a running or a stopped server1.
 * Refused while an earlier rotation's new key is still waiting to sign: two pending keys would
 * make the timeline ambiguous.
 */
export async function rotateKeys(
  store: KeyStore,
  options: { algorithm: SigningAlgorithm; timing: RotationTiming; now: number },
): Promise<RotationResult> {
  const { timing, now } = options;
  const keys = await store.list();
  const pending = keys.find((key) => ['scheduled', 'next'].includes(keyState(key, now)));
  if (pending) {
    throw new RotationRefusedError(
      `key ${pending.kid} is already waiting to sign (from ${new Date(pending.signFrom).toISOString()})`,
    );
  }
  const signFrom = now + timing.publishLeadMs;
  const retiring = keys
    .filter((key) => keyState(key, now) === 'current')
    .map((key) => ({ kid: key.kid, retireAt: signFrom, unpublishAt: signFrom + timing.retentionMs }));
  const generated = await generateSigningKey(options.algorithm);
  const rotated = await store.rotate(
    { ...generated, createdAt: now, publishAt: now, signFrom, retireAt: null, unpublishAt: null },
    retiring,
    now,
  );
  if (!rotated)
    throw new RotationRefusedError('another rotation started at the same moment; list the keys and retry');
  return { kid: generated.kid, signFrom, retiring };
}
