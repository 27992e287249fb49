import { naiveHandoffRoutes } from './naive-handoff.js';
import { soundHandoffVerifier } from './naive-verify.js';
import { type BrokenAppOptions, buildRelyingApp } from './relying-app.js';

/**
 * BROKEN (3): /handoff/complete does not compare the browser's state with the token's nonce, so
 * a token started in the attacker's browser completes in the victim's (login CSRF).
 */
export async function buildStateCheckRemovedApp(options: BrokenAppOptions) {
  return buildRelyingApp(options, {
    prefix: '/plugin',
    routes(app) {
      naiveHandoffRoutes(app, {
        ...options,
        verify: soundHandoffVerifier(app.relyingParty),
        checkState: false,
      });
    },
  });
}
