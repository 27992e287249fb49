import type { SigningAlgorithm } from '@jwt-handoff/shared';
import type { KeyStore, RevocationChanges } from '../stores/key-store.js';
import { generateSigningKey } from './generate-key.js';
import { keyState } from './key-timeline.js';

/** What a revocation did. */
export interface RevocationResult {
  readonly kid: string;
  /** The key that signs from now on, when the revoked key was the signing key. */
  readonly replacement: { readonly kid: string; readonly generated: boolean } | undefined;
}

/** Thrown when a key cannot be revoked; the message says why. */
export class RevocationRefusedError extends Error {}

/**
 * Emergency revocation of a signing key (docs/design.md section 4). Unlike a rotation it waits
 * neither for verifiers to see a new key nor for the old key's tokens to expire: the key leaves
 * the JWKS now and never signs again, and its tokens are refused from the moment each client
 * learns of it (the keys-changed event the caller queues). When it was the signing key, a
 * replacement signs at once: the already published next key if a rotation is under way
 * (verifiers may hold it already), otherwise a new key, which verifiers fetch on its first unknown
 * kid or on the event, whichever comes first. When it was the next key, the current key's
 * scheduled retirement is cancelled, so that a key always signs.
 */
export async function revokeKey(
  store: KeyStore,
  kid: string,
  options: { algorithm: SigningAlgorithm; now: number },
): Promise<RevocationResult> {
  const { now } = options;
  const keys = await store.list();
  const target = keys.find((key) => key.kid === kid);
  const state = target ? keyState(target, now) : undefined;
  if (!target || (state !== 'next' && state !== 'current' && state !== 'retiring'))
    throw new RevocationRefusedError(`no published key has kid ${kid} (see npm run keys -- list)`);

  const others = keys.filter((key) => key.kid !== kid);
  const signing = others.filter((key) => keyState(key, now) === 'current');
  let changes: RevocationChanges = {};
  let replacement: RevocationResult['replacement'];
  if (state === 'current' && signing.length === 0) {
    const waiting = others.filter((key) => ['next', 'scheduled'].includes(keyState(key, now))).at(-1);
    if (waiting) {
      changes = { promote: waiting.kid };
      replacement = { kid: waiting.kid, generated: false };
    } else {
      const generated = await generateSigningKey(options.algorithm);
      changes = {
        insert: {
          ...generated,
          createdAt: now,
          publishAt: now,
          signFrom: now,
          retireAt: null,
          unpublishAt: null,
        },
      };
      replacement = { kid: generated.kid, generated: true };
    }
  } else if (state === 'next') {
    changes = { keepSigning: signing.map((key) => key.kid) };
  }
  if (!(await store.revoke(kid, now, changes)))
    throw new RevocationRefusedError(
      `key ${kid} changed while it was being revoked; list the keys and retry`,
    );
  return { kid, replacement };
}
