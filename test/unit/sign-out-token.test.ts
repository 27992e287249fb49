import { createHmac } from 'node:crypto';
import { hashSecret, randomId, signOutToken } from '@jwt-handoff/shared';
import { describe, expect, it } from 'vitest';

describe('signOutToken', () => {
  it('is HMAC-SHA256 keyed by the session id over a fixed label, 43 base64url characters', () => {
    const sessionId = randomId();

    const token = signOutToken(sessionId);

    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token).toBe(
      createHmac('sha256', sessionId).update('jwt-handoff/sign-out-form/v1').digest('base64url'),
    );
    expect(signOutToken(sessionId)).toBe(token);
  });

  it('differs from session to session', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => signOutToken(randomId())));

    expect(tokens.size).toBe(100);
  });

  it('is none of the other values derived from the session id (its stored hash, its sid)', () => {
    const sessionId = randomId();
    const sid = hashSecret(`sid:${sessionId}`);

    expect([sessionId, hashSecret(sessionId), sid]).not.toContain(signOutToken(sessionId));
  });
});
