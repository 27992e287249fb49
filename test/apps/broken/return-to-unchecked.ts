import { naiveHandoffRoutes } from './naive-handoff.js';
import { soundHandoffVerifier } from './naive-verify.js';
import { type BrokenAppOptions, buildRelyingApp } from './relying-app.js';

/**
 * BROKEN (4): /handoff/start keeps return_to as given, and /handoff/complete redirects to it: an
 * open redirect behind a real sign-in.
 */
export async function buildReturnToUncheckedApp(options: BrokenAppOptions) {
  return buildRelyingApp(options, {
    prefix: '/plugin',
    routes(app) {
      naiveHandoffRoutes(app, {
        ...options,
        verify: soundHandoffVerifier(app.relyingParty),
        checkReturnTo: false,
      });
    },
  });
}
