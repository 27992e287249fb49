import type { AttackerListener } from './attacker-listener.js';
import type { Deployment } from './deployment.js';
import type { Forger } from './forge.js';
import type { Browser } from './http/browser.js';
import type { RecordingClient } from './http/recording-client.js';
import type { Credentials } from './session/server1-sign-in.js';
import type { TokenSource } from './session/token-source.js';

/** Settings of a run that attacks read. */
export interface AttackSettings {
  readonly credentials: Credentials;
  /** The clock leeway the deployment is assumed to allow, in seconds (the documented default, 5). */
  readonly leewaySec: number;
  /** The longest the run waits for a token to expire, in seconds. */
  readonly maxWaitSec: number;
}

/** Everything an attack works with. */
export interface AttackContext {
  readonly deployment: Deployment;
  readonly http: RecordingClient;
  /** The attacker's browser: signed in to server1 and server2 as the given user. */
  readonly attacker: Browser;
  readonly tokens: TokenSource;
  readonly forge: Forger;
  readonly listener: AttackerListener;
  readonly settings: AttackSettings;
  /** A real token minted right after sign-in and never posted, to be posted once it has expired. */
  readonly expiring: string;
  /** A new browser with an empty cookie jar. */
  newBrowser(): Browser;
}
