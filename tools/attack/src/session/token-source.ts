import { CannotTestError } from '../cannot-test.js';
import type { Deployment } from '../deployment.js';
import type { Browser } from '../http/browser.js';
import type { HttpResponse } from '../http/recording-client.js';
import { complete, formPostOf, postToken, startHandoff, unexpectedStep } from './handoff-walk.js';
import { type Credentials, submitSignIn } from './server1-sign-in.js';

/**
 * Real tokens, minted by server1 through the attacker's own server1 session: the attacker asks
 * server1's authorize endpoint for a token bound to any state it likes (its own, or one it read
 * from another browser's handoff start), and reads the token off the form_post page.
 */
export class TokenSource {
  constructor(
    private readonly deployment: Deployment,
    private readonly attacker: Browser,
    private readonly credentials: Credentials,
  ) {}

  /** The state server2 gives `browser` for a new handoff (its state cookie now holds it). */
  async stateOf(browser: Browser, returnTo = '/'): Promise<string> {
    const started = await startHandoff(browser, this.deployment.server2, returnTo);
    if (!started) throw new CannotTestError('server2 /handoff/start did not start a handoff');
    return started.state;
  }

  /** A real token for `state`, addressed to server2 (or to another client). */
  async forState(
    state: string,
    client: { id: string; redirectUri: string } = {
      id: this.deployment.clientId,
      redirectUri: this.deployment.callbackUrl,
    },
  ): Promise<string> {
    const url = new URL(this.deployment.authorizeEndpoint);
    url.search = new URLSearchParams({
      client_id: client.id,
      redirect_uri: client.redirectUri,
      state,
    }).toString();
    let page: HttpResponse = await this.attacker.get(url.href);
    // A forced sign-out (an attack that got through) may have ended the attacker's own session.
    if (page.status === 303 && new URL(page.headers.location ?? '/', page.url).pathname.endsWith('/login')) {
      const loginPage = await this.attacker.get(new URL(page.headers.location as string, page.url).href);
      page = await this.attacker.follow(await submitSignIn(this.attacker, loginPage, this.credentials));
    }
    const formPost = formPostOf(page);
    if (!formPost) throw new CannotTestError(unexpectedStep('server1 minted no token', page));
    return formPost.token;
  }

  /** A real, unused token bound to a fresh state of the attacker's own browser. */
  async fresh(): Promise<string> {
    return this.forState(await this.stateOf(this.attacker));
  }

  /** Signs `browser` in to server2 with a token for its own state; resolves with /handoff/complete's answer. */
  async signIn(browser: Browser): Promise<HttpResponse> {
    const token = await this.forState(await this.stateOf(browser));
    const callback = await postToken(browser, this.deployment.callbackUrl, token);
    const completion = await complete(browser, callback);
    if (!completion) throw new CannotTestError(unexpectedStep('server2 refused a real token', callback));
    return completion;
  }
}
