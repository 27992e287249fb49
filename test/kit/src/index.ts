export { Browser, type Page } from './browser.js';
export { withOverrides } from './claims.js';
export { CookieJar } from './cookie-jar.js';
export { type HandoffRun, handoff } from './flows.js';
export { findForm, type ParsedForm, parseForms } from './html-form.js';
export { within } from './polling.js';
export {
  freePort,
  type PairOptions,
  type ServicePair,
  type ServiceProcess,
  startPair,
  startService,
  tempDir,
} from './service-process.js';
export { type E2eTarget, e2eTarget } from './targets.js';
