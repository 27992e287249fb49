import { relyingParty } from '@jwt-handoff/shared';
import Fastify from 'fastify';

/** Where the billing app is and whom it trusts; register `${publicUrl}/handoff/callback` at server1. */
export interface BillingAppOptions {
  /** server1's public URL: the exact `iss` accepted, and where browsers sign in. */
  issuer: string;
  /** server1's JWKS, when not at `${issuer}/.well-known/jwks.json` (e.g. an internal address). */
  jwksUrl?: string;
  publicUrl: string;
  /** Signs the handoff state cookie: at least 32 characters, kept secret. */
  sessionSecret: string;
  /** Holds the app's SQLite stores (sessions, used jtis, txns, revocations). */
  dataDir: string;
}

/** A second relying service: a plain fastify app that signs its users in through server1. */
export async function buildBillingApp(options: BillingAppOptions) {
  const app = Fastify();
  await app.register(relyingParty, {
    ...options,
    clientId: 'billing',
    cookies: { session: 'billing_session', handoffState: 'billing_handoff' },
  });
  app.get('/', { preHandler: app.requireSession() }, async (request) => {
    return `hello ${request.relyingSession.claims.name}`;
  });
  app.get('/me', { preHandler: app.requireSession({ redirect: false }) }, async (request) => {
    return { sub: request.relyingSession.sub, name: request.relyingSession.claims.name };
  });
  app.get('/api/invoices', { preHandler: app.requireServiceToken('invoices:read') }, async () => {
    return { invoices: [] };
  });
  return app;
}
