import {
  AppError,
  type LogoutHintClaims,
  type ReasonCode,
  requireSignOutForm,
  sendPage,
  type TokenVerifier,
  textField,
} from '@jwt-handoff/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientRegistration, Server1Config } from '../config.js';
import type { SignOut } from '../logout/sign-out.js';
import type { SessionManager, SignedIn } from '../session/session-manager.js';
import { endSessionConfirmPage } from '../views/pages.js';

/** Where a client sends the browser to sign out of server1 too (RP-initiated logout). */
export const END_SESSION_PATH = '/logout/end-session';

/** What the end-session routes use. */
export interface EndSessionRouteOptions {
  config: Pick<Server1Config, 'clients' | 'publicUrl'>;
  sessions: Pick<SessionManager, 'current' | 'end'>;
  signOut: Pick<SignOut, 'session'>;
  /** The verifier of `logout_hint+jwt` for one client (its aud), against server1's own published keys. */
  logoutHintVerifier: (clientId: string) => TokenVerifier<LogoutHintClaims>;
}

const STATE_PATTERN = /^[\x21-\x7e]{1,512}$/;

interface EndSessionRequest {
  readonly client: ClientRegistration;
  readonly redirectUri: string;
  readonly state: string | undefined;
}

/**
 * GET and POST /logout/end-session: a client's "sign out of everything" (docs/design.md section 2,
 * RP-initiated logout, shaped like OpenID Connect RP-Initiated Logout 1.0). The client, its
 * `post_logout_redirect_uri` (registered exactly for that client) and the `state` are checked
 * first; anything wrong there is a 400 page and never a redirect, as at /handoff/authorize.
 *
 * The GET ends the session at once only when `logout_hint` is a hint server1 signed for this
 * client and for the browser's current session; anything else (no hint, a forged, expired or
 * foreign one) gets a confirmation page whose form (with the session's CSRF token) is the POST.
 * A cross-site link can thus never end a session silently. Either way the session's other
 * clients hear of it through the back-channel, and the browser goes back to the client with
 * its state.
 */
export async function endSessionRoutes(app: FastifyInstance, options: EndSessionRouteOptions): Promise<void> {
  const { config, sessions, signOut, logoutHintVerifier } = options;

  const parse = (fields: Readonly<Record<string, unknown>>): EndSessionRequest => {
    const client = config.clients.find((candidate) => candidate.id === fields.client_id);
    if (!client) throw new AppError('invalid_client', 'This sign-out link names an unknown service.');
    const redirectUri = fields.post_logout_redirect_uri;
    if (typeof redirectUri !== 'string' || !client.postLogoutRedirectUris.includes(redirectUri)) {
      throw new AppError(
        'invalid_post_logout_redirect_uri',
        'This sign-out link has a return address that is not registered for this service.',
      );
    }
    const state = fields.state;
    if (state !== undefined && (typeof state !== 'string' || !STATE_PATTERN.test(state)))
      throw new AppError('invalid_request', 'This sign-out link has a malformed state parameter.');
    return { client, redirectUri, state };
  };

  const finish = async (request: FastifyRequest, reply: FastifyReply, target: EndSessionRequest) => {
    const ended = await sessions.end(request, reply);
    if (ended) await signOut.session(ended);
    const back = new URL(target.redirectUri);
    if (target.state !== undefined) back.searchParams.set('state', target.state);
    return reply.header('cache-control', 'no-store').redirect(back.href, 303);
  };

  /** Why the hint does not let the GET end `signedIn` without asking, or undefined when it does. */
  const hintProblem = async (
    hint: string | undefined,
    client: ClientRegistration,
    signedIn: SignedIn,
  ): Promise<ReasonCode | undefined> => {
    if (hint === undefined || hint === '') return 'logout_hint_missing';
    // The verifier checks iss (server1 itself), aud (this client), typ, expiry and the signature.
    const result = await logoutHintVerifier(client.id)(hint);
    if (!result.ok) return result.reason;
    const { claims } = result;
    // A genuine hint of another session (or user) of this client must not end this one.
    if (claims.sid !== signedIn.session.sid || claims.sub !== signedIn.user.id) return 'logout_hint_mismatch';
    return undefined;
  };

  app.get(END_SESSION_PATH, { config: { html: true } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const target = parse(query);
    const signedIn = await sessions.current(request);
    // Nothing to end: straight back to the client, which registered this address.
    if (!signedIn) return finish(request, reply, target);
    const problem = await hintProblem(textField(query, 'logout_hint'), target.client, signedIn);
    if (problem === undefined) return finish(request, reply, target);
    request.log.info({ reason: problem, client: target.client.id }, 'end-session needs confirmation');
    reply.header('cache-control', 'no-store');
    return sendPage(
      reply,
      endSessionConfirmPage({
        clientName: target.client.name,
        clientId: target.client.id,
        redirectUri: target.redirectUri,
        state: target.state,
        signOutToken: signedIn.signOutToken,
        reason: problem,
      }),
    );
  });

  app.post(END_SESSION_PATH, { config: { html: true } }, async (request, reply) => {
    requireSignOutForm(request, config.publicUrl, (await sessions.current(request))?.signOutToken);
    const fields = (request.body ?? {}) as Record<string, unknown>;
    return finish(request, reply, parse(fields));
  });
}
